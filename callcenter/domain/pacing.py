"""Dial pacing: how many calls a campaign places now (predictive, progressive, power, none).

Pure: counts and estimates come in, a number comes out; time is a parameter (`at`, seconds on
any clock that only moves forward). The dialer calls `Pacer.decide` whenever something changed
and tells the pacer what happened to each call (`dial_finished`, `live_answer`, `handled`).

Predictive model. A call placed now becomes a live (human) answer with probability p (the
observed answer rate) about `horizon` seconds later (ring + answering-machine detection, also
observed), and that person waits at most `grace` seconds (2 s) for an operator, else the call
is abandoned. With n new calls on top of the c already in flight and w live answers already
waiting, the live answers to come are L ~ Binomial(c + n, p). The operators free by then are
K = ready + sum of Bernoulli(q_i) over busy operators, where q_i is the chance that operator i,
busy for e_i seconds, finishes within horizon + grace: taken from the empirical distribution
of handle times (talk + wrap-up), conditional on e_i. The expected abandons are
E[(L + w - K)+], and the pacer places the largest n whose expected abandons stay within a
share t of the expected live answers E[L] + w.

The share t comes from a rolling-window feedback: it aims at `aim` x target (60 % of 3 % by
default, a margin for estimation noise), is loosened (up to `max_gain` x) while the window's
measured abandon rate is below that aim and tightened in proportion when above, and drops to
zero (no call that could find no operator: progressive behaviour) while the window is at or
over the target. With t = 0 the rule places exactly the calls that every operator ready now
can take, so the predictive mode never dials less than the progressive one.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from callcenter.domain.campaigns import DialMode

DEFAULT_TARGET_ABANDON = 0.03  # abandoned calls as a share of live answers
DEFAULT_GRACE_SECONDS = 2.0  # a live answer that finds no operator within this is abandoned
DEFAULT_HANDLE_SECONDS = 180.0  # talk + wrap-up before any call was observed
DEFAULT_CONNECT_SECONDS = 15.0  # dial to live answer (ring + AMD) before any was observed
DEFAULT_ANSWER_RATE = 0.3  # prior for the live-answer rate of a new campaign
_EPSILON = 1e-9


class PacingReason(StrEnum):
    NO_OPERATORS = "no_operators"
    NO_CAPACITY = "no_capacity"  # no line or contact left to dial
    PREDICTED = "predicted"
    ABANDON_LIMIT = "abandon_limit"  # the window is at the limit: only zero-risk calls
    PROGRESSIVE = "progressive"
    POWER = "power"
    CHANNELS = "channels"  # no operators involved: fill the allowed channels
    PREVIEW = "preview"  # the operator starts each call


@dataclass(frozen=True, slots=True)
class OperatorLoad:
    """Operators working the campaign right now."""

    ready: int  # logged in and idle
    # for each operator in a call or in wrap-up: seconds since that call was handed to them
    busy_elapsed: tuple[float, ...] = ()

    @property
    def staffed(self) -> int:
        return self.ready + len(self.busy_elapsed)


@dataclass(frozen=True, slots=True)
class CallLoad:
    """The campaign's own calls that are not with an operator yet."""

    in_flight: int  # placed, fate not known yet (ringing, answering-machine detection)
    waiting_live: int = 0  # live answers waiting for an operator (inside the grace period)


@dataclass(frozen=True, slots=True)
class PredictiveSettings:
    target_abandon: float = DEFAULT_TARGET_ABANDON
    aim: float = 0.6  # share of the target aimed at: a margin for estimation and sampling noise
    max_gain: float = 2.0  # how far a clean window may loosen the share
    feedback_gain: float = 1.0  # how strongly the window's error moves the share
    min_live_for_feedback: int = 30  # fewer live answers in the window: no feedback yet
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    max_lines_per_operator: float = 6.0  # a hard cap whatever the estimates say

    def __post_init__(self) -> None:
        if not 0 < self.target_abandon < 1:
            raise ValueError("target_abandon must be a share between 0 and 1")
        if not 0 < self.aim <= 1 or self.max_gain < 1:
            raise ValueError("aim must be within (0, 1] and max_gain at least 1")


