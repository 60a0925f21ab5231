"""Dial pacing: how many calls a campaign places now (predictive, progressive, power, none).

Pure: counts and estimates come in, a number comes out; time is a parameter (`at`, seconds on
any clock that only moves forward). The dialer calls `Pacer.decide` whenever something changed
and tells the pacer what happened to each call (`dial_finished`, `live_answer`, `handled`).

Predictive model. Every call placed becomes a live (human) answer with some chance; that person
waits at most `grace` seconds (2 s) for an operator, else the call is abandoned. The live
answers still to come are L = (a Bernoulli per call in flight) + Binomial(n, p) for n new
calls, where p is the live-answer rate of the most recent dials (a count-limited window, so a
drifting answer rate is followed within minutes) and a call already ringing for e seconds is
live with the conditional chance p S_live(e) / (p S_live(e) + (1 - p) S_other(e)) (S: the
observed share of live answers / other fates still unresolved after e seconds; a call ringing
for long is mostly going to ring out). The operators free to take them are K = ready + a
Bernoulli per busy operator: the chance q_i that operator i finishes within the connect time
+ grace, times the observed share of calls after which an operator comes back ready rather
than pausing. q_i comes from the empirical distributions, conditional on how long i has been
at it: of wrap-up (8-25 s, say) for an operator in wrap-up, of talk (+ a typical wrap-up) for
one still talking, or of the whole handle time when the caller does not tell wrap-up apart.
The expected abandons are E[(L + w - K)+] (w: live answers already waiting). The pacer adds
calls one at a time while each call's own expected abandons (the increase of that
expectation) per live answer it brings stay within `marginal_factor` x the allowed share s:
the marginal rule, which spends the budget where an extra call costs little rather than
letting the calls already pending use it up.

The share s is set by a feedback on the rolling window (one hour): it starts at
`start_share` x target while the window has too few live answers to judge, then an integral
controller multiplies the target (2.5 % by default) by a gain (`min_gain`..`max_gain`) that
falls while the window's measured abandon rate is above the target and rises back while
below. Between the target and the ceiling (3 %) the share fades out, and the ceiling itself
is guarded by a chance constraint: the calls pending may abandon more than the window's room
below the ceiling (less `ceiling_margin_abandons`, since abandons come in bursts the
independence model underrates) only with `ceiling_risk` chance. The room is the smaller of
the window's now and as it will be in `look_ahead_seconds` (the hour's oldest live answers
leave it, raising its rate with no new abandon), and the extra calls fade out as the room
shrinks below `room_fade_abandons` rather than stopping dead when it is gone: a pacer that
dials hard until the limit and then only progressively loses more talk time than it gains.
With s = 0 the rule places exactly the calls that every operator ready now can take, so the
predictive mode never dials less than the progressive one. A list running out needs nothing
special: `max_new` (the contacts due) bounds each decision, and what is placed near the end
follows the same budget as any other call (never more than an endless list would get).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from callcenter.domain.campaigns import DialMode

DEFAULT_TARGET_ABANDON = 0.025  # aimed at: abandoned calls as a share of live answers
DEFAULT_CEILING_ABANDON = 0.03  # never above this over the rolling hour (the rule)
DEFAULT_GRACE_SECONDS = 2.0  # a live answer that finds no operator within this is abandoned
DEFAULT_HANDLE_SECONDS = 180.0  # talk + wrap-up before any call was observed
DEFAULT_ANSWER_RATE = 0.3  # prior for the live-answer rate of a new campaign
_EPSILON = 1e-9
_TINY = 1e-12  # probability mass below this is dropped from the tail of a distribution
_PRIOR_FATES = 40  # prior fate-time samples of each kind (see RollingOutcomes)


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
    # for each operator in a call (and in wrap-up, unless `wrapping_elapsed` is given):
    # seconds since that call was handed to them
    busy_elapsed: tuple[float, ...] = ()
    # for each operator in wrap-up: seconds since their wrap-up began; None: wrap-up is not
    # told apart (those operators are in `busy_elapsed`). Wrap-up is short and regular, so an
    # operator in it is a far better bet to be free soon than one still talking
    wrapping_elapsed: tuple[float, ...] | None = None

    @property
    def staffed(self) -> int:
        return self.ready + len(self.busy_elapsed) + len(self.wrapping_elapsed or ())


@dataclass(frozen=True, slots=True)
class CallLoad:
    """The campaign's own calls that are not with an operator yet."""

    in_flight: int  # placed, fate not known yet (ringing, answering-machine detection)
    waiting_live: int = 0  # live answers waiting for an operator (inside the grace period)
    # seconds since each call in flight was placed, when known (len == in_flight): a call
    # ringing for long is less likely to be answered than a fresh one
    in_flight_elapsed: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class PredictiveSettings:
    target_abandon: float = DEFAULT_TARGET_ABANDON
    ceiling_abandon: float = DEFAULT_CEILING_ABANDON
    start_share: float = 0.6  # share of the target aimed at before the window can be judged
    min_live_for_feedback: int = 30  # fewer live answers in the window: no feedback yet
    # the gain on the model's estimate moves by e^(error x dt / feedback_seconds), error being
    # (target - window rate) / target: an integral controller, so a biased model still lands
    # on the target
    feedback_seconds: float = 900.0
    min_gain: float = 0.04
    max_gain: float = 1.0
    # the window keeps room for this many abandons below the ceiling: the model's tail is
    # thinner than the real one (answers and free operators are not quite independent)
    ceiling_margin_abandons: float = 2.5
    # the chance allowed that the calls pending abandon more than the window's room below
    # the ceiling
    ceiling_risk: float = 0.01
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    max_lines_per_operator: float = 6.0  # a hard cap whatever the estimates say
    answer_rate_dials: int = 300  # the answer rate is measured over this many recent dials
    # until this many dials have settled the answer rate is mostly the prior: the pacer then
    # assumes it two standard deviations higher (fewer calls), so a list that answers more
    # than the prior says does not start with a burst of abandons
    warmup_dials: int = 100
    # a call is placed while its own expected abandons per expected live answer stay within
    # this multiple of the allowed share (the feedback gain scales it further)
    marginal_factor: float = 1.5
    # with fewer abandons than this left below the ceiling (after the margin) the extra
    # calls fade out in proportion
    room_fade_abandons: float = 4.0
    # the room below the ceiling is also judged on the window as it will be this much later
    # (calls placed now are answered within about half a minute; the hour's oldest live
    # answers leave meanwhile)
    look_ahead_seconds: float = 120.0

    def __post_init__(self) -> None:
        if not 0 < self.target_abandon < 1 or not 0 < self.ceiling_abandon < 1:
            raise ValueError("target_abandon and ceiling_abandon must be shares between 0 and 1")
        if self.target_abandon > self.ceiling_abandon:
            raise ValueError("target_abandon must not exceed ceiling_abandon")
        if not 0 < self.start_share <= 1 or not 0 < self.min_gain <= 1 <= self.max_gain:
            raise ValueError("start_share within (0, 1], min_gain <= 1 <= max_gain")


