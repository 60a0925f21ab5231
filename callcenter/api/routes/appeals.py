"""Appeals (table 9, function 19; SPEC section 3): register linked to the customer, list and
filter, read with history, change status, the overdue list, the topic classifier."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.schemas.appeals import (
    _TOPIC_EXAMPLE,
    AppealEditIn,
    AppealIn,
    StatusChangeIn,
    StatusHistoryOut,
    TopicOut,
)
from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    AppealsDep,
    WorkstationRoute,
)
from callcenter.common.access import InvalidInput
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus
from callcenter.domain.deadlines import DeadlineStage
from callcenter.ports.queries import AppealFilter
from callcenter.ports.records import AppealStatusHistory, AppealTopic
from callcenter.workstation.appeals import AppealDraft, AppealView

router = APIRouter(
    prefix="/api/v1/appeals",
    tags=["appeals"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


class AppealOut(BaseModel):
    id: uuid.UUID
    number: str
    status: AppealStatus
    kind: AppealKind
    channel: AppealChannel
    text: str
    customer_id: int | None
    call_id: uuid.UUID | None
    topic: TopicOut | None
    operator_id: int | None
    owner_line: int | None = Field(description="support line of the owner; empty: unassigned")
    created_at: datetime
    handoff_due_at: datetime | None
    answer_due_at: datetime | None
    extended_until: datetime | None
    closed_at: datetime | None
    params: dict[str, Any]
    overdue: list[DeadlineStage] = Field(description="stages whose deadline has passed")
    allowed_transitions: list[AppealStatus]
    history: list[StatusHistoryOut] = Field(
        default_factory=list, description="filled when a single appeal is read or changed"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7f7f0e-6f0c-4a4e-8d0e-3f3d2a1b9c55",
                    "number": "20251123-0007",
                    "status": "registered",
                    "kind": "question",
                    "channel": "phone",
                    "text": "Нет света с 8 утра, ул. Луговая, 5",
                    "customer_id": 17,
                    "call_id": None,
                    "topic": _TOPIC_EXAMPLE,
                    "operator_id": 4,
                    "owner_line": 1,
                    "created_at": "2025-11-23T09:30:00Z",
                    "handoff_due_at": "2025-11-24T09:30:00Z",
                    "answer_due_at": "2025-12-04T09:30:00Z",
                    "extended_until": None,
                    "closed_at": None,
                    "params": {"outage_since": "08:00"},
                    "overdue": [],
                    "allowed_transitions": ["handed_off", "in_progress", "answered", "closed"],
                    "history": [
                        {
                            "from_status": None,
                            "to_status": "registered",
                            "changed_by": 12,
                            "at": "2025-11-23T09:30:00Z",
                            "comment": "",
                        }
                    ],
                }
            ]
        }
    )


class AppealPage(BaseModel):
    items: list[AppealOut]
    total: int
    limit: int
    offset: int


def _topic(topic: AppealTopic | None) -> TopicOut | None:
    return TopicOut.model_validate(topic) if topic is not None else None


def _history(rows: Sequence[AppealStatusHistory]) -> list[StatusHistoryOut]:
    return [StatusHistoryOut.model_validate(r) for r in rows]


def appeal_out(view: AppealView) -> AppealOut:
    a = view.appeal
    return AppealOut(
        id=a.id,
        number=a.number,
        status=a.status,
        kind=a.kind,
        channel=a.channel,
        text=a.text,
        customer_id=a.customer_id,
        call_id=a.call_id,
        topic=_topic(view.topic),
        operator_id=a.operator_id,
        owner_line=view.owner_line,
        created_at=a.created_at,
        handoff_due_at=a.handoff_due_at,
        answer_due_at=a.answer_due_at,
        extended_until=a.extended_until,
        closed_at=a.closed_at,
        params=dict(a.params),
        overdue=view.overdue,
        allowed_transitions=view.allowed_transitions,
        history=_history(view.history),
    )


@router.get("/topics", response_model=list[TopicOut], summary="The appeal topic classifier")
async def topics(_actor: ActorDep, appeals: AppealsDep) -> list[TopicOut]:
    return [TopicOut.model_validate(t) for t in await appeals.topics()]


@router.get(
    "/overdue",
    response_model=list[AppealOut],
    summary="Open appeals past a deadline, within the lines the user may see",
)
async def overdue(actor: ActorDep, appeals: AppealsDep) -> list[AppealOut]:
    return [appeal_out(v) for v in await appeals.overdue(actor)]


@router.get("", response_model=AppealPage, summary="Appeals the user may see, newest first")
async def list_appeals(
    actor: ActorDep,
    appeals: AppealsDep,
    status_: Annotated[AppealStatus | None, Query(alias="status")] = None,
    kind: AppealKind | None = None,
    topic_id: int | None = None,
    customer_id: int | None = None,
    number: str | None = None,
    mine: Annotated[bool, Query(description="only appeals the user's operator owns")] = False,
    open_only: Annotated[bool, Query(description="leave out answered and closed")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AppealPage:
    if mine and actor.operator_id is None:
        raise InvalidInput("«Мои обращения» есть только у оператора")
    flt = AppealFilter(
        status=status_,
        kind=kind,
        topic_id=topic_id,
        customer_id=customer_id,
        owner_operator_id=actor.operator_id if mine else None,
        number=number,
        open_only=open_only,
        limit=limit,
        offset=offset,
    )
    views, total = await appeals.search(actor, flt)
    return AppealPage(items=[appeal_out(v) for v in views], total=total, limit=limit, offset=offset)


@router.post(
    "",
    response_model=AppealOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register an appeal (deadlines and reminders are set automatically)",
)
async def register(body: AppealIn, actor: ActorDep, appeals: AppealsDep) -> AppealOut:
    draft = AppealDraft(
        text=body.text,
        channel=body.channel,
        kind=body.kind,
        topic_id=body.topic_id,
        topic_code=body.topic_code,
        customer_id=body.customer_id,
        call_id=body.call_id,
        params=body.params,
        operator_id=body.operator_id,
        requested_at=body.requested_at,
    )
    return appeal_out(await appeals.register(actor, draft))


@router.get("/{appeal_id}", response_model=AppealOut, summary="One appeal with its history")
async def get_appeal(appeal_id: uuid.UUID, actor: ActorDep, appeals: AppealsDep) -> AppealOut:
    return appeal_out(await appeals.get(actor, appeal_id))


@router.patch(
    "/{appeal_id}",
    response_model=AppealOut,
    summary="Correct the appeal's text (the old text is kept in the audit log)",
)
async def edit_appeal(
    appeal_id: uuid.UUID, body: AppealEditIn, actor: ActorDep, appeals: AppealsDep
) -> AppealOut:
    return appeal_out(await appeals.edit(actor, appeal_id, text=body.text))


@router.post(
    "/{appeal_id}/status",
    response_model=AppealOut,
    summary="Move the appeal to another status (recorded in its history)",
)
async def change_status(
    appeal_id: uuid.UUID, body: StatusChangeIn, actor: ActorDep, appeals: AppealsDep
) -> AppealOut:
    view = await appeals.change_status(
        actor,
        appeal_id,
        body.status,
        comment=body.comment,
        assign_to_operator_id=body.assign_to_operator_id,
    )
    return appeal_out(view)