@dataclass(frozen=True, slots=True)
class PacingDecision:
    calls: int
    reason: PacingReason
    answer_rate: float = 0.0
    # expected abandons / expected live answers of what is pending after these calls
    expected_abandon_share: float = 0.0
    allowed_share: float = 0.0


class HandleTimes:
    """Recent handle times (talk + wrap-up), for the chance a busy operator frees soon."""

    def __init__(
        self,
        *,
        prior_mean: float = DEFAULT_HANDLE_SECONDS,
        capacity: int = 500,
        min_samples: int = 10,
    ) -> None:
        if prior_mean <= 0 or capacity < 1:
            raise ValueError("prior_mean and capacity must be positive")
        self._prior_mean = prior_mean
        self._capacity = capacity
        self._min_samples = min_samples
        self._order: deque[float] = deque()
        self._sorted: list[float] = []

    def add(self, seconds: float) -> None:
        value = max(0.0, float(seconds))
        self._order.append(value)
        bisect.insort(self._sorted, value)
        if len(self._order) > self._capacity:
            old = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def __len__(self) -> int:
        return len(self._order)

    @property
    def mean(self) -> float:
        if len(self._order) < self._min_samples:
            return self._prior_mean
        return sum(self._order) / len(self._order)

    def free_within(self, elapsed: float, horizon: float) -> float:
        """P(a call busy for `elapsed` s ends within the next `horizon` s)."""
        if horizon <= 0:
            return 0.0
        longer = len(self._sorted) - bisect.bisect_right(self._sorted, elapsed)
        if longer < self._min_samples:
            # too little history this far out: memoryless (exponential) guess
            return 1.0 - math.exp(-horizon / self.mean)
        ending = bisect.bisect_right(self._sorted, elapsed + horizon) - (len(self._sorted) - longer)
        return ending / longer


@dataclass(frozen=True, slots=True)
class WindowCounts:
    dials: int  # calls whose fate is known
    live: int  # live answers among them
    abandoned: int  # live answers that found no operator

    @property
    def abandon_rate(self) -> float:
        return self.abandoned / self.live if self.live else 0.0


@dataclass
class RollingOutcomes:
    """Dial results of the last `window_seconds`: answer rate and abandon rate."""

    window_seconds: float = 3600.0
    prior_answer_rate: float = DEFAULT_ANSWER_RATE
    prior_weight: float = 20.0  # the prior counts as this many dials
    _dials: deque[tuple[float, bool]] = field(default_factory=deque)
    _lives: deque[tuple[float, bool]] = field(default_factory=deque)
    _connect: deque[float] = field(default_factory=lambda: deque(maxlen=200))

    def dial_finished(self, at: float, *, live: bool, connect_seconds: float | None = None) -> None:
        """A placed call's fate is known: live answer or not (machine, busy, no answer...)."""
        self._dials.append((at, live))
        if live and connect_seconds is not None:
            self._connect.append(max(0.0, connect_seconds))

    def live_answer(self, at: float, *, abandoned: bool) -> None:
        """A live answer reached an operator, or was abandoned."""
        self._lives.append((at, abandoned))

    def _trim(self, at: float) -> None:
        limit = at - self.window_seconds
        while self._dials and self._dials[0][0] < limit:
            self._dials.popleft()
        while self._lives and self._lives[0][0] < limit:
            self._lives.popleft()

    def counts(self, at: float) -> WindowCounts:
        self._trim(at)
        return WindowCounts(
            dials=len(self._dials),
            live=len(self._lives),
            abandoned=sum(1 for _, abandoned in self._lives if abandoned),
        )

    def answer_rate(self, at: float) -> float:
        self._trim(at)
        live = sum(1 for _, is_live in self._dials if is_live)
        rate = (live + self.prior_answer_rate * self.prior_weight) / (
            len(self._dials) + self.prior_weight
        )
        return min(max(rate, 0.0), 1.0)

    def connect_seconds(self) -> float:
        if not self._connect:
            return DEFAULT_CONNECT_SECONDS
        return sum(self._connect) / len(self._connect)


# ----------------------------------------------------------------------------- the rules


def progressive_calls(operators: OperatorLoad, calls: CallLoad) -> int:
    """One call per idle operator: every live answer has an operator waiting."""
    return max(0, operators.ready - calls.waiting_live - calls.in_flight)