@dataclass(frozen=True, slots=True)
class PacingDecision:
    calls: int
    reason: PacingReason
    answer_rate: float = 0.0
    # expected abandons / expected live answers of what is pending after these calls
    expected_abandon_share: float = 0.0
    allowed_share: float = 0.0


class _RecentSorted:
    """The most recent `capacity` values, also kept sorted (survival shares by bisection)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._order: deque[float] = deque()
        self.sorted: list[float] = []

    def add(self, value: float) -> None:
        self._order.append(value)
        bisect.insort(self.sorted, value)
        if len(self._order) > self._capacity:
            old = self._order.popleft()
            del self.sorted[bisect.bisect_left(self.sorted, old)]

    def __len__(self) -> int:
        return len(self._order)

    def total(self) -> float:
        return sum(self._order)

    def longer_than(self, value: float) -> int:
        return len(self.sorted) - bisect.bisect_right(self.sorted, value)

    def survival(self, value: float) -> float:
        """Share of the values above `value` (1.0 with no values)."""
        if not self.sorted:
            return 1.0
        return self.longer_than(value) / len(self.sorted)


class HandleTimes:
    """Recent handle times (talk + wrap-up), for the chance a busy operator frees soon, and
    how often an operator comes back ready after a call (rather than pausing or leaving)."""

    def __init__(
        self,
        *,
        prior_mean: float = DEFAULT_HANDLE_SECONDS,
        capacity: int = 500,
        min_samples: int = 10,
        returns_capacity: int = 200,
        returns_prior_weight: float = 5.0,
    ) -> None:
        if prior_mean <= 0 or capacity < 1:
            raise ValueError("prior_mean and capacity must be positive")
        self._prior_mean = prior_mean
        self._min_samples = min_samples
        self._times = _RecentSorted(capacity)
        self._talks = _RecentSorted(capacity)  # handle minus wrap-up, when wrap-up is told
        self._wraps = _RecentSorted(capacity)
        self._returns: deque[bool] = deque(maxlen=returns_capacity)
        self._returns_prior = returns_prior_weight

    def add(
        self, seconds: float, *, returned: bool = True, wrap_seconds: float | None = None
    ) -> None:
        """A call ended after `seconds`; `returned`: its operator went ready again after it;
        `wrap_seconds`: how much of it was wrap-up (when the caller tells wrap-up apart)."""
        seconds = max(0.0, float(seconds))
        self._times.add(seconds)
        self._returns.append(returned)
        if wrap_seconds is not None:
            wrap = min(max(0.0, float(wrap_seconds)), seconds)
            self._wraps.add(wrap)
            self._talks.add(seconds - wrap)

    def __len__(self) -> int:
        return len(self._times)

    @property
    def mean(self) -> float:
        if len(self._times) < self._min_samples:
            return self._prior_mean
        return self._times.total() / len(self._times)

    @property
    def return_rate(self) -> float:
        """Share of calls after which the operator came back ready (prior: all of them)."""
        back = sum(self._returns) + self._returns_prior
        return back / (len(self._returns) + self._returns_prior)

    def free_within(self, elapsed: float, horizon: float) -> float:
        """P(a call busy for `elapsed` s ends within the next `horizon` s)."""
        if horizon <= 0:
            return 0.0
        longer = self._times.longer_than(elapsed)
        if longer < self._min_samples:
            # too little history this far out: memoryless (exponential) guess
            return 1.0 - math.exp(-horizon / self.mean)
        ending = longer - self._times.longer_than(elapsed + horizon)
        return ending / longer

    def free_within_wrap(self, elapsed: float, horizon: float) -> float:
        """P(an operator in wrap-up for `elapsed` s is free within the next `horizon` s)."""
        if horizon <= 0:
            return 0.0
        longer = self._wraps.longer_than(elapsed)
        if longer < self._min_samples:
            # little history: wrap-up is short, an exponential guess around its usual length
            mean = self._wraps.total() / len(self._wraps) if len(self._wraps) else 15.0
            return 1.0 - math.exp(-horizon / max(mean, 1.0))
        ending = longer - self._wraps.longer_than(elapsed + horizon)
        return ending / longer

    def free_within_talk(self, elapsed: float, horizon: float) -> float:
        """P(an operator talking for `elapsed` s is free (talk and wrap-up over) within the
        next `horizon` s): the talk must end early enough for a typical wrap-up to fit."""
        if horizon <= 0:
            return 0.0
        longer = self._talks.longer_than(elapsed)
        if longer < self._min_samples or len(self._wraps) < self._min_samples:
            return self.free_within(elapsed, horizon)
        # average over a few quantiles of wrap-up length
        wraps = self._wraps.sorted
        quantiles = [wraps[min(len(wraps) - 1, int(len(wraps) * (i + 0.5) / 5))] for i in range(5)]
        total = 0.0
        for wrap in quantiles:
            room = horizon - wrap
            if room > 0:
                total += (longer - self._talks.longer_than(elapsed + room)) / longer
        return total / len(quantiles)


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
    """Dial results of the last `window_seconds` (abandon rate), the live-answer rate of the
    most recent `answer_dials` dials, and how long calls take to resolve."""

    window_seconds: float = 3600.0
    prior_answer_rate: float = DEFAULT_ANSWER_RATE
    prior_weight: float = 20.0  # the prior counts as this many dials
    answer_dials: int = 300
    _dials: deque[tuple[float, bool]] = field(default_factory=deque)
    _lives: deque[tuple[float, bool]] = field(default_factory=deque)
    _abandoned: int = 0
    _recent_live: int = 0
    _recent: deque[bool] = field(default_factory=deque)
    # dial-to-fate seconds of live answers and of other fates; a dial is only counted once
    # every dial placed as early as it has surely resolved (`settle_seconds` later), else the
    # quick fates of the first minute would pass for the whole distribution
    settle_seconds: float = 60.0
    _connect: _RecentSorted = field(default_factory=lambda: _RecentSorted(300))
    _other: _RecentSorted = field(default_factory=lambda: _RecentSorted(300))
    _unsettled: list[tuple[float, float, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # a prior shape of fate times (ring timeout 30 s), displaced by what is observed
        for i in range(_PRIOR_FATES):
            share = (i + 0.5) / _PRIOR_FATES
            self._connect.add(8.0 + 12.0 * share)  # a person: 8-20 s (ring + detection)
            if share < 0.3:
                self._other.add(0.5 + 3.5 * share / 0.3)  # busy, failed: within 4 s
            elif share < 0.6:
                self._other.add(8.0 + 12.0 * (share - 0.3) / 0.3)  # machines: as people
            else:
                self._other.add(30.0)  # ringing out

    def dial_finished(self, at: float, *, live: bool, connect_seconds: float | None = None) -> None:
        """A placed call's fate is known: live answer or not (machine, busy, no answer...);
        `connect_seconds`: how long after it was placed."""
        self._dials.append((at, live))
        seconds = max(0.0, connect_seconds or 0.0)
        heapq.heappush(self._unsettled, (at - seconds, seconds, live))
        self._settle(at)

    def _settle(self, at: float) -> None:
        """Dials placed long enough ago that every dial placed with them has resolved: their
        fates and times count now (counting the quick fates of the last minute first would
        bias both the answer rate and the fate times)."""
        while self._unsettled and self._unsettled[0][0] < at - self.settle_seconds:
            _, seconds, live = heapq.heappop(self._unsettled)
            (self._connect if live else self._other).add(seconds)
            self._recent.append(live)
            self._recent_live += live
            if len(self._recent) > self.answer_dials:
                self._recent_live -= self._recent.popleft()

    def live_answer(self, at: float, *, abandoned: bool) -> None:
        """A live answer reached an operator, or was abandoned."""
        self._lives.append((at, abandoned))
        self._abandoned += abandoned

    def _trim(self, at: float) -> None:
        limit = at - self.window_seconds
        while self._dials and self._dials[0][0] < limit:
            self._dials.popleft()
        while self._lives and self._lives[0][0] < limit:
            self._abandoned -= self._lives.popleft()[1]

    def counts(self, at: float) -> WindowCounts:
        self._trim(at)
        return WindowCounts(
            dials=len(self._dials), live=len(self._lives), abandoned=self._abandoned
        )

    def counts_ahead(self, at: float, ahead: float) -> WindowCounts:
        """What will be left of the window `ahead` s from now if nothing new happens."""
        now = self.counts(at)
        limit = at + ahead - self.window_seconds
        live, abandoned = now.live, now.abandoned
        for when, dropped in self._lives:
            if when >= limit:
                break
            live -= 1
            abandoned -= dropped
        leaving = 0
        for when, _ in self._dials:
            if when >= limit:
                break
            leaving += 1
        return WindowCounts(dials=now.dials - leaving, live=live, abandoned=abandoned)

    def answer_rate(self, at: float) -> float:
        """Live answers per dial over the most recent settled dials, with the prior."""
        self._settle(at)
        rate = (self._recent_live + self.prior_answer_rate * self.prior_weight) / (
            len(self._recent) + self.prior_weight
        )
        return min(max(rate, 0.0), 1.0)

    @property
    def settled(self) -> int:
        """Dials counted in the answer rate so far (at most `answer_dials`)."""
        return len(self._recent)

    def answer_rate_spread(self, at: float) -> float:
        """The standard deviation of the answer rate's estimate (a Beta posterior)."""
        p = self.answer_rate(at)
        weight = len(self._recent) + self.prior_weight
        return math.sqrt(p * (1.0 - p) / (weight + 1.0))

    def connect_seconds(self) -> float:
        return self._connect.total() / len(self._connect)

    def live_chance(self, elapsed: float, answer_rate: float) -> float:
        """P(a call still unresolved `elapsed` s after it was placed becomes a live answer)."""
        live = answer_rate * self._connect.survival(elapsed)
        other = (1.0 - answer_rate) * self._other.survival(elapsed)
        if live + other <= 0:
            return 0.0
        return live / (live + other)


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
        pmf = _add_bernoulli(pmf, q)
    return [0.0] * shift + pmf


