"""Reminders (table 9, function 20): the signed-in user's own, set by hand or created by the
system for appeal deadlines."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, RemindersDep, WorkstationRoute
from callcenter.domain.reminders import ReminderKind

router = APIRouter(
    prefix="/api/v1/reminders",
    tags=["reminders"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


class ReminderIn(BaseModel):
    due_at: AwareDatetime = Field(description="in the future, within a year")
    text: str = Field(max_length=2000)
    appeal_id: uuid.UUID | None = Field(default=None, description="the appeal it is about")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "due_at": "2030-11-23T10:00:00+03:00",
                    "text": "Перезвонить Иванову по перерасчёту",
                    "appeal_id": "0b7f7f0e-6f0c-4a4e-8d0e-3f3d2a1b9c55",
                }
            ]
        }
    )


class ReminderOut(BaseModel):
    id: int
    due_at: datetime
    text: str
    kind: ReminderKind = Field(description="automatic: an appeal deadline; manual: set by hand")
    appeal_id: uuid.UUID | None
    created_at: datetime
    done_at: datetime | None

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 41,
                    "due_at": "2025-11-23T21:30:00Z",
                    "text": "Обращение 20251123-0007: до срока передачи специалисту осталось 12 ч",
                    "kind": "automatic",
                    "appeal_id": "0b7f7f0e-6f0c-4a4e-8d0e-3f3d2a1b9c55",
                    "created_at": "2025-11-23T09:30:00Z",
                    "done_at": None,
                }
            ]
        },
    )


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    total: int


@router.get("", response_model=ReminderPage, summary="My reminders, soonest first")
async def mine(
    actor: ActorDep,
    reminders: RemindersDep,
    include_done: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReminderPage:
    page = await reminders.mine(actor, include_done=include_done, limit=limit, offset=offset)
    return ReminderPage(items=[ReminderOut.model_validate(r) for r in page.items], total=page.total)


@router.get("/due", response_model=list[ReminderOut], summary="My reminders due now, not done")
async def due(actor: ActorDep, reminders: RemindersDep) -> list[ReminderOut]:
    return [ReminderOut.model_validate(r) for r in await reminders.due(actor)]


@router.post(
    "",
    response_model=ReminderOut,
    status_code=status.HTTP_201_CREATED,
    summary="Set a reminder for myself",
)
async def create(body: ReminderIn, actor: ActorDep, reminders: RemindersDep) -> ReminderOut:
    reminder = await reminders.create(
        actor, due_at=body.due_at, text=body.text, appeal_id=body.appeal_id
    )
    return ReminderOut.model_validate(reminder)


@router.post("/{reminder_id}/done", response_model=ReminderOut, summary="Mark my reminder done")
async def done(reminder_id: int, actor: ActorDep, reminders: RemindersDep) -> ReminderOut:
    return ReminderOut.model_validate(await reminders.mark_done(actor, reminder_id))
