"""Reminders on the workstation (table 9, function 20): an operator's own reminders, set by
hand, next to the automatic ones the appeals service keeps for deadlines. A user sees and
dismisses only their own reminders."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from callcenter.common.access import (
    AccessDenied,
    Actor,
    Clock,
    InvalidInput,
    NotFound,
    Sessions,
    UseCases,
)
from callcenter.domain.reminders import ReminderKind
from callcenter.ports.records import Reminder
from callcenter.workstation.appeals import AppealsService

MAX_TEXT = 2000
# a reminder further ahead than this is almost certainly a typo in the year
MAX_LATE = timedelta(minutes=1)  # a reminder set "for now" as the clock turns
MAX_AHEAD = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class ReminderPage:
    items: Sequence[Reminder]
    total: int


class RemindersService(UseCases):
    def __init__(self, sessions: Sessions, *, clock: Clock, appeals: AppealsService) -> None:
        super().__init__(sessions, clock=clock)
        self._appeals = appeals

    async def create(
        self, actor: Actor, *, due_at: datetime, text: str, appeal_id: uuid.UUID | None = None
    ) -> Reminder:
        now = self.now()
        text = text.strip()
        if not text:
            raise InvalidInput("Текст напоминания пуст")
        if len(text) > MAX_TEXT:
            raise InvalidInput(f"Текст напоминания длиннее {MAX_TEXT} символов")
        if due_at.tzinfo is None:
            raise InvalidInput("Время напоминания должно быть с часовым поясом")
        try:
            due_at = due_at.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the end of the calendar
            raise InvalidInput("Напоминание можно поставить не более чем на год вперёд") from None
        if due_at < now - MAX_LATE:
            raise InvalidInput("Время напоминания уже прошло")
        if due_at > now + MAX_AHEAD:
            raise InvalidInput("Напоминание можно поставить не более чем на год вперёд")
        async with self.transaction(actor) as tx:
            if appeal_id is not None:
                # a reminder about an appeal needs the right to see that appeal
                await self._appeals.load_visible(tx, actor, appeal_id, action="remind")
            reminder = await tx.reminders.create(
                user_id=actor.user_id,
                due_at=due_at,
                text=text,
                kind=ReminderKind.MANUAL,
                created_at=now,
                appeal_id=appeal_id,
            )
            await self.audit(
                tx,
                actor,
                "reminder.create",
                object_type="reminder",
                object_id=reminder.id,
                details={"due_at": due_at.isoformat(), "appeal_id": _str(appeal_id)},
            )
            return reminder

    async def mine(
        self, actor: Actor, *, include_done: bool = False, limit: int = 50, offset: int = 0
    ) -> ReminderPage:
        async with self._sessions() as tx:
            items = await tx.reminders.list_for_user(
                actor.user_id, include_done=include_done, limit=limit, offset=offset
            )
            total = await tx.reminders.count_for_user(actor.user_id, include_done=include_done)
            return ReminderPage(items=items, total=total)

    async def due(self, actor: Actor) -> Sequence[Reminder]:
        async with self._sessions() as tx:
            return await tx.reminders.due_for_user(actor.user_id, self.now())

    async def mark_done(self, actor: Actor, reminder_id: int) -> Reminder:
        async with self.transaction(actor) as tx:
            reminder = await tx.reminders.get(reminder_id)
            if reminder is None:
                raise NotFound(f"Напоминание {reminder_id} не найдено")
            if reminder.user_id != actor.user_id:
                raise AccessDenied(
                    f"Напоминание {reminder_id} не найдено",
                    action="reminder.done",
                    object_type="reminder",
                    object_id=str(reminder_id),
                    hidden=True,
                )
            already = reminder.done_at is not None
            await tx.reminders.mark_done(reminder, self.now())
            if not already:
                await self.audit(
                    tx, actor, "reminder.done", object_type="reminder", object_id=reminder.id
                )
            return reminder


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)
