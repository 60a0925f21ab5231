"""Value types of the store ports: search filters, scopes and results that are not rows."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from callcenter.domain.appeals import AppealKind, AppealStatus
from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.recordings import RecordingState
from callcenter.ports.records import (
    Call,
    Contact,
    KbArticle,
)


@dataclass(frozen=True, slots=True)
class NewQuestion:
    text_ru: str
    answers: Mapping[str, str]  # DTMF key -> label


@dataclass(frozen=True, slots=True)
class RecordingScope:
    """Which recordings a user may reach; see `callcenter.recordings.registry` for the rule.

    `everything` wins; otherwise a recording is in scope when any given criterion matches.
    """

    everything: bool = False
    operator_id: int | None = None  # calls this operator took (the call or any of its legs)
    support_line: int | None = None  # calls through this line's queues or its operators
    voicemail_line: int | None = None  # voicemails left for this line

    @classmethod
    def all(cls) -> RecordingScope:
        return cls(everything=True)


@dataclass(frozen=True, slots=True)
class RecordingFilter:
    """Search criteria; every field left empty matches everything."""

    since: datetime | None = None  # started_at >= since
    until: datetime | None = None  # started_at < until
    # the customer's number in every stored spelling (+7..., 8..., 7..., 10 digits); matched
    # against the caller's number and the dialled number (outbound calls)
    numbers: tuple[str, ...] = ()
    operator_id: int | None = None
    queue_name: str | None = None
    appeal_id: uuid.UUID | None = None
    call_id: uuid.UUID | None = None
    direction: Direction | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    state: RecordingState | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class RecordingListItem:
    id: uuid.UUID
    call_id: uuid.UUID | None
    appeal_id: uuid.UUID | None
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    size_bytes: int | None
    state: RecordingState
    archived_at: datetime | None
    rule_name: str | None
    caller_number: str | None
    dialled_number: str | None
    direction: Direction | None
    operator_id: int | None
    queue_name: str | None


@dataclass(frozen=True, slots=True)
class KbHit:
    article: KbArticle
    rank: float


@dataclass(frozen=True, slots=True)
class NewContact:
    phone: str  # E.164
    name: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class DueContact:
    contact: Contact
    attempts_made: int


@dataclass(frozen=True, slots=True)
class ContactProgress:
    total: int  # contacts in the list
    do_not_call: int  # skipped: on the do-not-call list
    untouched: int  # not called yet
    in_flight: int  # being called now
    waiting_retry: int  # a retry is scheduled
    reached: int  # a positive attempt
    given_up: int  # negative and no attempt left

    @property
    def remaining(self) -> int:
        return self.untouched + self.in_flight + self.waiting_retry

    @property
    def done(self) -> int:
        return self.reached + self.given_up + self.do_not_call


@dataclass(frozen=True, slots=True)
class AttemptTotals:
    total: int
    positive: int
    negative: int
    pending: int
    by_reason: dict[int, int]  # OriginateResponse Reason -> attempts
    by_amd: dict[str, int]  # AMDSTATUS -> attempts
    negative_answered: int  # negative although answered (Reason 4): machine, hung up early...
    negative_machine: int  # ... of which an answering machine
    by_result: dict[str, int] = field(default_factory=dict)  # DialResult value -> attempts


class CallFields(TypedDict, total=False):
    """Columns of a call that `CallRepository.upsert` may set (all but `linkedid`)."""

    id: uuid.UUID
    direction: Direction
    caller_number: str
    caller_name: str | None
    dialled_number: str | None
    customer_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ivr_path: list[str]
    ivr_seconds: float | None
    ivr_closed: bool
    recording_notice_version: str | None
    queue_name: str | None
    operator_id: int | None
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: Disposition
    hangup_cause: int | None
    transfer_count: int
    is_queued_callback: bool
    priority: int
    campaign_attempt_id: int | None


class LegFields(TypedDict):
    """One channel of a call as the call journal writes it (`CallsStore.upsert_legs`)."""

    call_id: uuid.UUID
    uniqueid: str
    channel: str
    role: LegRole
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    operator_id: int | None


class UnknownCallError(LookupError):
    """An update named a call (linkedid) that is not in the database."""


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Search criteria for the call history; every field left empty matches everything."""

    since: datetime | None = None  # started_at >= since
    until: datetime | None = None  # started_at < until
    number: str | None = None  # caller's or dialled number, exact, in any of its forms
    number_forms: tuple[str, ...] = ()  # the spellings to match (default: `number` only)
    queue_name: str | None = None
    operator_id: int | None = None
    disposition: Disposition | None = None
    direction: Direction | None = None
    customer_id: int | None = None
    limit: int = 100
    offset: int = 0


class HistoryKind(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    MISSED = "missed"
    UNANSWERED = "unanswered"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    call: Call
    kind: HistoryKind


@dataclass(frozen=True, slots=True)
class AppealScope:
    """Which appeals a viewer may see: every one (lines None), or those of `lines`, their
    own (`operator_id`) and unassigned ones."""

    lines: Collection[int] | None = None
    operator_id: int | None = None


@dataclass(frozen=True, slots=True)
class AppealFilter:
    status: AppealStatus | None = None
    kind: AppealKind | None = None
    topic_id: int | None = None
    customer_id: int | None = None
    owner_operator_id: int | None = None
    number: str | None = None
    open_only: bool = False
    since: datetime | None = None  # created_at >= since
    until: datetime | None = None  # created_at < until
    limit: int = 50
    offset: int = 0
