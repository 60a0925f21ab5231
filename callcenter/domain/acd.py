"""ACD routing rules (pure): caller priority by customer category, operator penalties from
skills, the expected wait of a caller, when a call overflows to the branch call centres, and
the emergency mode (an outage storm).

Priorities are Asterisk's QUEUE_PRIO: a higher number is served first, equal numbers in order
of arrival. Penalties are Asterisk member penalties: a queue rings members of the lowest
penalty first and reaches higher ones only when every lower one is busy, so the more skilled
operators of a line take its calls first.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from callcenter.domain.customers import CustomerCategory
from callcenter.domain.erlang import average_speed_of_answer

# --- priority -------------------------------------------------------------------------------

# Hospitals, schools, care homes first (an outage there is a safety matter), then firms.
CATEGORY_PRIORITY: Mapping[CustomerCategory, int] = {
    CustomerCategory.SOCIAL_FACILITY: 10,
    CustomerCategory.LEGAL_ENTITY: 5,
    CustomerCategory.INDIVIDUAL: 0,
}
# A caller we call back has already waited their turn: they go before everyone.
CALLBACK_PRIORITY = 20
# The key a waiting caller presses to book a callback: the queue's exit context in the
# rendered extensions.conf ([acd-exit]) and the offer the ACD speaks both use this one.
CALLBACK_DIGIT = "2"
MAX_PRIORITY = 99  # the dialplan keeps at most 3 digits of IVR_PRIORITY


def caller_priority(category: CustomerCategory | None, *, callback: bool = False) -> int:
    """QUEUE_PRIO for a caller (unknown callers are ordinary)."""
    if callback:
        return CALLBACK_PRIORITY
    if category is None:
        return 0
    return CATEGORY_PRIORITY.get(category, 0)


# --- skills and penalties -------------------------------------------------------------------

# The topics each support line answers (SPEC 1.5); operators' skills are levels 1-10 in them.
LINE_TOPICS: Mapping[int, tuple[str, ...]] = {
    1: ("outages", "power_quality", "contacts"),
    2: ("grid_connection", "metering", "services"),
    3: (),  # specialists of other departments: each is reached for their own speciality
}
MAX_SKILL_PENALTY = 3


def skill_penalty(skills: Mapping[str, int], topics: Iterable[str]) -> int:
    """0 for an expert in the queue's topics (mean level ≥ 8), up to 3 for a novice.

    A topic the operator has no level in counts as 0. A queue without topics adds nothing.
    """
    wanted = tuple(topics)
    if not wanted:
        return 0
    levels = [max(0, min(10, int(skills.get(topic, 0)))) for topic in wanted]
    mean = sum(levels) / len(levels)
    if mean >= 8:
        return 0
    if mean >= 6:
        return 1
    if mean >= 4:
        return 2
    return MAX_SKILL_PENALTY


def member_penalty(base_penalty: int, skills: Mapping[str, int], queue_line: int | None) -> int:
    """The penalty an operator joins a queue with: the configured one plus the skill one."""
    topics = LINE_TOPICS.get(queue_line, ()) if queue_line is not None else ()
    return max(0, base_penalty) + skill_penalty(skills, topics)


# --- expected wait --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """A queue as the wait estimate sees it."""

    serving: int  # operators logged in and not paused (ready, ringing, on a call, wrap-up)
    free: int  # of them, ready now
    aht_seconds: float  # observed average handling time (talk + after-call work)
    arrivals_per_hour: float = 0.0  # observed, for the Erlang C estimate


def expected_wait(load: QueueLoad, ahead: int) -> float | None:
    """Seconds until an operator answers a caller with `ahead` callers before them.

    Each of the `ahead` callers and then this one needs an operator: the free ones take the
    first `free`; the rest wait for calls to end, which with `serving` busy operators happens
    every AHT/serving seconds on average (exact for exponential handling times). None when no
    operator serves the queue at all: nobody will answer.
    """
    if load.serving <= 0:
        return None
    needed = max(0, ahead) + 1 - max(0, load.free)
    if needed <= 0:
        return 0.0
    return needed * max(load.aht_seconds, 0.0) / load.serving


def expected_wait_new_call(load: QueueLoad, waiting: int) -> float | None:
    """Expected wait of a caller joining now behind `waiting` callers.

    The position-based estimate, but never below what Erlang C predicts for the observed
    arrival rate (a queue that is empty this second is not idle when calls pour in).
    """
    by_position = expected_wait(load, waiting)
    if by_position is None:
        return None
    traffic = load.arrivals_per_hour * load.aht_seconds / 3600.0
    if traffic <= 0 or load.aht_seconds <= 0:
        return by_position
    asa = average_speed_of_answer(load.serving, traffic, load.aht_seconds)
    if math.isinf(asa):
        return by_position if by_position > 0 else load.aht_seconds / load.serving
    return max(by_position, asa)


# --- emergency mode -------------------------------------------------------------------------


class EmergencySource(StrEnum):
    SUPERVISOR = "supervisor"
    AUTOMATIC = "automatic"  # the inbound rate jumped


NORMAL_WAIT_TARGET = 40.0  # the standard: answer within 40 s
EMERGENCY_WAIT_TARGET = 180.0  # in an emergency at most 3 min


@dataclass(frozen=True, slots=True)
class EmergencyMode:
    active: bool = False
    source: EmergencySource | None = None
    since: datetime | None = None
    # what callers hear after the greeting while it lasts
    announcement: str = ""
    # the inbound rate before the storm (calls/hour), for switching an automatic mode off
    baseline_per_hour: float | None = None

    @property
    def wait_target_seconds(self) -> float:
        return EMERGENCY_WAIT_TARGET if self.active else NORMAL_WAIT_TARGET


DEFAULT_OUTAGE_ANNOUNCEMENT = (
    "Уважаемые абоненты! В связи с аварийными отключениями электроэнергии время ожидания "
    "ответа оператора увеличено. Информацию об отключениях в вашем населённом пункте вы "
    "можете получить в голосовом меню."
)


def switch_emergency(
    mode: EmergencyMode,
    *,
    active: bool,
    now: datetime,
    source: EmergencySource = EmergencySource.SUPERVISOR,
    announcement: str | None = None,
    baseline_per_hour: float | None = None,
) -> EmergencyMode:
    if not active:
        return EmergencyMode()
    text = (announcement or "").strip() or mode.announcement or DEFAULT_OUTAGE_ANNOUNCEMENT
    if mode.active:
        # a supervisor confirming an automatic mode takes it over (it no longer ends by itself)
        owner = EmergencySource.SUPERVISOR if source is EmergencySource.SUPERVISOR else mode.source
        return replace(mode, source=owner, announcement=text)
    return EmergencyMode(True, source, now, text, baseline_per_hour)


@dataclass(frozen=True, slots=True)
class SurgeRule:
    """When the inbound rate counts as a jump (automatic emergency mode)."""

    window_seconds: float = 300.0  # the recent rate is measured over this window
    baseline_seconds: float = 3600.0  # against the rate over the hour before it
    factor: float = 3.0  # recent rate ≥ factor × baseline rate
    min_calls: int = 30  # and at least this many calls in the window (no alarm at night)
    # an automatic mode ends once the rate has stayed below release_factor × the baseline
    # it started from for this long
    release_factor: float = 1.5
    release_seconds: float = 900.0
    # also an emergency, whatever the rate: every line-1 operator busy this long while
    # callers wait (a small centre swamped by a modest rise never reaches `min_calls`)
    all_busy_seconds: float = 180.0


class InboundRate:
    """Arrival times of inbound calls over the last baseline + window (bounded)."""

    def __init__(self, rule: SurgeRule, *, max_kept: int = 200_000) -> None:
        self.rule = rule
        self._arrivals: deque[datetime] = deque(maxlen=max_kept)
        self._calm_since: datetime | None = None

    def add(self, at: datetime) -> None:
        if self._arrivals and at < self._arrivals[-1]:
            at = self._arrivals[-1]  # keep the deque sorted; a late report counts as now
        self._arrivals.append(at)

    def _forget(self, now: datetime) -> None:
        horizon = now - timedelta(seconds=self.rule.window_seconds + self.rule.baseline_seconds)
        while self._arrivals and self._arrivals[0] < horizon:
            self._arrivals.popleft()

    def rates(self, now: datetime) -> tuple[int, float, float]:
        """(calls in the window, window rate, baseline rate), rates in calls per hour."""
        self._forget(now)
        window_start = now - timedelta(seconds=self.rule.window_seconds)
        recent = sum(1 for at in self._arrivals if at > window_start)
        before = len(self._arrivals) - recent
        window_rate = recent * 3600.0 / self.rule.window_seconds
        baseline_rate = before * 3600.0 / self.rule.baseline_seconds
        return recent, window_rate, baseline_rate

    def per_hour(self, now: datetime) -> float:
        return self.rates(now)[1]

    def check(self, mode: EmergencyMode, now: datetime) -> EmergencyMode:
        """Switch an automatic emergency mode on at a surge, off once it has passed. A mode a
        supervisor switched on is left alone."""
        recent, rate, baseline = self.rates(now)
        rule = self.rule
        if not mode.active:
            self._calm_since = None
            # an empty baseline (first hour after start) counts as one call per baseline
            floor = max(baseline, 3600.0 / rule.baseline_seconds)
            if recent >= rule.min_calls and rate >= rule.factor * floor:
                return switch_emergency(
                    mode,
                    active=True,
                    now=now,
                    source=EmergencySource.AUTOMATIC,
                    baseline_per_hour=baseline,
                )
            return mode
        if mode.source is not EmergencySource.AUTOMATIC:
            return mode
        reference = max(mode.baseline_per_hour or 0.0, 3600.0 / rule.baseline_seconds)
        if rate > rule.release_factor * reference:
            self._calm_since = None
            return mode
        if self._calm_since is None:
            self._calm_since = now
        if (now - self._calm_since).total_seconds() >= rule.release_seconds:
            self._calm_since = None
            return switch_emergency(mode, active=False, now=now)
        return mode


# --- overflow -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverflowPolicy:
    # normal mode: a caller expected to wait longer than this goes to the branches
    wait_seconds: float = 120.0
    # emergency mode opens the overflow: beyond the normal 40 s target already
    emergency_wait_seconds: float = NORMAL_WAIT_TARGET
    # line 1 with every operator busy (none ready) for this long overflows too
    all_busy_seconds: float = 60.0
    # how long a caller may wait in a queue before Asterisk gives up on it (Queue() timeout):
    # normal and emergency (the standard's 3 min)
    queue_timeout_seconds: float = 90.0
    emergency_queue_timeout_seconds: float = EMERGENCY_WAIT_TARGET


class RouteReason(StrEnum):
    STAY = "stay"
    NOBODY_SERVING = "nobody_serving"
    LONG_WAIT = "long_wait"
    ALL_BUSY = "all_busy"


@dataclass(frozen=True, slots=True)
class RouteDecision:
    queue: str
    overflowed: bool
    reason: RouteReason
    expected_wait: float | None  # in the chosen queue; None: unknown (nobody serving)
    timeout_seconds: float  # Queue()'s own limit in the chosen queue


def decide_route(
    *,
    queue: str,
    queue_line: int | None,
    expected: float | None,
    all_busy_for: float | None,
    overflow_queue: str | None,
    overflow_expected: float | None,
    mode: EmergencyMode,
    policy: OverflowPolicy,
) -> RouteDecision:
    """Stay in `queue`, or overflow to the branch call centres' queue.

    A caller overflows when nobody serves their queue, when their expected wait is beyond the
    threshold (lower in an emergency: the overflow opens), or, on line 1, when every operator
    has been busy for too long, and only if the overflow queue would answer sooner (its
    operators are there and its expected wait is shorter). Line 3 and the overflow queue
    itself never overflow (`overflow_queue` None).
    """
    timeout = (
        policy.emergency_queue_timeout_seconds if mode.active else policy.queue_timeout_seconds
    )
    threshold = policy.emergency_wait_seconds if mode.active else policy.wait_seconds
    reason = RouteReason.STAY
    if expected is None:
        reason = RouteReason.NOBODY_SERVING
    elif expected > threshold:
        reason = RouteReason.LONG_WAIT
    elif queue_line == 1 and all_busy_for is not None and all_busy_for >= policy.all_busy_seconds:
        reason = RouteReason.ALL_BUSY
    if reason is RouteReason.STAY:
        return RouteDecision(queue, False, reason, expected, timeout)
    if (
        overflow_queue is None
        or overflow_expected is None
        or (expected is not None and overflow_expected >= expected)
    ):
        # it would overflow, but the branches cannot do better: `reason` says why it wanted to
        return RouteDecision(queue, False, reason, expected, timeout)
    return RouteDecision(overflow_queue, True, reason, overflow_expected, timeout)


def wait_minutes(seconds: float) -> int:
    """The whole minutes to announce for an expected wait (rounded up, at least 1)."""
    return max(1, math.ceil(seconds / 60.0))
