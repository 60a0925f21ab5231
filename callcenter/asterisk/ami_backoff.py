"""Reconnect delays: exponential growth, a hard ceiling, and jitter from an injectable source."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before reconnect attempt `n` (0-based): min(max, base * factor**n), minus jitter.

    Jitter removes up to `jitter` (a fraction) of the delay, so the delay is never below
    `(1 - jitter) * base`: even a refused login cannot turn into a hot loop, while many
    clients restarted together (or one Asterisk restarting) do not reconnect in lockstep.
    """

    base: float = 0.5
    factor: float = 2.0
    max_delay: float = 30.0
    jitter: float = 0.5
    random: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.base <= 0 or self.max_delay < self.base:
            raise ValueError("need 0 < base <= max_delay")
        if self.factor < 1:
            raise ValueError("factor must be >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def ceiling(self, attempt: int) -> float:
        """The delay for `attempt` before jitter is taken off."""
        # cap the exponent so a long outage cannot overflow float
        return min(self.max_delay, self.base * self.factor ** min(attempt, 64))

    def delay(self, attempt: int) -> float:
        draw = min(max(self.random(), 0.0), 1.0)
        return self.ceiling(attempt) * (1.0 - self.jitter * draw)
