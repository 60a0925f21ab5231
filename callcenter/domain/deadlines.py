"""Appeal deadlines and the appeal status machine (pure: every moment is passed in).

Where the numbers come from (service standard `002_*.txt`, section 5 and table 7):

    stage                                         limit
    registration, classification, hand-off        1 day    (operator)
    consideration and answer                      10 days  (specialist)
    extension of the consideration                10 days  (once)
    whole appeal                                  21 days  (= 1 + 10 + 10)
    complaints                                    14 days  (section 7, "срок принятия мер")
    callback promised "within 30 minutes"         30 min   (table 7, from the request)

Days are calendar days measured as exact 24-hour spans in UTC (the standard's tables say
"дней", not "рабочих дней"); a deadline is met when the work is done *at or before* it,
so an appeal is overdue only strictly after its deadline.

The specialist's 10 days start at the hand-off. Until the appeal is handed off the answer
deadline is provisional: registration + 1 day (latest allowed hand-off) + 10 days. The first
hand-off pulls it in to hand-off + 10 days, never beyond registration + 21 days. Complaints
keep their 14 days from registration whatever happens; callbacks keep their 30 minutes.

An extension is allowed once per appeal, adds at most 10 days, and never goes past
registration + 21 days. Callbacks cannot be extended: a promise of a call back within
30 minutes is kept or broken, not postponed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callcenter.domain.appeals import AppealKind, AppealStatus

HANDOFF_LIMIT = timedelta(days=1)
ANSWER_LIMIT = timedelta(days=10)
EXTENSION_LIMIT = timedelta(days=10)
TOTAL_LIMIT = timedelta(days=21)
COMPLAINT_LIMIT = timedelta(days=14)
CALLBACK_LIMIT = timedelta(minutes=30)

# When an operator is reminded of a deadline: at these shares of the time from the start of
# the stage to its deadline, and this long before the deadline. For a 1-day hand-off that is
# +12 h, +19 h 12 min and 1 h before; for a 10-day answer +5 d, +8 d and 1 h before; for a
# 30-minute callback +15 min and +24 min (one hour before would be before the promise).
REMINDER_SHARES: tuple[float, ...] = (0.5, 0.8)
REMINDER_LEADS: tuple[timedelta, ...] = (timedelta(hours=1),)

FINISHED_STATUSES = frozenset({AppealStatus.ANSWERED, AppealStatus.CLOSED})


class DeadlineStage(StrEnum):
    HANDOFF = "handoff"
    ANSWER = "answer"


class AppealRuleError(ValueError):
    """A change to an appeal that the standard's rules do not allow (the message is Russian)."""


class InvalidTransition(AppealRuleError):
    def __init__(self, from_status: AppealStatus, to_status: AppealStatus) -> None:
        self.from_status = from_status
        self.to_status = to_status
        super().__init__(
            f"Нельзя перевести обращение из статуса «{STATUS_NAMES_RU[from_status]}» "
            f"в статус «{STATUS_NAMES_RU[to_status]}»"
        )


class ExtensionNotAllowed(AppealRuleError):
    pass


class ReasonRequired(AppealRuleError):
    pass


STATUS_NAMES_RU: dict[AppealStatus, str] = {
    AppealStatus.REGISTERED: "зарегистрировано",
    AppealStatus.HANDED_OFF: "передано специалисту",
    AppealStatus.IN_PROGRESS: "в работе",
    AppealStatus.EXTENDED: "срок продлён",
    AppealStatus.ANSWERED: "ответ дан",
    AppealStatus.CLOSED: "закрыто",
}

