"""Reminders (table 9, function 20): the signed-in user's own, set by hand or created by the
system for appeal deadlines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from callcenter.api.schemas.reminders import (
    ReminderIn,
    ReminderOut,
    ReminderPage,
)
from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, RemindersDep, WorkstationRoute

router = APIRouter(
    prefix="/api/v1/reminders",
    tags=["reminders"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


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
