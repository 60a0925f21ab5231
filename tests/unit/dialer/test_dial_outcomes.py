from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.domain.campaign_lifecycle import (
    CampaignAction,
    TransitionError,
    next_status,
)
from callcenter.domain.campaigns import AttemptOutcome, CampaignKind, CampaignStatus
from callcenter.domain.dial_outcomes import (
    AnsweredCall,
    DialResult,
    RetryPolicy,
    classify_answered,
    outcome_of,
    result_of_reason,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reason", "result"),
    [
        (0, DialResult.FAILED),
        (1, DialResult.FAILED),
        (3, DialResult.NO_ANSWER),
        (5, DialResult.BUSY),
        (8, DialResult.CONGESTION),
        (4, None),
    ],
)
def test_originate_reason_codes_of_transcript_s6(reason: int, result: DialResult | None) -> None:
    assert result_of_reason(reason) is result
    if result is not None:
        assert outcome_of(result) is AttemptOutcome.NEGATIVE


def test_auto_inform_positive_only_when_the_message_got_through() -> None:
    kind = CampaignKind.AUTO_INFORM
    heard = AnsweredCall("HUMAN", message_completed=True)
    confirmed = AnsweredCall("HUMAN", confirmed=True)
    operator = AnsweredCall("NOTSURE", operator_requested=True)
    early = AnsweredCall("HUMAN")
    machine = AnsweredCall("MACHINE", message_completed=True)
    assert classify_answered(kind, heard) is DialResult.HEARD
    assert classify_answered(kind, confirmed) is DialResult.CONFIRMED
    assert classify_answered(kind, operator) is DialResult.OPERATOR_REQUESTED
    assert classify_answered(kind, early) is DialResult.HUNG_UP
    # a message left on a machine was sent but nobody is known to have received it
    assert classify_answered(kind, machine) is DialResult.MACHINE
    outcomes = [outcome_of(classify_answered(kind, c)) for c in (heard, confirmed, operator)]
    assert outcomes == [AttemptOutcome.POSITIVE] * 3
    assert outcome_of(DialResult.MACHINE) is AttemptOutcome.NEGATIVE
    assert outcome_of(DialResult.HUNG_UP) is AttemptOutcome.NEGATIVE


def test_operator_and_survey_campaigns() -> None:
    op = CampaignKind.OPERATOR
    assert classify_answered(op, AnsweredCall("HUMAN", connected_to_operator=True)) is (
        DialResult.CONNECTED
    )
    assert classify_answered(op, AnsweredCall("HUMAN", abandoned=True)) is DialResult.ABANDONED
    survey = CampaignKind.SURVEY
    done = AnsweredCall("HUMAN", survey_answered=3, survey_questions=3)
    part = AnsweredCall("HUMAN", survey_answered=1, survey_questions=3)
    assert classify_answered(survey, done) is DialResult.SURVEY_COMPLETED
    assert classify_answered(survey, part) is DialResult.SURVEY_PARTIAL
    assert outcome_of(DialResult.SURVEY_COMPLETED) is AttemptOutcome.POSITIVE


def test_retry_delays_depend_on_the_result_and_stop_at_max_attempts() -> None:
    policy = RetryPolicy.of(3, [1800, 7200], {DialResult.BUSY: [300]})
    assert policy.next_attempt(DialResult.NO_ANSWER, 1, T0) == T0 + timedelta(seconds=1800)
    assert policy.next_attempt(DialResult.NO_ANSWER, 2, T0) == T0 + timedelta(seconds=7200)
    assert policy.next_attempt(DialResult.BUSY, 2, T0) == T0 + timedelta(seconds=300)
    assert policy.next_attempt(DialResult.MACHINE, 1, T0) == T0 + timedelta(hours=2)
    assert policy.next_attempt(DialResult.NO_ANSWER, 3, T0) is None
    assert policy.next_attempt(DialResult.HEARD, 1, T0) is None
    assert policy.next_attempt(DialResult.SURVEY_PARTIAL, 1, T0) is None
    with pytest.raises(ValueError, match="at least one attempt"):
        RetryPolicy(max_attempts=0)


def test_campaign_status_transitions() -> None:
    assert next_status(CampaignStatus.DRAFT, CampaignAction.START) is CampaignStatus.SCHEDULED
    assert next_status(CampaignStatus.RUNNING, CampaignAction.PAUSE) is CampaignStatus.PAUSED
    assert next_status(CampaignStatus.PAUSED, CampaignAction.RESUME) is CampaignStatus.SCHEDULED
    with pytest.raises(TransitionError, match="завершена"):
        next_status(CampaignStatus.FINISHED, CampaignAction.START)
