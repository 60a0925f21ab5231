"""Colleagues and queues (table 9, functions 15 and 17).

Who sees whom: line 1 sees lines 1 and 2, line 2 sees line 2, line 3 sees line 3 (the
standard is silent on line 3; its specialists see each other), supervisors and
administrators see every line.
"""

from __future__ import annotations

from fastapi import APIRouter

from callcenter.api.schemas.operators import (
    OperatorStateOut,
    QueueOut,
    StateBoardOut,
)
from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    OperatorsViewDep,
    WorkstationRoute,
)

router = APIRouter(
    prefix="/api/v1",
    tags=["operators"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


@router.get(
    "/operators/states",
    response_model=StateBoardOut,
    summary="States of the operators my line may watch",
)
async def states(actor: ActorDep, view: OperatorsViewDep) -> StateBoardOut:
    board = await view.states(actor)
    return StateBoardOut(
        lines=board.lines,
        operators=[
            OperatorStateOut(
                operator_id=v.operator.id,
                extension=v.operator.extension,
                full_name=v.operator.full_name,
                support_line=v.operator.support_line,
                state=v.state,
                since=v.since,
                pause_reason=v.pause_reason,
            )
            for v in board.operators
        ],
    )


@router.get("/queues/list", response_model=list[QueueOut], summary="The call queues")
async def queues(actor: ActorDep, view: OperatorsViewDep) -> list[QueueOut]:
    return [
        QueueOut(
            id=q.queue.id,
            name=q.queue.name,
            support_line=q.queue.support_line,
            description=q.queue.description,
            strategy=q.queue.strategy,
            wait_target_seconds=q.queue.wait_target_seconds,
            is_overflow=q.queue.is_overflow,
            members=q.members,
            member_states=q.member_states,
        )
        for q in await view.queues(actor)
    ]
