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
from enum import StrEnum


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
