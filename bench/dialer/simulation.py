"""A seeded discrete-event simulation of an outbound operator campaign.

Operators take live answers; each dial rings, then is answered by a person (the answer rate),
an answering machine, or is busy, fails, or rings out. A person is detected after ring time +
answering-machine detection; if no operator is free within 2 s the call is abandoned (the
person hears a short apology). Handle time = talk (log-normal: median 150 s, long tail) +
wrap-up (8-25 s). A dialer strategy is asked every second how many calls to place.

Conditions the pacer does not assume (all off by default):
- `answer_rate_end`: the live-answer rate drifts linearly from `answer_rate` at the start to
  this at the end of the run;
- `pause_share`: after a call an operator sometimes takes a break (2-8 min), so that breaks
  are about this share of their time;
- `amd_error`: answering-machine detection is wrong this often both ways: a person taken for
  a machine is hung up on (lost, not a live answer); a machine taken for a person goes to an
  operator like a live answer (a few seconds of talk) and may be abandoned like one;
- `contacts`: the list holds this many numbers; the campaign ends when they are all dialled.

Common random numbers: the k-th dial and the k-th handled call draw from their own seeded
generators, so every strategy meets the same callers in the same order and the comparison is
not noise. Results are measured after a warm-up.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class Scenario:
    operators: int
    answer_rate: float  # share of dials a person answers
    machine_rate: float = 0.12
    busy_rate: float = 0.08
    failed_rate: float = 0.03
    hours: float = 2.0  # measured
    warmup_minutes: float = 15.0
    seed: int = 20261123
    ring_timeout: float = 30.0
    talk_median: float = 150.0
    talk_sigma: float = 0.55
    wrap_range: tuple[float, float] = (8.0, 25.0)
    answer_delay_median: float = 9.0  # ring time before a person or machine answers
    amd_range: tuple[float, float] = (1.5, 3.5)
    tick: float = 1.0
    answer_rate_end: float | None = None  # drifting answer rate (see the module docstring)
    pause_share: float = 0.0
    pause_range: tuple[float, float] = (120.0, 480.0)
    amd_error: float = 0.0
    machine_talk_range: tuple[float, float] = (3.0, 10.0)
    contacts: int | None = None

    def __post_init__(self) -> None:
        top = max(self.answer_rate, self.answer_rate_end or 0.0)
        rest = top + self.machine_rate + self.busy_rate + self.failed_rate
        if self.operators < 1 or not 0 < self.answer_rate < 1 or rest > 1:
            raise ValueError("bad scenario")
        if not 0 <= self.pause_share < 0.5 or not 0 <= self.amd_error < 0.5:
            raise ValueError("bad scenario")

    def answer_rate_at(self, at: float) -> float:
        if self.answer_rate_end is None:
            return self.answer_rate
        share = min(max(at / self.end, 0.0), 1.0)
        return self.answer_rate + (self.answer_rate_end - self.answer_rate) * share

    @property
    def pause_chance(self) -> float:
        """P(a break after a call) that makes breaks `pause_share` of an operator's time."""
        if self.pause_share <= 0:
            return 0.0
        talk = self.talk_median * math.exp(self.talk_sigma**2 / 2)
        cycle = talk + sum(self.wrap_range) / 2
        pause = sum(self.pause_range) / 2
        return min(1.0, self.pause_share * cycle / (pause * (1 - self.pause_share)))

    @property
    def end(self) -> float:
        return (self.warmup_minutes * 60) + self.hours * 3600

    @property
    def measure_from(self) -> float:
        return self.warmup_minutes * 60


@dataclass(frozen=True)
class View:
    """What a dialer can see at a decision."""

    now: float
    ready: int
    talking_elapsed: tuple[float, ...]  # operators talking: seconds since the call reached them
    wrapping_elapsed: tuple[float, ...]  # operators in wrap-up: seconds since the call began
    in_flight: int  # dialled, fate unknown
    waiting_live: int  # live answers waiting for an operator
    in_flight_elapsed: tuple[float, ...] = ()  # seconds since each call in flight was placed
    remaining: int | None = None  # numbers of the list not dialled yet (None: endless)
    # operators in wrap-up: seconds since their wrap-up began (the ACD shows that state)
    wrap_elapsed: tuple[float, ...] = ()


class Strategy(Protocol):
    name: str

    def calls_to_place(self, view: View) -> int: ...

    def dial_finished(self, now: float, *, live: bool, connect_seconds: float | None) -> None: ...

    def live_answer(self, now: float, *, abandoned: bool) -> None: ...

    def handled(self, seconds: float, *, returned: bool, wrap_seconds: float) -> None: ...