# The status machine. REGISTERED -> IN_PROGRESS / ANSWERED covers what the operator settles
# without a specialist; IN_PROGRESS -> HANDED_OFF re-routes to another specialist. Closing
# an appeal that got no answer is for the cases where the standard says it is not considered
# (abuse, unreadable, repeated question, no contact data) and needs a reason.
TRANSITIONS: dict[AppealStatus, frozenset[AppealStatus]] = {
    AppealStatus.REGISTERED: frozenset(
        {
            AppealStatus.HANDED_OFF,
            AppealStatus.IN_PROGRESS,
            AppealStatus.ANSWERED,
            AppealStatus.CLOSED,
        }
    ),
    AppealStatus.HANDED_OFF: frozenset(
        {
            AppealStatus.IN_PROGRESS,
            AppealStatus.EXTENDED,
            AppealStatus.ANSWERED,
            AppealStatus.CLOSED,
        }
    ),
    AppealStatus.IN_PROGRESS: frozenset(
        {
            AppealStatus.HANDED_OFF,
            AppealStatus.EXTENDED,
            AppealStatus.ANSWERED,
            AppealStatus.CLOSED,
        }
    ),
    AppealStatus.EXTENDED: frozenset(
        {AppealStatus.IN_PROGRESS, AppealStatus.ANSWERED, AppealStatus.CLOSED}
    ),
    AppealStatus.ANSWERED: frozenset({AppealStatus.CLOSED}),
    AppealStatus.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Deadlines:
    handoff_due_at: datetime | None
    answer_due_at: datetime


@dataclass(frozen=True, slots=True)
class AppealTimeline:
    """What the deadline rules need to know about one appeal."""

    kind: AppealKind
    status: AppealStatus
    registered_at: datetime
    handoff_due_at: datetime | None
    answer_due_at: datetime | None
    extended_until: datetime | None = None

    @property
    def answer_deadline(self) -> datetime | None:
        """The deadline in force for the answer: the extended one once extended."""
        return self.extended_until or self.answer_due_at


@dataclass(frozen=True, slots=True)
class PendingDeadline:
    stage: DeadlineStage
    starts_at: datetime
    due_at: datetime


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def initial_deadlines(kind: AppealKind, registered_at: datetime) -> Deadlines:
    """Deadlines of an appeal registered at `registered_at` (for a callback: requested at)."""
    _aware(registered_at, "registered_at")
    if kind is AppealKind.CALLBACK:
        # the operator calls back themselves: there is no hand-off stage
        return Deadlines(handoff_due_at=None, answer_due_at=registered_at + CALLBACK_LIMIT)
    handoff = registered_at + HANDOFF_LIMIT
    if kind is AppealKind.COMPLAINT:
        return Deadlines(handoff_due_at=handoff, answer_due_at=registered_at + COMPLAINT_LIMIT)
    return Deadlines(handoff_due_at=handoff, answer_due_at=handoff + ANSWER_LIMIT)


def answer_due_after_handoff(timeline: AppealTimeline, handed_off_at: datetime) -> datetime | None:
    """The answer deadline once the appeal is handed off at `handed_off_at`.

    Only a question's first hand-off (from REGISTERED) starts the specialist's 10 days; a
    complaint, a callback, a re-routing or an extended appeal keeps its deadline.
    """
    _aware(handed_off_at, "handed_off_at")
    if (
        timeline.kind is not AppealKind.QUESTION
        or timeline.status is not AppealStatus.REGISTERED
        or timeline.extended_until is not None
    ):
        return timeline.answer_due_at
    return min(handed_off_at + ANSWER_LIMIT, timeline.registered_at + TOTAL_LIMIT)


def extended_deadline(timeline: AppealTimeline) -> datetime:
    """The answer deadline after the one allowed extension; ExtensionNotAllowed otherwise."""
    if timeline.kind is AppealKind.CALLBACK:
        raise ExtensionNotAllowed("Срок обратного звонка (30 минут) продлить нельзя")
    if timeline.extended_until is not None:
        raise ExtensionNotAllowed("Срок рассмотрения обращения уже продлевался; повторно нельзя")
    if timeline.answer_due_at is None:
        raise ExtensionNotAllowed("У обращения нет срока ответа, продлевать нечего")
    limit = timeline.registered_at + TOTAL_LIMIT
    new_due = min(timeline.answer_due_at + EXTENSION_LIMIT, limit)
    if new_due <= timeline.answer_due_at:
        raise ExtensionNotAllowed("Общий срок рассмотрения (21 день) уже исчерпан")
    return new_due


def check_transition(
    timeline: AppealTimeline, to_status: AppealStatus, *, reason: str = ""
) -> None:
    """Raise an AppealRuleError when the appeal may not move to `to_status` now."""
    if to_status not in TRANSITIONS[timeline.status]:
        raise InvalidTransition(timeline.status, to_status)
    if to_status is AppealStatus.EXTENDED:
        extended_deadline(timeline)  # raises when the extension is not allowed
    if (
        to_status is AppealStatus.CLOSED
        and timeline.status is not AppealStatus.ANSWERED
        and not reason.strip()
    ):
        raise ReasonRequired("Закрыть обращение без ответа можно только с указанием причины")


def allowed_transitions(timeline: AppealTimeline) -> list[AppealStatus]:
    """The statuses the appeal may move to now, ignoring the closing reason."""
    allowed = []
    for status in (s for s in AppealStatus if s in TRANSITIONS[timeline.status]):
        try:
            check_transition(timeline, status, reason="-")
        except AppealRuleError:
            continue
        allowed.append(status)
    return allowed


def pending_deadlines(timeline: AppealTimeline) -> list[PendingDeadline]:
    """The deadlines still to be met, soonest first (none once answered or closed)."""
    if timeline.status in FINISHED_STATUSES:
        return []
    pending = []
    if timeline.status is AppealStatus.REGISTERED and timeline.handoff_due_at is not None:
        pending.append(
            PendingDeadline(DeadlineStage.HANDOFF, timeline.registered_at, timeline.handoff_due_at)
        )
    if timeline.extended_until is not None and timeline.answer_due_at is not None:
        # the extension's own span: from the deadline it replaced to the new one
        pending.append(
            PendingDeadline(DeadlineStage.ANSWER, timeline.answer_due_at, timeline.extended_until)
        )
    elif timeline.answer_due_at is not None:
        pending.append(
            PendingDeadline(DeadlineStage.ANSWER, timeline.registered_at, timeline.answer_due_at)
        )
    return sorted(pending, key=lambda d: d.due_at)


def overdue_stages(timeline: AppealTimeline, now: datetime) -> list[DeadlineStage]:
    """Stages whose deadline has passed (strictly before `now`) without the work done."""
    _aware(now, "now")
    return [d.stage for d in pending_deadlines(timeline) if now > d.due_at]


def is_overdue(timeline: AppealTimeline, now: datetime) -> bool:
    return bool(overdue_stages(timeline, now))


def reminder_times(
    starts_at: datetime,
    due_at: datetime,
    *,
    now: datetime | None = None,
    shares: Iterable[float] = REMINDER_SHARES,
    leads: Iterable[timedelta] = REMINDER_LEADS,
) -> list[datetime]:
    """When to remind of a deadline running from `starts_at` to `due_at`, earliest first.

    Only moments strictly inside the stage are kept, and with `now` only those after it:
    a reminder in the past or at the deadline itself would be noise.
    """
    _aware(starts_at, "starts_at")
    _aware(due_at, "due_at")
    span = due_at - starts_at
    moments = {starts_at + span * share for share in shares}
    moments |= {due_at - lead for lead in leads}
    floor = starts_at if now is None or now < starts_at else now
    return sorted(m for m in moments if floor < m < due_at)


def describe_remaining(remaining: timedelta) -> str:
    """'5 д 3 ч', '2 ч 15 мин', '24 мин' — short Russian wording free of plural forms."""
    minutes = max(0, int(remaining.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} д {hours} ч"
    if hours:
        return f"{hours} ч {mins} мин" if mins else f"{hours} ч"
    return f"{mins} мин"


STAGE_NAMES_RU: dict[DeadlineStage, str] = {
    DeadlineStage.HANDOFF: "передачи специалисту",
    DeadlineStage.ANSWER: "ответа",
}


def reminder_text(number: str, stage: DeadlineStage, remaining: timedelta) -> str:
    return (
        f"Обращение {number}: до срока {STAGE_NAMES_RU[stage]} осталось "
        f"{describe_remaining(remaining)}"
    )
