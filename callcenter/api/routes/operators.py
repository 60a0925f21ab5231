"""Colleagues and queues (table 9, functions 15 and 17).

Who sees whom: line 1 sees lines 1 and 2, line 2 sees line 2, line 3 sees line 3 (the
standard is silent on line 3; its specialists see each other), supervisors and
administrators see every line.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    OperatorsViewDep,
    WorkstationRoute,
)
from callcenter.domain.agents import OperatorState
from callcenter.domain.queues import QueueStrategy

router = APIRouter(
    prefix="/api/v1",
    tags=["operators"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


class OperatorStateOut(BaseModel):
    operator_id: int
    extension: str
    full_name: str
    support_line: int
    state: OperatorState
    since: datetime | None = Field(description="when the state began; empty: never logged in")
    pause_reason: str | None


class StateBoardOut(BaseModel):
    lines: list[int] = Field(description="the support lines the signed-in user may watch")
    operators: list[OperatorStateOut]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lines": [1, 2],
                    "operators": [
                        {
                            "operator_id": 1,
                            "extension": "101",
                            "full_name": "Смирнова Ольга Викторовна",
                            "support_line": 1,
                            "state": "on_call",
                            "since": "2025-11-23T09:28:00Z",
                            "pause_reason": None,
                        }
                    ],
                }
            ]
        }
    )


class QueueOut(BaseModel):
    id: int
    name: str
    support_line: int | None
    description: str
    strategy: QueueStrategy
    wait_target_seconds: int
    is_overflow: bool
    members: int
    member_states: dict[OperatorState, int] = Field(description="members by their current state")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "line1",
                    "support_line": 1,
                    "description": "Отключения, качество электроэнергии, контакты",
                    "strategy": "leastrecent",
                    "wait_target_seconds": 40,
                    "is_overflow": False,
                    "members": 8,
                    "member_states": {"ready": 3, "on_call": 4, "paused": 1},
                }
            ]
        }
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