class _Fate(Enum):
    LIVE = 1
    MACHINE = 2
    BUSY = 3
    FAILED = 4
    NO_ANSWER = 5


@dataclass
class Result:
    strategy: str
    scenario: Scenario
    dials: int = 0
    live: int = 0
    abandoned: int = 0
    talk_seconds: float = 0.0
    max_in_flight: int = 0
    # every live answer of the whole run (warm-up included): (when, abandoned)
    lives: list[tuple[float, bool]] = field(default_factory=list)

    @property
    def abandon_pct(self) -> float:
        return 100.0 * self.abandoned / self.live if self.live else 0.0

    def worst_hour_pct(self, window: float = 3600.0) -> float:
        """The highest abandon rate over any `window` s of the run (windows ending from
        `window` s after the start to the end; warm-up included)."""
        events = self.lives
        worst = 0.0
        start = 0
        abandoned = 0
        for end, (at, dropped) in enumerate(events):
            abandoned += dropped
            while events[start][0] <= at - window:
                abandoned -= events[start][1]
                start += 1
            if at >= window:
                live = end - start + 1
                worst = max(worst, 100.0 * abandoned / live)
        return worst

    @property
    def talk_min_per_h(self) -> float:
        """Talk minutes per operator per hour (60 would be talking all the time)."""
        return self.talk_seconds / 60.0 / (self.scenario.operators * self.scenario.hours)