def _add_bernoulli(pmf: list[float], q: float) -> list[float]:
    """The distribution of X + B for X ~ pmf and B ~ Bernoulli(q), tail mass < _TINY dropped."""
    keep = 1.0 - q
    nxt = [a * keep + b * q for a, b in zip([*pmf, 0.0], [0.0, *pmf], strict=True)]
    while len(nxt) > 1 and nxt[-1] < _TINY:
        nxt.pop()
    return nxt


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
    return _expected_excess(head, mean_live, waiting, free_pmf)


def _expected_excess(
    head: Sequence[float], mean_live: float, waiting: int, free_pmf: Sequence[float]
) -> float:
    """E[(L + waiting - K)+] from P(L = l) for the first values of l (`head`; L never exceeds
    what `head` does not cover when `head` is the whole distribution) and E[L]."""
    cum_f = [0.0]  # F[j] = P(L < j)
    cum_g = [0.0]  # G[j] = E[L; L < j]
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
        elif j >= len(head):
            # P(L < j) = 1 when head is the whole support below j: no excess
            jj = len(head)
            shortfall = j * cum_f[jj] - cum_g[jj] + j * (1.0 - cum_f[jj])
            excess = mean_live - j + shortfall
        else:
            excess = mean_live - j + j * cum_f[j] - cum_g[j]
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
    live_chances: Sequence[float] | None = None,
    gain: float = 1.0,
    window_ahead: WindowCounts | None = None,
) -> PacingDecision:
    """The largest number of calls to place now whose own expected abandons stay within the
    share the rolling window allows (see the module docstring). `live_chances`: the chance
    each call in flight becomes a live answer (default: `answer_rate` for every one).
    `window_ahead`: what will be left of the window a little later (the live answers leaving
    it raise its rate without any new abandon): the room below the ceiling is the smaller."""
    if operators.staffed == 0:
        return PacingDecision(0, PacingReason.NO_OPERATORS, answer_rate)
    cap = math.floor(settings.max_lines_per_operator * operators.staffed + _EPSILON)
    limit = min(max_new, cap - calls.in_flight - calls.waiting_live)
    if limit <= 0:
        return PacingDecision(0, PacingReason.NO_CAPACITY, answer_rate)
    allowed = allowed_share(window, settings, gain)
    reason = PacingReason.PREDICTED if allowed > 0 else PacingReason.ABANDON_LIMIT
    p = min(max(answer_rate, 0.0), 1.0)
    chances = [p] * calls.in_flight if live_chances is None else list(live_chances)
    free_pmf = [0.0] * operators.ready + poisson_binomial(free_chances)
    waiting = calls.waiting_live
    pmf = poisson_binomial(chances)
    mean = sum(min(max(c, 0.0), 1.0) for c in chances)

    # the window's room below the ceiling: how many more abandons it can take; the calls
    # pending may exceed that only with a small chance (abandons come in bursts: an
    # expectation alone lets a rare burst through)
    room = math.inf
    for counts in (window, window_ahead or window):
        if counts.live >= settings.min_live_for_feedback:
            room = min(
                room,
                settings.ceiling_abandon * counts.live
                - counts.abandoned
                - settings.ceiling_margin_abandons,
            )

    def risky(pmf_l: list[float]) -> bool:
        if math.isinf(room):
            return False
        return _chance_above(pmf_l, waiting, free_pmf, room) > settings.ceiling_risk

    # a call is worth placing while the abandons it adds, per live answer it brings, stay
    # within the allowance (x `marginal_factor`: the last call always costs more than the
    # average one); calls add abandons faster and faster, so stop at the first that does not
    threshold = allowed * settings.marginal_factor
    if not math.isinf(room) and settings.room_fade_abandons > 0:
        # less room below the ceiling, fewer extra calls: a gradual slowdown instead of
        # dialling hard until the room is gone and then only progressively
        threshold *= min(1.0, max(0.0, room) / settings.room_fade_abandons)
    n = 0
    floor = min(limit, progressive_calls(operators, calls))
    # until the window can be judged (a new campaign) the budget is the average share of
    # all the calls pending: the marginal rule's allowance is set by the feedback, which has
    # nothing to go on yet
    starting = window.live < settings.min_live_for_feedback
    current = _expected_excess(pmf, mean, waiting, free_pmf)
    while n < limit:
        nxt = _add_bernoulli(pmf, p)
        value = _expected_excess(nxt, mean + p, waiting, free_pmf)
        if starting:
            lives = mean + p + waiting
            too_many = value > allowed * lives + _EPSILON
        else:
            too_many = value - current > threshold * p + _EPSILON
        if n >= floor and (too_many or risky(nxt)):
            break
        n, pmf, mean, current = n + 1, nxt, mean + p, value
    lives = mean + waiting
    return PacingDecision(n, reason, p, current / lives if lives > 0 else 0.0, allowed)


