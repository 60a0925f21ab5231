"""The three dialers the benchmark compares.

- predictive: the platform's own pacing (`callcenter.domain.pacing.Pacer`, predictive mode).
- progressive: one call per idle operator (`pacing.progressive_calls`).
- ratio feedback: the adaptive dial-level controller common in open-source dialers (modelled
  on VICIdial's ADAPT_HARD_LIMIT): a dial level (lines per active operator, 1.0-3.0) is
  re-computed every 15 s from the last minute's average of (idle operators - calls waiting
  for one) relative to the average active operators; while the day's drops exceed 3 % of
  answers (after 50 calls) the level is forced to 1.0. Calls to place = level x (idle +
  talking operators) - calls already up (dialling, waiting, talking). Operators in wrap-up
  count as neither idle nor talking, as a dispositioning agent does there.
"""

from __future__ import annotations

import math
from collections import deque

from bench.dialer.simulation import View
from callcenter.domain.campaigns import DialMode
from callcenter.domain.pacing import (
    CallLoad,
    OperatorLoad,
    Pacer,
    PacerConfig,
    PredictiveSettings,
    progressive_calls,
)

NO_LIMIT = 10_000


class PredictiveStrategy:
    name = "predictive"

    def __init__(self, settings: PredictiveSettings | None = None) -> None:
        self.pacer = Pacer(
            PacerConfig(mode=DialMode.PREDICTIVE, predictive=settings or PredictiveSettings())
        )

    def calls_to_place(self, view: View) -> int:
        decision = self.pacer.decide(
            view.now,
            OperatorLoad(view.ready, view.talking_elapsed, view.wrap_elapsed),
            CallLoad(view.in_flight, view.waiting_live, view.in_flight_elapsed),
            max_new=NO_LIMIT if view.remaining is None else view.remaining,
        )
        return decision.calls

    def dial_finished(self, now: float, *, live: bool, connect_seconds: float | None) -> None:
        self.pacer.dial_finished(now, live=live, connect_seconds=connect_seconds)

    def live_answer(self, now: float, *, abandoned: bool) -> None:
        self.pacer.live_answer(now, abandoned=abandoned)

    def handled(self, seconds: float, *, returned: bool, wrap_seconds: float) -> None:
        self.pacer.handled(seconds, returned=returned, wrap_seconds=wrap_seconds)


class ProgressiveStrategy:
    name = "progressive"

    def calls_to_place(self, view: View) -> int:
        return progressive_calls(
            OperatorLoad(view.ready, view.talking_elapsed + view.wrapping_elapsed),
            CallLoad(view.in_flight, view.waiting_live),
        )

    def dial_finished(self, now: float, *, live: bool, connect_seconds: float | None) -> None:
        return None

    def live_answer(self, now: float, *, abandoned: bool) -> None:
        return None

    def handled(self, seconds: float, *, returned: bool, wrap_seconds: float) -> None:
        return None


class RatioFeedbackStrategy:
    name = "feedback"

    def __init__(
        self,
        *,
        max_level: float = 3.0,
        drop_limit_pct: float = 3.0,
        adjust_every: float = 15.0,
        average_over: float = 60.0,
        min_calls_for_limit: int = 50,
    ) -> None:
        self.level = 1.0
        self.max_level = max_level
        self.drop_limit_pct = drop_limit_pct
        self.adjust_every = adjust_every
        self.average_over = average_over
        self.min_calls = min_calls_for_limit
        self._samples: deque[tuple[float, int, int]] = deque()  # (at, differential, active)
        self._next_adjust = adjust_every
        self._calls_today = 0
        self._answers_today = 0
        self._drops_today = 0

    def calls_to_place(self, view: View) -> int:
        talking = len(view.talking_elapsed)
        active = view.ready + talking
        self._samples.append((view.now, view.ready - view.waiting_live, active))
        while self._samples and self._samples[0][0] < view.now - self.average_over:
            self._samples.popleft()
        if view.now >= self._next_adjust:
            self._adjust()
            self._next_adjust = view.now + self.adjust_every
        goal = math.floor(self.level * active + 1e-9)
        return max(0, goal - (view.in_flight + view.waiting_live + talking))

    def _adjust(self) -> None:
        if not self._samples:
            return
        differential = sum(s[1] for s in self._samples) / len(self._samples)
        agents = sum(s[2] for s in self._samples) / len(self._samples)
        if agents > 0:
            self.level *= 1 + differential / agents
        self.level = min(max(self.level, 1.0), self.max_level)
        if self._calls_today > self.min_calls and self._answers_today:
            drop_pct = 100.0 * self._drops_today / self._answers_today
            if drop_pct > self.drop_limit_pct:
                self.level = 1.0

    def dial_finished(self, now: float, *, live: bool, connect_seconds: float | None) -> None:
        self._calls_today += 1

    def live_answer(self, now: float, *, abandoned: bool) -> None:
        self._answers_today += 1
        if abandoned:
            self._drops_today += 1

    def handled(self, seconds: float, *, returned: bool, wrap_seconds: float) -> None:
        return None