@dataclass(order=True)
class _Event:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class Simulation:
    def __init__(self, scenario: Scenario, strategy: Strategy) -> None:
        self.sc = scenario
        self.strategy = strategy
        self.result = Result(strategy.name, scenario)
        self._queue: list[_Event] = []
        self._seq = 0
        self.now = 0.0
        self._dial_no = 0
        self._handle_no = 0
        self._ready: deque[int] = deque(range(scenario.operators))
        self._talking: dict[int, float] = {}  # operator -> call reached them at
        self._wrapping: dict[int, float] = {}  # operator -> call began at
        self._wrap_began: dict[int, float] = {}  # operator -> wrap-up began at
        self._in_flight: dict[int, float] = {}  # call number -> dialled at
        self._paused = 0
        self._waiting: deque[tuple[float, int]] = deque()  # (answered at, call number)
        self._waiting_ids: set[int] = set()
        self._talk: dict[
            int, float
        ] = {}  # call number -> talk time of a machine taken for a person

    # ------------------------------------------------------------------ machinery

    def _at(self, when: float, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, _Event(when, self._seq, action))

    def run(self) -> Result:
        self._at(0.0, self._tick)
        while self._queue:
            event = heapq.heappop(self._queue)
            if event.at > self.sc.end:
                break
            self.now = event.at
            event.action()
        # talk still going at the end counts up to the end
        for started in self._talking.values():
            self._count_talk(started, self.sc.end)
        return self.result

    def _measuring(self) -> bool:
        return self.now >= self.sc.measure_from

    def _count_talk(self, start: float, end: float) -> None:
        lo = max(start, self.sc.measure_from)
        hi = min(end, self.sc.end)
        if hi > lo:
            self.result.talk_seconds += hi - lo

    # ------------------------------------------------------------------ the dialer

    def _tick(self) -> None:
        view = View(
            now=self.now,
            ready=len(self._ready),
            talking_elapsed=tuple(self.now - t for t in self._talking.values()),
            wrapping_elapsed=tuple(self.now - t for t in self._wrapping.values()),
            in_flight=len(self._in_flight),
            waiting_live=len(self._waiting),
            in_flight_elapsed=tuple(self.now - t for t in self._in_flight.values()),
            wrap_elapsed=tuple(self.now - t for t in self._wrap_began.values()),
            remaining=None if self.sc.contacts is None else self.sc.contacts - self._dial_no,
        )
        wanted = max(0, self.strategy.calls_to_place(view))
        if view.remaining is not None:
            wanted = min(wanted, view.remaining)
        for _ in range(wanted):
            self._dial()
        self.result.max_in_flight = max(self.result.max_in_flight, len(self._in_flight))
        self._at(self.now + self.sc.tick, self._tick)

    def _dial(self) -> None:
        self._dial_no += 1
        rng = random.Random(_stream(self.sc.seed, 0, self._dial_no))
        draw = rng.random()
        sc = self.sc
        answer_rate = sc.answer_rate_at(self.now)
        if draw < answer_rate:
            fate = _Fate.LIVE
        elif draw < answer_rate + sc.machine_rate:
            fate = _Fate.MACHINE
        elif draw < answer_rate + sc.machine_rate + sc.busy_rate:
            fate = _Fate.BUSY
        elif draw < answer_rate + sc.machine_rate + sc.busy_rate + sc.failed_rate:
            fate = _Fate.FAILED
        else:
            fate = _Fate.NO_ANSWER
        ring = min(rng.lognormvariate(math.log(sc.answer_delay_median), 0.45), sc.ring_timeout)
        amd = rng.uniform(*sc.amd_range)
        wrong = rng.random() < sc.amd_error  # drawn for every dial: the same stream for all
        machine_talk = rng.uniform(*sc.machine_talk_range)
        if self._measuring():
            self.result.dials += 1
        started = self.now
        number = self._dial_no
        self._in_flight[number] = started

        if fate is _Fate.LIVE and wrong:
            fate = _Fate.MACHINE  # a person taken for a machine: hung up on
        elif fate is _Fate.MACHINE and wrong:
            # a machine taken for a person: an operator hears a greeting for a few seconds
            self._at(started + ring + amd, lambda: self._live(number, started, machine_talk))
            return
        if fate is _Fate.LIVE:
            self._at(started + ring + amd, lambda: self._live(number, started, None))
            return
        delay = {
            _Fate.MACHINE: ring + amd,
            _Fate.BUSY: rng.uniform(1.0, 4.0),
            _Fate.FAILED: rng.uniform(0.3, 2.0),
            _Fate.NO_ANSWER: sc.ring_timeout,
        }[fate]
        self._at(started + delay, lambda: self._dead_end(number))

    def _dead_end(self, number: int) -> None:
        dialled_at = self._in_flight.pop(number)
        self.strategy.dial_finished(self.now, live=False, connect_seconds=self.now - dialled_at)

    def _live(self, number: int, dialled_at: float, talk: float | None) -> None:
        del self._in_flight[number]
        self.strategy.dial_finished(self.now, live=True, connect_seconds=self.now - dialled_at)
        if talk is not None:
            self._talk[number] = talk
        if self._ready:
            self._connect(self._ready.popleft(), answered_at=self.now, number=number)
            return
        self._waiting.append((self.now, number))
        self._waiting_ids.add(number)
        self._at(self.now + GRACE_SECONDS, lambda: self._give_up(number))

    def _give_up(self, number: int) -> None:
        if number not in self._waiting_ids:
            return  # an operator took it in time
        self._waiting_ids.discard(number)
        self._waiting = deque(w for w in self._waiting if w[1] != number)
        self._talk.pop(number, None)
        self.strategy.live_answer(self.now, abandoned=True)
        self.result.lives.append((self.now, True))
        if self._measuring():
            self.result.live += 1
            self.result.abandoned += 1

    def _connect(self, operator: int, *, answered_at: float, number: int) -> None:
        self.strategy.live_answer(self.now, abandoned=False)
        self.result.lives.append((self.now, False))
        if answered_at >= self.sc.measure_from:
            self.result.live += 1
        self._handle_no += 1
        rng = random.Random(_stream(self.sc.seed, 1, self._handle_no))
        talk = rng.lognormvariate(math.log(self.sc.talk_median), self.sc.talk_sigma)
        wrap = rng.uniform(*self.sc.wrap_range)
        pause = rng.uniform(*self.sc.pause_range) if rng.random() < self.sc.pause_chance else 0.0
        machine_talk = self._talk.pop(number, None)
        if machine_talk is not None:
            talk, wrap = machine_talk, rng.uniform(2.0, 5.0)
        start = self.now
        self._talking[operator] = start

        def talk_over() -> None:
            del self._talking[operator]
            self._count_talk(start, self.now)
            self._wrapping[operator] = start
            self._wrap_began[operator] = self.now
            self._at(self.now + wrap, wrap_over)

        def wrap_over() -> None:
            del self._wrapping[operator]
            del self._wrap_began[operator]
            self.strategy.handled(self.now - start, returned=not pause, wrap_seconds=wrap)
            if pause:
                self._paused += 1
                self._at(self.now + pause, back)
            else:
                self._operator_free(operator)

        def back() -> None:
            self._paused -= 1
            self._operator_free(operator)

        self._at(start + talk, talk_over)

    def _operator_free(self, operator: int) -> None:
        while self._waiting:
            answered_at, number = self._waiting.popleft()
            if number in self._waiting_ids:
                self._waiting_ids.discard(number)
                self._connect(operator, answered_at=answered_at, number=number)
                return
        self._ready.append(operator)


def _stream(seed: int, kind: int, number: int) -> int:
    """A seed per dial / handled call: the same in every run and process."""
    return (seed * 2 + kind) * 1_000_000_007 + number


def simulate(scenario: Scenario, strategy: Strategy) -> Result:
    return Simulation(scenario, strategy).run()
