"""Contact-centre service metrics (pure): average speed of answer, service level, abandon rate,
average handling time and occupancy, for any window, line, and 15-minute interval.

Definitions (the ones a supervisor can check by hand):
- a *contact* is one caller's stay in one queue, counted in the interval in which it was
  offered (joined the queue). Contacts still waiting are not counted yet; contacts whose caller
  booked a callback are not counted at all (the callback call is counted when it comes);
- offered = answered + abandoned + left (left the queue unanswered: overflow to another
  queue, Queue() timeout, transfer, voicemail);
- ASA = mean wait of the answered contacts;
- service level = answered within the target (40 s) / offered;
- abandon rate = abandoned / offered;
- AHT = mean of talk + after-call work over answered contacts whose talk time is known;
- occupancy = busy / (busy + ready) operator time in the window, busy being ringing, on a
  call or in after-call work; paused and logged-out time does not count. An operator counts
  for the line they belong to.
A ratio with nothing to divide by is None (shown as "no data"), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from callcenter.domain.agents import BUSY_STATES, OperatorState

SERVICE_LEVEL_TARGET_SECONDS = 40.0
INTERVAL_MINUTES = 15


class ContactOutcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    LEFT = "left"  # unanswered in this queue: overflow, timeout, transfer, voicemail
    CALLBACK = "callback"  # the caller booked a callback and hung up


@dataclass(frozen=True, slots=True)
class QueueContact:
    queue: str
    line: int | None
    offered_at: datetime
    outcome: ContactOutcome
    wait_seconds: float
    talk_seconds: float | None = None  # answered contacts, once the conversation ended
    wrap_seconds: float | None = None  # the operator's after-call work for it, once over
    operator_id: int | None = None


@dataclass(frozen=True, slots=True)
class StateSpan:
    """An operator in one state from `start` to `end` (None: still in it)."""

    operator_id: int
    line: int | None
    state: OperatorState
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    offered: int
    answered: int
    abandoned: int
    left: int
    answered_within_target: int
    asa_seconds: float | None
    service_level: float | None
    abandon_rate: float | None
    aht_seconds: float | None
    occupancy: float | None
    busy_seconds: float
    ready_seconds: float


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def _overlap(span: StateSpan, start: datetime, end: datetime, now: datetime | None) -> float:
    span_end = min(end if span.end is None else span.end, end)
    if span.end is None and now is not None:
        span_end = min(span_end, now)
    span_start = max(span.start, start)
    return max(0.0, (span_end - span_start).total_seconds())


def compute(
    contacts: Iterable[QueueContact],
    spans: Iterable[StateSpan],
    *,
    start: datetime,
    end: datetime,
    line: int | None = None,
    target_seconds: float = SERVICE_LEVEL_TARGET_SECONDS,
    now: datetime | None = None,
) -> ServiceMetrics:
    """Metrics of contacts offered in [start, end) and operator time within it; `line` None
    means every line. States still going on (`end` None) count up to `now`."""
    offered = answered = abandoned = left = within = 0
    wait_total = 0.0
    handled = 0
    handle_total = 0.0
    for contact in contacts:
        if not start <= contact.offered_at < end:
            continue
        if line is not None and contact.line != line:
            continue
        match contact.outcome:
            case ContactOutcome.CALLBACK:
                continue
            case ContactOutcome.ANSWERED:
                answered += 1
                wait_total += contact.wait_seconds
                if contact.wait_seconds <= target_seconds:
                    within += 1
                if contact.talk_seconds is not None:
                    handled += 1
                    handle_total += contact.talk_seconds + (contact.wrap_seconds or 0.0)
            case ContactOutcome.ABANDONED:
                abandoned += 1
            case ContactOutcome.LEFT:
                left += 1
        offered += 1
    busy = ready = 0.0
    for span in spans:
        if line is not None and span.line != line:
            continue
        if span.state in BUSY_STATES:
            busy += _overlap(span, start, end, now)
        elif span.state is OperatorState.READY:
            ready += _overlap(span, start, end, now)
    return ServiceMetrics(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        left=left,
        answered_within_target=within,
        asa_seconds=_ratio(wait_total, answered),
        service_level=_ratio(within, offered),
        abandon_rate=_ratio(abandoned, offered),
        aht_seconds=_ratio(handle_total, handled),
        occupancy=_ratio(busy, busy + ready),
        busy_seconds=busy,
        ready_seconds=ready,
    )


def interval_start(
    moment: datetime, *, origin: datetime, minutes: int = INTERVAL_MINUTES
) -> datetime:
    """The start of the `minutes`-long interval holding `moment`, counted from `origin`
    (e.g. local midnight, so intervals fall on :00, :15, :30, :45)."""
    step = timedelta(minutes=minutes)
    return origin + ((moment - origin) // step) * step


@dataclass(frozen=True, slots=True)
class IntervalMetrics:
    start: datetime
    end: datetime
    metrics: ServiceMetrics


def intervals(
    contacts: Iterable[QueueContact],
    spans: Iterable[StateSpan],
    *,
    origin: datetime,
    until: datetime,
    line: int | None = None,
    minutes: int = INTERVAL_MINUTES,
    target_seconds: float = SERVICE_LEVEL_TARGET_SECONDS,
) -> list[IntervalMetrics]:
    """One row per interval from `origin` up to the one holding `until` (operator states still
    going on count up to `until`). Contacts and spans are bucketed first, so a day of traffic
    costs one pass rather than one per interval."""
    step = timedelta(minutes=minutes)
    count = max(0, (until - origin) // step) + 1
    contact_buckets: list[list[QueueContact]] = [[] for _ in range(count)]
    for contact in contacts:
        if origin <= contact.offered_at:
            index = (contact.offered_at - origin) // step
            if index < count:
                contact_buckets[index].append(contact)
    span_buckets: list[list[StateSpan]] = [[] for _ in range(count)]
    for span in spans:
        last = until if span.end is None else min(span.end, until)
        if last < origin:
            continue
        first_index = max(0, (span.start - origin) // step)
        last_index = min(count - 1, (last - origin) // step)
        for index in range(first_index, last_index + 1):
            span_buckets[index].append(span)
    rows = []
    for index in range(count):
        start = origin + index * step
        metrics = compute(
            contact_buckets[index],
            span_buckets[index],
            start=start,
            end=start + step,
            line=line,
            target_seconds=target_seconds,
            now=until,
        )
        rows.append(IntervalMetrics(start, start + step, metrics))
    return rows
