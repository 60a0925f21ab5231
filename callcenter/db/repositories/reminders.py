"""Operator reminders: appeal deadlines (automatic) and the operator's own (manual)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Reminder
from callcenter.domain.reminders import ReminderKind


async def get(session: AsyncSession, reminder_id: int) -> Reminder | None:
    return await session.get(Reminder, reminder_id)


async def create(
    session: AsyncSession,
    *,
    user_id: int,
    due_at: datetime,
    text: str,
    kind: ReminderKind,
    created_at: datetime,
    appeal_id: uuid.UUID | None = None,
) -> Reminder:
    reminder = Reminder(
        user_id=user_id,
        due_at=due_at,
        text=text,
        kind=kind,
        created_at=created_at,
        appeal_id=appeal_id,
    )
    session.add(reminder)
    await session.flush()
    return reminder


async def list_for_user(
    session: AsyncSession,
    user_id: int,
    *,
    include_done: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[Reminder]:
    """The user's reminders, soonest first."""
    stmt = select(Reminder).where(Reminder.user_id == user_id)
    if not include_done:
        stmt = stmt.where(Reminder.done_at.is_(None))
    stmt = stmt.order_by(Reminder.due_at, Reminder.id).limit(limit).offset(offset)
    return list(await session.scalars(stmt))


async def count_for_user(session: AsyncSession, user_id: int, *, include_done: bool = False) -> int:
    stmt = select(func.count()).select_from(Reminder).where(Reminder.user_id == user_id)
    if not include_done:
        stmt = stmt.where(Reminder.done_at.is_(None))
    return await session.scalar(stmt) or 0


async def due_for_user(session: AsyncSession, user_id: int, now: datetime) -> list[Reminder]:
    """Reminders of the user that are due at `now` and not yet dealt with, oldest first."""
    stmt = (
        select(Reminder)
        .where(Reminder.user_id == user_id, Reminder.done_at.is_(None), Reminder.due_at <= now)
        .order_by(Reminder.due_at, Reminder.id)
    )
    return list(await session.scalars(stmt))


async def for_appeal(session: AsyncSession, appeal_id: uuid.UUID) -> list[Reminder]:
    stmt = select(Reminder).where(Reminder.appeal_id == appeal_id).order_by(Reminder.due_at)
    return list(await session.scalars(stmt))


async def mark_done(session: AsyncSession, reminder: Reminder, at: datetime) -> Reminder:
    if reminder.done_at is None:
        reminder.done_at = at
        await session.flush()
    return reminder


async def delete_pending_automatic(session: AsyncSession, appeal_id: uuid.UUID) -> int:
    """Drop the appeal's automatic reminders not yet dealt with (its deadlines changed)."""
    stmt = delete(Reminder).where(
        Reminder.appeal_id == appeal_id,
        Reminder.kind == ReminderKind.AUTOMATIC,
        Reminder.done_at.is_(None),
    )
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