def _chance_above(
    pmf_l: Sequence[float], waiting: int, free_pmf: Sequence[float], room: float
) -> float:
    """P(L + waiting - K > room): the calls pending abandon more than the window can take."""
    if room < 0:
        return 1.0
    tail = [0.0] * (len(pmf_l) + 1)  # tail[j] = P(L >= j)
    for j in range(len(pmf_l) - 1, -1, -1):
        tail[j] = tail[j + 1] + pmf_l[j]
    first = math.floor(room) + 1 - waiting  # L >= this + k
    total = 0.0
    for k, prob_k in enumerate(free_pmf):
        if prob_k <= 0:
            continue
        j = first + k
        total += prob_k * (1.0 if j <= 0 else (tail[j] if j < len(tail) else 0.0))
    return total


def allowed_share(window: WindowCounts, settings: PredictiveSettings, gain: float = 1.0) -> float:
    """Expected abandons allowed per expected live answer, from the rolling window and the
    feedback gain (see the module docstring)."""
    target = settings.target_abandon
    if window.live < settings.min_live_for_feedback:
        return settings.start_share * target
    headroom = settings.ceiling_abandon * window.live - window.abandoned
    if headroom < settings.ceiling_margin_abandons:
        return 0.0
    share = target * min(max(gain, settings.min_gain), settings.max_gain)
    rate = window.abandon_rate
    if rate > target:
        # fade out between the target and the ceiling
        span = settings.ceiling_abandon - target
        share *= max(0.0, (settings.ceiling_abandon - rate) / span) if span > 0 else 0.0
    return share


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
        self.outcomes = RollingOutcomes(
            window_seconds=config.window_seconds,
            answer_dials=config.predictive.answer_rate_dials,
        )
        self.gain = 1.0  # the feedback's multiplier on the model's abandon estimate
        self._gain_at: float | None = None

    # --- what happened ------------------------------------------------------------------

    def dial_finished(self, at: float, *, live: bool, connect_seconds: float | None = None) -> None:
        self.outcomes.dial_finished(at, live=live, connect_seconds=connect_seconds)

    def live_answer(self, at: float, *, abandoned: bool) -> None:
        self.outcomes.live_answer(at, abandoned=abandoned)

    def handled(
        self, seconds: float, *, returned: bool = True, wrap_seconds: float | None = None
    ) -> None:
        """An operator finished a campaign call (talk + wrap-up took `seconds`, wrap-up
        `wrap_seconds` of it when told apart); `returned`: they went ready again afterwards
        (not a pause or logout)."""
        self.handle_times.add(seconds, returned=returned, wrap_seconds=wrap_seconds)

    # --- the decision -------------------------------------------------------------------

    def horizon(self) -> float:
        return self.outcomes.connect_seconds() + self.config.predictive.grace_seconds

    def _feedback(self, at: float, window: WindowCounts) -> float:
        settings = self.config.predictive
        last, self._gain_at = self._gain_at, at
        if last is None or window.live < settings.min_live_for_feedback:
            return self.gain
        dt = max(0.0, at - last)
        error = (settings.target_abandon - window.abandon_rate) / settings.target_abandon
        error = min(max(error, -2.0), 1.0)
        self.gain *= math.exp(error * dt / settings.feedback_seconds)
        self.gain = min(max(self.gain, settings.min_gain), settings.max_gain)
        return self.gain

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
        chances = self._free_chances(operators, horizon)
        window = self.outcomes.counts(at)
        gain = self._feedback(at, window)
        p = self.outcomes.answer_rate(at)
        settings = self.config.predictive
        if self.outcomes.settled < settings.warmup_dials:
            p = min(1.0, p + 2.0 * self.outcomes.answer_rate_spread(at))
        live_chances = None
        if calls.in_flight_elapsed and len(calls.in_flight_elapsed) == calls.in_flight:
            live_chances = [self.outcomes.live_chance(e, p) for e in calls.in_flight_elapsed]
        return predictive_calls(
            operators,
            calls,
            answer_rate=p,
            free_chances=chances,
            window=window,
            window_ahead=self.outcomes.counts_ahead(at, settings.look_ahead_seconds),
            settings=self.config.predictive,
            max_new=max_new,
            live_chances=live_chances,
            gain=gain,
        )

    def _free_chances(self, operators: OperatorLoad, horizon: float) -> list[float]:
        """Per busy operator: P(free and back for the campaign within `horizon` s)."""
        times = self.handle_times
        back = times.return_rate
        if operators.wrapping_elapsed is None:
            return [back * times.free_within(e, horizon) for e in operators.busy_elapsed]
        talking = [back * times.free_within_talk(e, horizon) for e in operators.busy_elapsed]
        wrapping = [back * times.free_within_wrap(e, horizon) for e in operators.wrapping_elapsed]
        return talking + wrapping
