"""Auto-informing by SMS and e-mail: a delivery's states, its result, and the retry schedule.

Pure: no I/O; time and randomness are passed in.

One delivery per contact and channel of a campaign:

    queued ──► sending ──► sent ──► delivered        (the gateway's report: positive)
      ▲           │          └────► failed            (the gateway's report: negative)
      └─ retry ◄──┤ temporary failure (backoff), until the attempts run out ──► failed
                  └─ permanent failure ──► failed     (negative)
    queued ──► skipped   (do-not-contact, no address, outside the campaign's period, ...)

A "positive" result is a message the customer received, a "negative" one was sent (or tried)
but not received (SPEC §6). An e-mail accepted by the mail server counts as received: SMTP
has no delivery report the platform could wait for.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum

from callcenter.domain.campaigns import CampaignStatus


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker (first attempt or a retry)
    SENDING = "sending"  # a worker holds it (a lease: it returns to the pool if the worker dies)
    SENT = "sent"  # the gateway accepted it; no delivery report yet
    DELIVERED = "delivered"  # the gateway reported it delivered (or the mail server took it)
    FAILED = "failed"  # permanently refused, reported undelivered, or retries exhausted
    SKIPPED = "skipped"  # never sent: see the reason


class DeliveryOutcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class JobStatus(StrEnum):
    EXPANDING = "expanding"  # the worker is still creating the deliveries from the list
    RUNNING = "running"  # every delivery exists; some may still be queued
    DONE = "done"  # nothing left queued or sending (reports may still arrive)


# states a worker still has to act on
OPEN_STATUSES = frozenset({DeliveryStatus.QUEUED, DeliveryStatus.SENDING})
# states a delivery report may change (a report for an unknown or finished message is ignored)
REPORTABLE_STATUSES = frozenset({DeliveryStatus.SENDING, DeliveryStatus.SENT})


class ReportStatus(StrEnum):
    """What an SMS gateway's delivery report says."""

    DELIVERED = "delivered"
    FAILED = "failed"  # undeliverable, expired, rejected by the network


_DELIVERED_WORDS = frozenset({"delivered", "delivrd", "ok", "success", "read"})
_FAILED_WORDS = frozenset(
    {"failed", "undelivered", "undeliv", "expired", "rejected", "rejectd", "deleted", "error"}
)


def parse_report_status(text: str) -> ReportStatus | None:
    """A gateway's status word (several spellings are common) or None for an interim one
    ("enroute", "accepted", "buffered"), which changes nothing."""
    word = text.strip().lower()
    if word in _DELIVERED_WORDS:
        return ReportStatus.DELIVERED
    if word in _FAILED_WORDS:
        return ReportStatus.FAILED
    return None


def retry_delay(
    attempt: int, *, base: float, cap: float = 3600.0, rng: random.Random | None = None
) -> float:
    """Seconds before retry number `attempt` (1 = the first retry): base, 2×base, 4×base, ...
    up to `cap`, each with ±20 % jitter so that a gateway coming back is not hit by every
    message at the same instant."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    delay: float = min(cap, base * 2.0 ** min(attempt - 1, 30))
    jitter: float = (rng or random).uniform(0.8, 1.2)
    return max(0.0, min(cap, delay * jitter))


def new_idempotency_key() -> str:
    """The key naming one message to one customer for good, stored in its delivery row: a
    retry, a restarted worker or a second worker sends the same key, and a gateway that
    honours keys sends the message only once."""
    return f"cc-{secrets.token_hex(12)}"


# ----------------------------------------------------------------------------- records
# What the job store hands the use cases and takes from them (plain data).


@dataclass(frozen=True, slots=True)
class CampaignForSend:
    id: int
    name: str
    status: CampaignStatus
    contact_list_id: int | None
    message_template: str
    contacts: int


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    campaign_id: int
    channel: Channel
    status: JobStatus
    contacts_total: int
    created_at: datetime
    created: bool = True  # False: the job existed already (a repeated request)


@dataclass(frozen=True, slots=True)
class ExpansionJob:
    id: int
    campaign_id: int
    channel: Channel
    message_template: str
    subject: str
    contact_list_id: int | None = None
    expanded_after: int = 0  # the last contact id already turned into a delivery


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: int
    phone: str
    name: str
    variables: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    contact_id: int
    idempotency_key: str
    address: str
    subject: str
    text: str
    status: DeliveryStatus  # QUEUED or SKIPPED
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery a worker holds, with what it needs to send it."""

    id: int
    idempotency_key: str
    address: str
    subject: str
    text: str
    attempts: int
    campaign_status: CampaignStatus
    timezone: str | None
    window_start: time | None
    window_end: time | None
    weekdays: Sequence[int]
    starts_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed delivery (the store writes a batch of these at once)."""

    id: int
    status: DeliveryStatus  # SENT, DELIVERED, QUEUED (retry or later), FAILED, SKIPPED
    reason: str = ""
    gateway_message_id: str = ""
    next_attempt_at: datetime | None = None  # QUEUED
    counts_attempt: bool = True  # False: not tried (outside the window)

    @property
    def outcome(self) -> DeliveryOutcome | None:
        if self.status is DeliveryStatus.DELIVERED:
            return DeliveryOutcome.POSITIVE
        if self.status is DeliveryStatus.FAILED:
            return DeliveryOutcome.NEGATIVE
        return None


@dataclass(frozen=True, slots=True)
class ReportResult:
    applied: bool
    known: bool  # False: no delivery has this id or key


@dataclass(frozen=True, slots=True)
class MinuteFigures:
    minute: datetime
    sent: int = 0
    delivered: int = 0
    failed: int = 0


@dataclass
class ChannelProgress:
    channel: Channel
    job_id: int
    job_status: JobStatus
    contacts: int
    by_status: dict[DeliveryStatus, int] = field(default_factory=dict)
    positive: int = 0
    negative: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    per_minute: list[MinuteFigures] = field(default_factory=list)

    def count(self, status: DeliveryStatus) -> int:
        return self.by_status.get(status, 0)

    @property
    def handled(self) -> int:
        """Deliveries no worker has to act on any more."""
        return sum(n for s, n in self.by_status.items() if s not in OPEN_STATUSES)


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    id: int
    contact_id: int
    channel: Channel
    address: str
    status: DeliveryStatus
    outcome: DeliveryOutcome | None
    reason: str
    attempts: int
    gateway_message_id: str | None
    sent_at: datetime | None
    finished_at: datetime | None
