"""Appeals on the workstation (table 9, functions 19 and 20): register an appeal linked to the
customer, list and read them within the viewer's lines, move them through the status machine
with history, keep the automatic deadline reminders in step, list the overdue ones."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from callcenter.common.access import (
    AccessDenied,
    Actor,
    Clock,
    Conflict,
    InvalidInput,
    NotFound,
    Sessions,
    UseCases,
    viewer_for,
)
from callcenter.domain import deadlines
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus
from callcenter.domain.deadlines import AppealRuleError, AppealTimeline, DeadlineStage
from callcenter.domain.reminders import ReminderKind
from callcenter.domain.visibility import Viewer, appeal_lines_visible, can_access_appeal
from callcenter.ports.queries import AppealFilter, AppealScope
from callcenter.ports.records import Appeal, AppealStatusHistory, AppealTopic
from callcenter.ports.stores import StoreConflict, Stores

DEFAULT_TIMEZONE = ZoneInfo("Europe/Moscow")
MAX_REQUEST_AGE = timedelta(days=366)  # older dates are typos (1900-01-01)
_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class AppealDraft:
    text: str
    channel: AppealChannel = AppealChannel.PHONE
    kind: AppealKind = AppealKind.QUESTION
    topic_id: int | None = None
    topic_code: str | None = None
    customer_id: int | None = None
    call_id: uuid.UUID | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    # owner; only supervisors and administrators may name someone else (operators own theirs)
    operator_id: int | None = None
    # a callback's 30 minutes run from the customer's request; default: registration time
    requested_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AppealView:
    appeal: Appeal
    topic: AppealTopic | None
    owner_line: int | None
    overdue: list[DeadlineStage]
    allowed_transitions: list[AppealStatus]
    history: Sequence[AppealStatusHistory] = field(default_factory=list)


def timeline_of(appeal: Appeal) -> AppealTimeline:
    return AppealTimeline(
        kind=AppealKind(appeal.kind),
        status=AppealStatus(appeal.status),
        registered_at=appeal.created_at,
        handoff_due_at=appeal.handoff_due_at,
        answer_due_at=appeal.answer_due_at,
        extended_until=appeal.extended_until,
    )


class AppealsService(UseCases):
    def __init__(
        self, sessions: Sessions, *, clock: Clock, local_tz: tzinfo = DEFAULT_TIMEZONE
    ) -> None:
        super().__init__(sessions, clock=clock)
        # appeal numbers carry the local date the customer sees (e.g. 20250114-0007)
        self._local_tz = local_tz

    # ---- reading ----

    async def topics(self) -> Sequence[AppealTopic]:
        async with self._sessions() as tx:
            return await tx.appeals.topics()

    async def get(self, actor: Actor, appeal_id: uuid.UUID) -> AppealView:
        async with self.transaction(actor) as tx:
            appeal, line = await self.load_visible(tx, actor, appeal_id, action="read")
            return await self._view(tx, appeal, line, with_history=True)

    async def search(self, actor: Actor, flt: AppealFilter) -> tuple[list[AppealView], int]:
        async with self.transaction(actor) as tx:
            scope = _scope(await viewer_for(tx, actor))
            appeals = await tx.appeal_search.search(scope, flt)
            total = await tx.appeal_search.count(scope, flt)
            views = [await self._view(tx, a, None) for a in appeals]
            return views, total

    async def overdue(self, actor: Actor) -> list[AppealView]:
        async with self.transaction(actor) as tx:
            scope = _scope(await viewer_for(tx, actor))
            appeals = await tx.appeal_search.overdue(scope, self.now())
            return [await self._view(tx, a, None) for a in appeals]

    # ---- changing ----

    async def register(self, actor: Actor, draft: AppealDraft) -> AppealView:
        """Register the appeal with its deadlines, history and automatic reminders.

        Two registrations may race for the day's next number; the loser retries.
        """
        for attempt in range(1, _NUMBER_ATTEMPTS + 1):
            try:
                return await self._register_once(actor, draft)
            except StoreConflict:
                if attempt == _NUMBER_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def _register_once(self, actor: Actor, draft: AppealDraft) -> AppealView:
        now = self.now()
        if not draft.text.strip():
            raise InvalidInput("Текст обращения пуст: опишите, что спросил или сообщил клиент")
        async with self.transaction(actor) as tx:
            topic = await self._topic(tx, draft)
            await self._check_links(tx, draft)
            owner = await self._owner(tx, actor, draft)
            kind = draft.kind
            if kind is not AppealKind.CALLBACK and topic is not None and topic.is_complaint:
                kind = AppealKind.COMPLAINT
            start = draft.requested_at or now
            if start.tzinfo is None or start > now:
                raise InvalidInput("Время обращения клиента не может быть в будущем")
            start = start.astimezone(UTC)
            if start < now - MAX_REQUEST_AGE:
                raise InvalidInput(
                    "Время обращения клиента — не раньше чем год назад; проверьте дату"
                )
            due = deadlines.initial_deadlines(kind, start)
            number = await tx.appeals.next_number(now.astimezone(self._local_tz).date())
            appeal = await tx.appeals.create(
                number=number,
                channel=draft.channel,
                created_at=start,
                kind=kind,
                text=draft.text.strip(),
                customer_id=draft.customer_id,
                call_id=draft.call_id,
                topic_id=topic.id if topic is not None else None,
                operator_id=owner,
                handoff_due_at=due.handoff_due_at,
                answer_due_at=due.answer_due_at,
                params=draft.params,
                registered_by=actor.user_id,
            )
            await self._reschedule_reminders(tx, appeal, actor)
            await self.audit(
                tx,
                actor,
                "appeal.register",
                object_type="appeal",
                object_id=appeal.id,
                details={
                    "number": appeal.number,
                    "kind": kind.value,
                    "customer_id": draft.customer_id,
                    "topic": topic.code if topic is not None else None,
                },
            )
            line = await tx.appeal_search.owner_line(appeal)
            return await self._view(tx, appeal, line, with_history=True)

    async def change_status(
        self,
        actor: Actor,
        appeal_id: uuid.UUID,
        to_status: AppealStatus,
        *,
        comment: str = "",
        assign_to_operator_id: int | None = None,
    ) -> AppealView:
        now = self.now()
        async with self.transaction(actor) as tx:
            appeal, _ = await self.load_visible(tx, actor, appeal_id, action="change_status")
            timeline = timeline_of(appeal)
            try:
                deadlines.check_transition(timeline, to_status, reason=comment)
            except AppealRuleError as exc:
                raise Conflict(str(exc)) from None
            from_status = AppealStatus(appeal.status)
            if assign_to_operator_id is not None:
                if to_status is not AppealStatus.HANDED_OFF:
                    raise InvalidInput("Назначить исполнителя можно только при передаче")
                assignee = await tx.operators.get(assign_to_operator_id)
                if assignee is None or not assignee.is_active:
                    raise InvalidInput(f"Нет активного оператора с id {assign_to_operator_id}")
                appeal.operator_id = assignee.id
            if to_status is AppealStatus.HANDED_OFF:
                appeal.answer_due_at = deadlines.answer_due_after_handoff(timeline, now)
            elif to_status is AppealStatus.EXTENDED:
                appeal.extended_until = deadlines.extended_deadline(timeline)
            elif to_status is AppealStatus.IN_PROGRESS and appeal.operator_id is None:
                # an unassigned appeal becomes the appeal of whoever starts working on it
                appeal.operator_id = actor.operator_id
            await tx.appeals.change_status(
                appeal, to_status, at=now, changed_by=actor.user_id, comment=comment
            )
            await self._reschedule_reminders(tx, appeal, actor)
            await self.audit(
                tx,
                actor,
                "appeal.status_change",
                object_type="appeal",
                object_id=appeal.id,
                details={
                    "number": appeal.number,
                    "from": from_status.value,
                    "to": to_status.value,
                    "comment": comment,
                    "operator_id": appeal.operator_id,
                },
            )
            line = await tx.appeal_search.owner_line(appeal)
            return await self._view(tx, appeal, line, with_history=True)

    async def edit(self, actor: Actor, appeal_id: uuid.UUID, *, text: str) -> AppealView:
        """Correct the appeal's text (a typo, a detail the caller added); the old text goes to
        the audit log. A closed appeal is not edited."""
        text = text.strip()
        if not text:
            raise InvalidInput("Текст обращения не может быть пустым")
        async with self.transaction(actor) as tx:
            appeal, line = await self.load_visible(tx, actor, appeal_id, action="edit")
            if appeal.status is AppealStatus.CLOSED:
                raise Conflict(f"Обращение {appeal.number} закрыто; текст не меняется")
            before = appeal.text
            appeal.text = text
            await tx.flush()
            await self.audit(
                tx,
                actor,
                "appeal.edit",
                object_type="appeal",
                object_id=appeal.id,
                details={"number": appeal.number, "text_before": before},
            )
            return await self._view(tx, appeal, line, with_history=True)

    async def merge_params(
        self,
        tx: Stores,
        actor: Actor,
        appeal_id: uuid.UUID,
        params: Mapping[str, Any],
    ) -> Appeal:
        """Merge call parameters (from a script) into the appeal, inside the caller's
        transaction; a closed appeal keeps its parameters as they were."""
        appeal, _ = await self.load_visible(tx, actor, appeal_id, action="save_params")
        if appeal.status is AppealStatus.CLOSED:
            raise Conflict(f"Обращение {appeal.number} закрыто; параметры не меняются")
        appeal.params = {**appeal.params, **params}  # a new dict: JSON columns track assignment
        await tx.flush()
        return appeal

    # ---- helpers ----

    async def load_visible(
        self, tx: Stores, actor: Actor, appeal_id: uuid.UUID, *, action: str
    ) -> tuple[Appeal, int | None]:
        appeal = await tx.appeals.get(appeal_id)
        if appeal is None:
            raise NotFound(f"Обращение {appeal_id} не найдено")
        line = await tx.appeal_search.owner_line(appeal)
        viewer = await viewer_for(tx, actor)
        if not can_access_appeal(viewer, owner_operator_id=appeal.operator_id, owner_line=line):
            raise AccessDenied(
                f"Обращение {appeal.number} относится к другой линии поддержки",
                action=f"appeal.{action}",
                object_type="appeal",
                object_id=str(appeal.id),
            )
        return appeal, line

    async def _view(
        self, tx: Stores, appeal: Appeal, line: int | None, *, with_history: bool = False
    ) -> AppealView:
        topic = None
        if appeal.topic_id is not None:
            topic = await tx.appeals.get_topic(appeal.topic_id)
        if line is None and appeal.operator_id is not None:
            line = await tx.appeal_search.owner_line(appeal)
        timeline = timeline_of(appeal)
        history = await tx.appeals.history(appeal.id) if with_history else []
        return AppealView(
            appeal=appeal,
            topic=topic,
            owner_line=line,
            overdue=deadlines.overdue_stages(timeline, self.now()),
            allowed_transitions=deadlines.allowed_transitions(timeline),
            history=history,
        )

    async def _topic(self, tx: Stores, draft: AppealDraft) -> AppealTopic | None:
        if draft.topic_id is not None:
            topic = await tx.appeals.get_topic(draft.topic_id)
            if topic is None:
                raise InvalidInput(f"Нет темы обращения с id {draft.topic_id}")
            return topic
        if draft.topic_code is not None:
            topic = await tx.appeals.topic_by_code(draft.topic_code)
            if topic is None:
                raise InvalidInput(f"Нет темы обращения с кодом «{draft.topic_code}»")
            return topic
        return None

    async def _check_links(self, tx: Stores, draft: AppealDraft) -> None:
        if draft.customer_id is not None and (await tx.customers.get(draft.customer_id) is None):
            raise InvalidInput(f"Нет клиента с id {draft.customer_id}")
        if draft.call_id is not None and await tx.calls.get(draft.call_id) is None:
            raise InvalidInput(f"Нет звонка с id {draft.call_id}")

    async def _owner(self, tx: Stores, actor: Actor, draft: AppealDraft) -> int | None:
        if not actor.is_supervisor:
            if draft.operator_id is not None and draft.operator_id != actor.operator_id:
                raise AccessDenied(
                    "Оператор регистрирует обращения только на себя",
                    action="appeal.register_for_other",
                    object_type="operator",
                    object_id=str(draft.operator_id),
                )
            return actor.operator_id
        if draft.operator_id is None:
            return None
        operator = await tx.operators.get(draft.operator_id)
        if operator is None or not operator.is_active:
            raise InvalidInput(f"Нет активного оператора с id {draft.operator_id}")
        return operator.id

    async def _reschedule_reminders(self, tx: Stores, appeal: Appeal, actor: Actor) -> None:
        """Automatic reminders always follow the appeal's current deadlines: the pending ones
        are replaced whenever the status (and so the deadlines or the owner) changes."""
        await tx.reminders.delete_pending_automatic(appeal.id)
        recipient = actor.user_id
        if appeal.operator_id is not None:
            owner = await tx.users.get_by_operator(appeal.operator_id)
            if owner is not None:
                recipient = owner.id
        now = self.now()
        for pending in deadlines.pending_deadlines(timeline_of(appeal)):
            for moment in deadlines.reminder_times(pending.starts_at, pending.due_at, now=now):
                await tx.reminders.create(
                    user_id=recipient,
                    due_at=moment,
                    text=deadlines.reminder_text(
                        appeal.number, pending.stage, pending.due_at - moment
                    ),
                    kind=ReminderKind.AUTOMATIC,
                    created_at=now,
                    appeal_id=appeal.id,
                )


def _scope(viewer: Viewer) -> AppealScope:
    return AppealScope(lines=appeal_lines_visible(viewer), operator_id=viewer.operator_id)