def power_calls(operators: OperatorLoad, calls: CallLoad, ratio: float) -> int:
    """A fixed number of lines per idle operator."""
    if ratio < 1:
        raise ValueError("a power dialler places at least one line per idle operator")
    lines = math.floor(ratio * operators.ready + _EPSILON)
    return max(0, lines - calls.waiting_live - calls.in_flight)


def channel_calls(max_channels: int, active: int) -> int:
    """No operators involved (auto-informing, surveys): fill the campaign's channels."""
    return max(0, max_channels - active)


def poisson_binomial(chances: Iterable[float]) -> list[float]:
    """P(exactly k of independent events happen), for k = 0..len(chances)."""
    pmf = [1.0]
    shift = 0
    for q in chances:
        if q <= _EPSILON:
            continue
        if q >= 1 - _EPSILON:
            shift += 1
            continue
        nxt = [0.0] * (len(pmf) + 1)
        for k, value in enumerate(pmf):
            nxt[k] += value * (1 - q)
            nxt[k + 1] += value * q
        pmf = nxt
    return [0.0] * shift + pmf


def _binomial_head(n: int, p: float, upto: int) -> list[float]:
    """P(L = l) for l = 0..upto-1, L ~ Binomial(n, p) (log space: no underflow for big n)."""
    size = min(upto, n + 1)
    if size <= 0:
        return []
    if p <= 0:
        return [1.0] + [0.0] * (size - 1)
    if p >= 1:
        return [0.0] * size if n >= size else [0.0] * (size - 1) + [1.0]
    log_p, log_q = math.log(p), math.log1p(-p)
    base = math.lgamma(n + 1)
    return [
        math.exp(base - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q)
        for k in range(size)
    ]


def expected_abandons(n: int, p: float, waiting: int, free_pmf: Sequence[float]) -> float:
    """E[(L + waiting - K)+] with L ~ Binomial(n, p) and P(K = k) = free_pmf[k]."""
    mean_live = n * p
    top = len(free_pmf) - waiting  # the largest number of new lives K could still absorb
    head = _binomial_head(n, p, max(top, 0))
    # prefix sums: F[j] = P(L < j), G[j] = E[L; L < j]
    cum_f = [0.0]
    cum_g = [0.0]
    for value_l, prob in enumerate(head):
        cum_f.append(cum_f[-1] + prob)
        cum_g.append(cum_g[-1] + value_l * prob)
    total = 0.0
    for k, prob_k in enumerate(free_pmf):
        if prob_k <= 0:
            continue
        j = k - waiting  # operators left for new lives
        if j <= 0:
            excess = mean_live - j
        else:
            jj = min(j, len(head))
            shortfall = j * cum_f[jj] - cum_g[jj]
            if j > len(head):  # L never reaches j when n < j: P(L < j) = 1
                shortfall = j - mean_live
            excess = mean_live - j + shortfall
        total += prob_k * max(excess, 0.0)
    return total


def predictive_calls(
    operators: OperatorLoad,
    calls: CallLoad,
    *,
    answer_rate: float,
    free_chances: Sequence[float],
    window: WindowCounts,
    settings: PredictiveSettings,
    max_new: int,
) -> PacingDecision:
    """The largest number of calls to place now that keeps expected abandons within the share
    the rolling window allows (see the module docstring)."""
    if operators.staffed == 0:
        return PacingDecision(0, PacingReason.NO_OPERATORS, answer_rate)
    cap = math.floor(settings.max_lines_per_operator * operators.staffed + _EPSILON)
    limit = min(max_new, cap - calls.in_flight - calls.waiting_live)
    if limit <= 0:
        return PacingDecision(0, PacingReason.NO_CAPACITY, answer_rate)
    allowed = allowed_share(window, settings)
    reason = PacingReason.PREDICTED if allowed > 0 else PacingReason.ABANDON_LIMIT
    p = min(max(answer_rate, 0.0), 1.0)
    free_pmf = [0.0] * operators.ready + poisson_binomial(free_chances)

    def share(n: int) -> float:
        lives = (calls.in_flight + n) * p + calls.waiting_live
        if lives <= 0:
            return 0.0
        return expected_abandons(calls.in_flight + n, p, calls.waiting_live, free_pmf) / lives

    # the share grows with n: binary search for the last n within the allowance
    low, high = 0, limit
    if share(0) > allowed + _EPSILON:
        # already over: place only what operators ready now can surely take
        n = min(limit, progressive_calls(operators, calls))
        return PacingDecision(n, reason, p, share(n), allowed)
    while low < high:
        mid = (low + high + 1) // 2
        if share(mid) <= allowed + _EPSILON:
            low = mid
        else:
            high = mid - 1
    return PacingDecision(low, reason, p, share(low), allowed)


