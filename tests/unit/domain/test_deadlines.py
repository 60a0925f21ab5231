"""Appeal deadlines and the status machine, from the service standard's tables."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest

from callcenter.domain.appeals import AppealKind, AppealStatus
from callcenter.domain.deadlines import (
    TRANSITIONS,
    AppealTimeline,
    DeadlineStage,
    ExtensionNotAllowed,
    InvalidTransition,
    ReasonRequired,
    allowed_transitions,
    answer_due_after_handoff,
    check_transition,
    describe_remaining,
    extended_deadline,
    initial_deadlines,
    is_overdue,
    overdue_stages,
    pending_deadlines,
    reminder_text,
    reminder_times,
)

T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def timeline(
    kind: AppealKind = AppealKind.QUESTION,
    status: AppealStatus = AppealStatus.REGISTERED,
    *,
    registered_at: datetime = T0,
    extended_until: datetime | None = None,
    answer_due_at: datetime | None = None,
) -> AppealTimeline:
    due = initial_deadlines(kind, registered_at)
    return AppealTimeline(
        kind=kind,
        status=status,
        registered_at=registered_at,
        handoff_due_at=due.handoff_due_at,
        answer_due_at=answer_due_at or due.answer_due_at,
        extended_until=extended_until,
    )


# ---- initial deadlines ----


def test_question_is_handed_off_within_a_day_and_answered_ten_days_after_that() -> None:
    due = initial_deadlines(AppealKind.QUESTION, T0)
    assert due.handoff_due_at == T0 + DAY
    assert due.answer_due_at == T0 + 11 * DAY


def test_complaint_is_answered_within_fourteen_days_of_registration() -> None:
    due = initial_deadlines(AppealKind.COMPLAINT, T0)
    assert due.handoff_due_at == T0 + DAY
    assert due.answer_due_at == T0 + 14 * DAY


def test_callback_promised_within_thirty_minutes_has_no_handoff_stage() -> None:
    due = initial_deadlines(AppealKind.CALLBACK, T0)
    assert due.handoff_due_at is None
    assert due.answer_due_at == T0 + timedelta(minutes=30)


def test_deadlines_are_exact_spans_whatever_the_zone_of_the_moment() -> None:
    msk = timezone(timedelta(hours=3))
    due = initial_deadlines(AppealKind.QUESTION, T0.astimezone(msk))
    assert due.handoff_due_at == T0 + DAY


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        initial_deadlines(AppealKind.QUESTION, datetime(2025, 3, 14, 9, 30))  # noqa: DTZ001


# ---- hand-off ----


def test_first_handoff_starts_the_specialists_ten_days() -> None:
    handed = T0 + timedelta(hours=3)
    assert answer_due_after_handoff(timeline(), handed) == handed + 10 * DAY


def test_late_handoff_still_ends_by_the_21_day_limit() -> None:
    late = T0 + 15 * DAY
    assert answer_due_after_handoff(timeline(), late) == T0 + 21 * DAY


@pytest.mark.parametrize("kind", [AppealKind.COMPLAINT, AppealKind.CALLBACK])
def test_handoff_keeps_complaint_and_callback_deadlines(kind: AppealKind) -> None:
    t = timeline(kind)
    assert answer_due_after_handoff(t, T0 + timedelta(hours=1)) == t.answer_due_at


def test_rerouting_an_appeal_in_progress_keeps_its_deadline() -> None:
    t = timeline(status=AppealStatus.IN_PROGRESS, answer_due_at=T0 + 5 * DAY)
    assert answer_due_after_handoff(t, T0 + 2 * DAY) == T0 + 5 * DAY


# ---- extension ----


def test_extension_adds_ten_days_once() -> None:
    t = timeline(status=AppealStatus.IN_PROGRESS, answer_due_at=T0 + 10 * DAY)
    assert extended_deadline(t) == T0 + 20 * DAY


def test_extension_never_passes_21_days_from_registration() -> None:
    t = timeline(status=AppealStatus.IN_PROGRESS, answer_due_at=T0 + 11 * DAY)
    assert extended_deadline(t) == T0 + 21 * DAY


def test_complaint_extension_is_capped_at_21_days() -> None:
    t = timeline(AppealKind.COMPLAINT, AppealStatus.IN_PROGRESS)
    assert extended_deadline(t) == T0 + 21 * DAY


def test_second_extension_is_refused() -> None:
    t = timeline(status=AppealStatus.IN_PROGRESS, extended_until=T0 + 20 * DAY)
    with pytest.raises(ExtensionNotAllowed, match="уже продлевался"):
        extended_deadline(t)


def test_extension_with_the_21_days_used_up_is_refused() -> None:
    t = timeline(status=AppealStatus.IN_PROGRESS, answer_due_at=T0 + 21 * DAY)
    with pytest.raises(ExtensionNotAllowed, match="21 день"):
        extended_deadline(t)


def test_callback_cannot_be_extended() -> None:
    with pytest.raises(ExtensionNotAllowed, match="30 минут"):
        extended_deadline(timeline(AppealKind.CALLBACK, AppealStatus.IN_PROGRESS))


# ---- status machine ----

ALL = list(AppealStatus)


@pytest.mark.parametrize("from_status", ALL)
@pytest.mark.parametrize("to_status", ALL)
def test_only_listed_transitions_are_allowed(
    from_status: AppealStatus, to_status: AppealStatus
) -> None:
    t = timeline(status=from_status, answer_due_at=T0 + 5 * DAY)
    if to_status in TRANSITIONS[from_status]:
        check_transition(t, to_status, reason="причина")
    else:
        with pytest.raises(InvalidTransition) as caught:
            check_transition(t, to_status, reason="причина")
        assert caught.value.from_status is from_status
        assert "Нельзя перевести" in str(caught.value)


def test_happy_path_is_allowed() -> None:
    path = [
        AppealStatus.REGISTERED,
        AppealStatus.HANDED_OFF,
        AppealStatus.IN_PROGRESS,
        AppealStatus.EXTENDED,
        AppealStatus.ANSWERED,
        AppealStatus.CLOSED,
    ]
    for before, after in itertools.pairwise(path):
        check_transition(timeline(status=before), after)


def test_closed_is_terminal() -> None:
    assert TRANSITIONS[AppealStatus.CLOSED] == frozenset()
    assert allowed_transitions(timeline(status=AppealStatus.CLOSED)) == []


def test_closing_without_an_answer_needs_a_reason() -> None:
    with pytest.raises(ReasonRequired):
        check_transition(timeline(), AppealStatus.CLOSED, reason="  ")
    check_transition(timeline(), AppealStatus.CLOSED, reason="Нет контактных данных")
    check_transition(timeline(status=AppealStatus.ANSWERED), AppealStatus.CLOSED)


def test_extending_twice_is_refused_by_the_machine() -> None:
    t = timeline(status=AppealStatus.IN_PROGRESS, extended_until=T0 + 20 * DAY)
    with pytest.raises(ExtensionNotAllowed):
        check_transition(t, AppealStatus.EXTENDED)
    assert AppealStatus.EXTENDED not in allowed_transitions(t)


def test_callback_cannot_move_to_extended() -> None:
    t = timeline(AppealKind.CALLBACK, AppealStatus.IN_PROGRESS)
    assert allowed_transitions(t) == [
        AppealStatus.HANDED_OFF,
        AppealStatus.ANSWERED,
        AppealStatus.CLOSED,
    ]


def test_a_registered_appeal_can_go_four_ways() -> None:
    assert allowed_transitions(timeline()) == [
        AppealStatus.HANDED_OFF,
        AppealStatus.IN_PROGRESS,
        AppealStatus.ANSWERED,
        AppealStatus.CLOSED,
    ]


# ---- overdue ----


def test_exactly_at_the_deadline_is_not_yet_overdue() -> None:
    t = timeline()
    assert not is_overdue(t, T0 + DAY)
    assert overdue_stages(t, T0 + DAY + timedelta(microseconds=1)) == [DeadlineStage.HANDOFF]


def test_registered_question_overdue_on_both_stages_after_eleven_days() -> None:
    assert overdue_stages(timeline(), T0 + 12 * DAY) == [
        DeadlineStage.HANDOFF,
        DeadlineStage.ANSWER,
    ]


def test_handed_off_appeal_only_has_the_answer_deadline() -> None:
    t = timeline(status=AppealStatus.HANDED_OFF, answer_due_at=T0 + 10 * DAY)
    assert overdue_stages(t, T0 + 2 * DAY) == []
    assert overdue_stages(t, T0 + 10 * DAY + timedelta(seconds=1)) == [DeadlineStage.ANSWER]


def test_an_extension_moves_the_answer_deadline() -> None:
    t = timeline(
        status=AppealStatus.EXTENDED,
        answer_due_at=T0 + 10 * DAY,
        extended_until=T0 + 20 * DAY,
    )
    assert not is_overdue(t, T0 + 15 * DAY)
    assert is_overdue(t, T0 + 20 * DAY + timedelta(seconds=1))


@pytest.mark.parametrize("status", [AppealStatus.ANSWERED, AppealStatus.CLOSED])
def test_answered_and_closed_appeals_are_never_overdue(status: AppealStatus) -> None:
    assert not is_overdue(timeline(status=status), T0 + 100 * DAY)
    assert pending_deadlines(timeline(status=status)) == []


def test_callback_is_overdue_after_thirty_minutes() -> None:
    t = timeline(AppealKind.CALLBACK)
    assert not is_overdue(t, T0 + timedelta(minutes=30))
    assert overdue_stages(t, T0 + timedelta(minutes=31)) == [DeadlineStage.ANSWER]


def test_overdue_check_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_overdue(timeline(), datetime(2025, 3, 20))  # noqa: DTZ001


# ---- reminders ----


def test_reminders_at_half_eighty_percent_and_an_hour_before() -> None:
    assert reminder_times(T0, T0 + DAY) == [
        T0 + timedelta(hours=12),
        T0 + timedelta(hours=19, minutes=12),
        T0 + timedelta(hours=23),
    ]


def test_callback_reminders_skip_the_hour_before_that_precedes_the_promise() -> None:
    assert reminder_times(T0, T0 + timedelta(minutes=30)) == [
        T0 + timedelta(minutes=15),
        T0 + timedelta(minutes=24),
    ]


def test_reminders_already_in_the_past_are_dropped() -> None:
    now = T0 + timedelta(hours=20)
    assert reminder_times(T0, T0 + DAY, now=now) == [T0 + timedelta(hours=23)]
    assert reminder_times(T0, T0 + DAY, now=T0 + DAY) == []


def test_a_reminder_exactly_now_is_not_created() -> None:
    assert reminder_times(T0, T0 + DAY, now=T0 + timedelta(hours=12))[0] > T0 + timedelta(hours=12)


def test_coinciding_reminder_moments_appear_once() -> None:
    # for a 5-hour span 80 % is exactly one hour before the deadline
    assert reminder_times(T0, T0 + timedelta(hours=5)) == [
        T0 + timedelta(hours=2, minutes=30),
        T0 + timedelta(hours=4),
    ]


def test_pending_deadline_of_an_extension_spans_from_the_old_deadline() -> None:
    t = timeline(
        status=AppealStatus.EXTENDED, answer_due_at=T0 + 10 * DAY, extended_until=T0 + 20 * DAY
    )
    (pending,) = pending_deadlines(t)
    assert (pending.stage, pending.starts_at, pending.due_at) == (
        DeadlineStage.ANSWER,
        T0 + 10 * DAY,
        T0 + 20 * DAY,
    )


@pytest.mark.parametrize(
    ("remaining", "text"),
    [
        (timedelta(days=5, hours=3), "5 д 3 ч"),
        (timedelta(hours=2, minutes=15), "2 ч 15 мин"),
        (timedelta(hours=1), "1 ч"),
        (timedelta(minutes=6), "6 мин"),
        (timedelta(seconds=-5), "0 мин"),
    ],
)
def test_remaining_time_wording(remaining: timedelta, text: str) -> None:
    assert describe_remaining(remaining) == text


def test_reminder_text_names_the_appeal_and_stage() -> None:
    assert (
        reminder_text("20250314-0001", DeadlineStage.HANDOFF, timedelta(hours=12))
        == "Обращение 20250314-0001: до срока передачи специалисту осталось 12 ч"
    )
