"""What one dial attempt came to, whether the message got through, and when to try again.

An attempt is *positive* when the customer received the message: a person answered and the
message played to the end, or they confirmed it with a key (asking for an operator counts:
they pressed a key after hearing it), or, in an operator campaign, they reached an operator,
or, in a survey, they answered every question. Everything else that was sent is *negative*:
an answering machine (even when the message was left on it: nobody is known to have heard it),
no answer, busy, congestion, a failed channel, a person who hung up early, a live answer that
found no operator (abandoned).

Inputs are what Asterisk reported: the OriginateResponse `Reason` (0 failed, 3 no answer,
4 answered, 5 busy, 8 congestion; transcript s6) and AMD's `AMDSTATUS` (HUMAN, MACHINE,
NOTSURE, HANGUP), plus what the dialer's AGI session saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from callcenter.domain.campaigns import AttemptOutcome, CampaignKind

REASON_FAILED = 0
REASON_HANGUP = 1
REASON_RING = 2
REASON_NO_ANSWER = 3
REASON_ANSWERED = 4
REASON_BUSY = 5
REASON_CONGESTION = 8


class DialResult(StrEnum):
    HEARD = "heard"  # a person heard the message to the end
    CONFIRMED = "confirmed"  # a person confirmed with a key
    OPERATOR_REQUESTED = "operator_requested"  # a person asked for an operator after the message
    CONNECTED = "connected"  # operator campaign: handed to an operator
    SURVEY_COMPLETED = "survey_completed"
    SURVEY_PARTIAL = "survey_partial"  # some questions answered, then hung up
    HUNG_UP = "hung_up"  # a person hung up before the message ended
    ABANDONED = "abandoned"  # live answer, no operator within the grace period
    MACHINE = "machine"  # answering machine (message left or not)
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CONGESTION = "congestion"
    FAILED = "failed"  # the channel could not be created (bad number, trunk down)


POSITIVE_RESULTS = frozenset(
    {
        DialResult.HEARD,
        DialResult.CONFIRMED,
        DialResult.OPERATOR_REQUESTED,
        DialResult.CONNECTED,
        DialResult.SURVEY_COMPLETED,
    }
)

# a live (human) answer, as the pacing counts it
LIVE_RESULTS = frozenset(
    {
        DialResult.HEARD,
        DialResult.CONFIRMED,
        DialResult.OPERATOR_REQUESTED,
        DialResult.CONNECTED,
        DialResult.SURVEY_COMPLETED,
        DialResult.SURVEY_PARTIAL,
        DialResult.HUNG_UP,
        DialResult.ABANDONED,
    }
)


def outcome_of(result: DialResult) -> AttemptOutcome:
    return AttemptOutcome.POSITIVE if result in POSITIVE_RESULTS else AttemptOutcome.NEGATIVE


def result_of_reason(reason: int) -> DialResult | None:
    """The result of an Originate that was not answered; None for Reason 4 (answered)."""
    if reason == REASON_ANSWERED:
        return None
    if reason == REASON_NO_ANSWER:
        return DialResult.NO_ANSWER
    if reason == REASON_BUSY:
        return DialResult.BUSY
    if reason == REASON_CONGESTION:
        return DialResult.CONGESTION
    # 0 (no such channel/extension), 1 (hung up while ringing), anything unexpected
    return DialResult.FAILED


def is_machine(amd_status: str | None) -> bool:
    return (amd_status or "").strip().upper() == "MACHINE"


@dataclass(frozen=True, slots=True)
class AnsweredCall:
    """What the dialer's AGI session saw on an answered call."""

    amd_status: str | None
    message_completed: bool = False  # played to the end
    confirmed: bool = False  # the confirmation key was pressed
    operator_requested: bool = False  # the "operator" key was pressed
    connected_to_operator: bool = False  # operator campaign: handed over
    abandoned: bool = False  # operator campaign: no operator within the grace period
    survey_answered: int = 0
    survey_questions: int = 0


def classify_answered(kind: CampaignKind, call: AnsweredCall) -> DialResult:
    if is_machine(call.amd_status):
        return DialResult.MACHINE
    if kind is CampaignKind.OPERATOR:
        if call.connected_to_operator:
            return DialResult.CONNECTED
        if call.abandoned:
            return DialResult.ABANDONED
        return DialResult.HUNG_UP
    if kind is CampaignKind.SURVEY:
        if call.survey_questions and call.survey_answered >= call.survey_questions:
            return DialResult.SURVEY_COMPLETED
        if call.survey_answered:
            return DialResult.SURVEY_PARTIAL
        if call.operator_requested:
            return DialResult.OPERATOR_REQUESTED
        return DialResult.HUNG_UP
    if call.operator_requested:
        return DialResult.OPERATOR_REQUESTED
    if call.confirmed:
        return DialResult.CONFIRMED
    if call.message_completed:
        return DialResult.HEARD
    return DialResult.HUNG_UP


# ----------------------------------------------------------------------------- retries

# Defaults by result (seconds before the next attempt, by attempt number, the last repeating):
# a busy line is free again soon, a machine means the person is out (try much later), a network
# failure is retried soon, an abandoned customer is called back quickly (they answered us).
DEFAULT_RETRY_BY_RESULT: Mapping[DialResult, tuple[int, ...]] = MappingProxyType(
    {
        DialResult.BUSY: (600, 1800, 3600),
        DialResult.CONGESTION: (300, 900, 1800),
        DialResult.FAILED: (1800, 7200),
        DialResult.ABANDONED: (300, 1800),
        DialResult.MACHINE: (7200, 14400),
    }
)
# never retried: the message got through, or the person already answered part of a survey
FINAL_RESULTS = POSITIVE_RESULTS | {DialResult.SURVEY_PARTIAL}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`delays` (the campaign's list) apply unless `by_result` names the result."""

    max_attempts: int = 3
    delays: tuple[int, ...] = (900, 3600, 14400)
    by_result: Mapping[DialResult, tuple[int, ...]] = field(
        default_factory=lambda: DEFAULT_RETRY_BY_RESULT
    )

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("at least one attempt")
        for seq in (self.delays, *self.by_result.values()):
            if not seq or any(d < 0 for d in seq):
                raise ValueError("retry delays must be non-empty lists of seconds >= 0")

    @classmethod
    def of(
        cls,
        max_attempts: int,
        delays: Sequence[int] | None,
        by_result: Mapping[DialResult, Sequence[int]] | None = None,
    ) -> RetryPolicy:
        merged = dict(DEFAULT_RETRY_BY_RESULT)
        for key, value in (by_result or {}).items():
            merged[key] = tuple(value)
        return cls(
            max_attempts=max_attempts,
            delays=tuple(delays) if delays else (900, 3600, 14400),
            by_result=MappingProxyType(merged),
        )

    def next_attempt(
        self, result: DialResult, attempt_no: int, ended_at: datetime
    ) -> datetime | None:
        """When attempt `attempt_no + 1` is due, or None when the contact is done."""
        if result in FINAL_RESULTS or attempt_no >= self.max_attempts:
            return None
        schedule = self.by_result.get(result, self.delays)
        delay = schedule[min(attempt_no - 1, len(schedule) - 1)]
        return ended_at + timedelta(seconds=delay)