def allowed_share(window: WindowCounts, settings: PredictiveSettings) -> float:
    """Expected abandons allowed per expected live answer, from the rolling window."""
    aim = settings.aim * settings.target_abandon
    if window.live < settings.min_live_for_feedback:
        return aim
    rate = window.abandon_rate
    if rate >= settings.target_abandon:
        return 0.0
    gain = 1.0 + settings.feedback_gain * (aim - rate) / aim
    return aim * min(max(gain, 0.0), settings.max_gain)


# ----------------------------------------------------------------------------- the pacer


@dataclass(frozen=True, slots=True)
class PacerConfig:
    mode: DialMode
    predictive: PredictiveSettings = field(default_factory=PredictiveSettings)
    power_ratio: float = 2.0
    max_channels: int = 30  # auto-informing / surveys: simultaneous calls
    window_seconds: float = 3600.0


class Pacer:
    """One campaign's pacing state: what it has observed, and the decision rule of its mode."""

    def __init__(self, config: PacerConfig, *, prior_handle_seconds: float | None = None) -> None:
        self.config = config
        self.handle_times = HandleTimes(prior_mean=prior_handle_seconds or DEFAULT_HANDLE_SECONDS)
        self.outcomes = RollingOutcomes(window_seconds=config.window_seconds)

    # --- what happened ------------------------------------------------------------------

    def dial_finished(self, at: float, *, live: bool, connect_seconds: float | None = None) -> None:
        self.outcomes.dial_finished(at, live=live, connect_seconds=connect_seconds)

    def live_answer(self, at: float, *, abandoned: bool) -> None:
        self.outcomes.live_answer(at, abandoned=abandoned)

    def handled(self, seconds: float) -> None:
        """An operator finished a campaign call (talk + wrap-up took `seconds`)."""
        self.handle_times.add(seconds)

    # --- the decision -------------------------------------------------------------------

    def horizon(self) -> float:
        return self.outcomes.connect_seconds() + self.config.predictive.grace_seconds

    def decide(
        self,
        at: float,
        operators: OperatorLoad,
        calls: CallLoad,
        *,
        max_new: int,
        active_channels: int | None = None,
    ) -> PacingDecision:
        """How many calls to place now. `max_new` bounds it (contacts due, free trunk lines);
        `active_channels` (operator-less campaigns) counts every call of the campaign up."""
        mode = self.config.mode
        if max_new <= 0:
            return PacingDecision(0, PacingReason.NO_CAPACITY)
        if mode is DialMode.NONE:
            active = calls.in_flight if active_channels is None else active_channels
            n = channel_calls(self.config.max_channels, active)
            return PacingDecision(min(n, max_new), PacingReason.CHANNELS)
        if mode is DialMode.PREVIEW:
            return PacingDecision(0, PacingReason.PREVIEW)
        if mode is DialMode.PROGRESSIVE:
            n = progressive_calls(operators, calls)
            return PacingDecision(min(n, max_new), PacingReason.PROGRESSIVE)
        if mode is DialMode.POWER:
            n = power_calls(operators, calls, self.config.power_ratio)
            return PacingDecision(min(n, max_new), PacingReason.POWER)
        horizon = self.horizon()
        chances = [self.handle_times.free_within(e, horizon) for e in operators.busy_elapsed]
        return predictive_calls(
            operators,
            calls,
            answer_rate=self.outcomes.answer_rate(at),
            free_chances=chances,
            window=self.outcomes.counts(at),
            settings=self.config.predictive,
            max_new=max_new,
        )
