"""Simulated time on top of the real asyncio clock.

Every duration inside the simulator (a caller's pause, a prompt's length, an operator's talk
time) is in *simulated* seconds; `time_scale` turns them into real seconds, so a 40 s scenario
runs in 0.4 s with `time_scale=0.01`.

Reproducible order at any scale: timers that fall due together fire in the order they were
set, and code woken by a timer sees the timer's own due time as "now", even if the event loop
ran it a few milliseconds late; so chains of waits (a caller's script, a ring timeout) do not
drift apart with machine load. Input from outside (an AMI action, an AGI command) calls
`sync()`, which moves "now" to the real clock; what it sets off then runs at that one time.
Only when real time has moved on by more than `lag_tolerance` real seconds since the last
timer or input does "now" follow the real clock by itself.

`VirtualClock` is the same interface (`Clock`) for tests: its time moves only when the test
calls `advance`, so what a simulated caller experiences does not depend on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(order=True)
class _Entry:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class Timer:
    """Handle of a pending `SimClock.call_later` callback."""

    __slots__ = ("_entry",)

    def __init__(self, entry: _Entry) -> None:
        self._entry = entry

    def cancel(self) -> None:
        self._entry.cancelled = True


class Clock(Protocol):
    """Simulated time as the simulator's parts see it (`SimClock` or `VirtualClock`)."""

    def now(self) -> float: ...
    def sync(self) -> float: ...
    def epoch(self) -> float: ...
    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer: ...
    async def sleep(self, seconds: float) -> None: ...
    def outside(self) -> contextlib.AbstractContextManager[None]:
        """Around a wait for the platform (an AGI command to come): time stands still
        on a `VirtualClock` until it returns."""
        ...

    def close(self) -> None: ...


class SimClock:
    """Simulated seconds since the simulator started, and timers in those seconds.

    `epoch()` is the simulated wall clock (Unix seconds): Uniqueids, LoginTime and recording
    folders use it, so they stay consistent with the simulated durations.
    """

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        epoch: float | None = None,
        lag_tolerance: float = 0.05,
        max_snap: float = 2.0,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self.lag_tolerance = lag_tolerance
        # snapping absorbs scheduling jitter, never more than `max_snap` simulated seconds
        self._snap = min(lag_tolerance / time_scale, max_snap)
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()
        self._epoch0 = time.time() if epoch is None else epoch
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._floor = 0.0  # due time of the last timer that fired
        self._last = 0.0  # last value returned: time never goes backwards

    def _real(self) -> float:
        return (self._loop.time() - self._t0) / self.time_scale

    def now(self) -> float:
        """Simulated seconds since start."""
        real = self._real()
        value = self._floor if real - self._floor <= self._snap else real
        self._last = max(self._last, value)
        return self._last

    def sync(self) -> float:
        """Something arrived from outside now: pin "now" to the real clock."""
        self._floor = max(self._floor, self._real())
        return self.now()

    def epoch(self) -> float:
        """Simulated Unix time."""
        return self._epoch0 + self.now()

    def to_real(self, seconds: float) -> float:
        return seconds * self.time_scale

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        entry = _Entry(self.now() + max(0.0, seconds), next(self._seq), callback)
        heapq.heappush(self._heap, entry)
        self._arm()
        return Timer(entry)

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = self._loop.create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await future
        finally:
            timer.cancel()

    @contextlib.contextmanager
    def outside(self) -> Iterator[None]:
        yield  # real time flows on by itself

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._heap.clear()

    def _arm(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        if not self._heap:
            return
        due = self._heap[0].due
        if self._armed_for is not None and self._armed_for <= due:
            return
        if self._handle is not None:
            self._handle.cancel()
        self._armed_for = due
        self._handle = self._loop.call_at(self._t0 + due * self.time_scale, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._armed_for = None
        if not self._heap:
            return
        # asyncio may wake us a clock tick early: everything up to the timer we were armed
        # for is due now.
        limit = max(self._real(), self._heap[0].due)
        due: list[_Entry] = []
        while self._heap and self._heap[0].due <= limit:
            due.append(heapq.heappop(self._heap))
        for entry in due:
            if entry.cancelled:
                continue
            self._floor = max(self._floor, entry.due)
            entry.callback()
        self._arm()


class VirtualClock:
    """Simulated time that moves only when the test says so (`advance`).

    Timers fire in due order, each batch at its own due time, and after each batch the
    clock lets what it set off run (`settle`): ready tasks, and the platform's replies a
    peer is waiting for (`outside`, e.g. an AGI session waiting for its next command), so a
    simulated caller never times out because the platform was still thinking. Nothing here
    reads the real clock except `settle`'s guard against a platform that never answers.
    """

    def __init__(self, *, epoch: float | None = None, settle_timeout: float = 2.0) -> None:
        self._now = 0.0
        self._epoch0 = time.time() if epoch is None else epoch
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._outside = 0
        self._quiet: asyncio.Event | None = None
        self._settle_timeout = settle_timeout
        self._advancing = asyncio.Lock()
        self._settlers: list[Callable[[], Awaitable[None]]] = []

    def now(self) -> float:
        return self._now

    def sync(self) -> float:
        return self._now

    def epoch(self) -> float:
        return self._epoch0 + self._now

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        entry = _Entry(self._now + max(0.0, seconds), next(self._seq), callback)
        if seconds <= 0:
            # due now: runs on the next loop iteration, as on `SimClock`
            asyncio.get_running_loop().call_soon(self._fire_entry, entry)
        else:
            heapq.heappush(self._heap, entry)
        return Timer(entry)

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await future
        finally:
            timer.cancel()

    @contextlib.contextmanager
    def outside(self) -> Iterator[None]:
        self._outside += 1
        if self._quiet is not None:
            self._quiet.clear()
        try:
            yield
        finally:
            self._outside -= 1
            if self._outside == 0 and self._quiet is not None:
                self._quiet.set()

    def close(self) -> None:
        self._heap.clear()

    def add_settler(self, settler: Callable[[], Awaitable[None]]) -> None:
        """Also wait for `settler()` after each batch of timers: the platform's own
        catching up (its AMI client draining the events sent so far, say), so what it
        measures is stamped before time moves on."""
        self._settlers.append(settler)

    def next_due(self) -> float | None:
        """Simulated time of the next pending timer, if any."""
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due if self._heap else None

    async def advance(self, seconds: float) -> None:
        """Move time on by `seconds`, firing every timer due on the way in order."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        async with self._advancing:
            target = self._now + seconds
            await self.settle()
            while (due := self.next_due()) is not None and due <= target:
                self._now = max(self._now, due)
                while self._heap and self._heap[0].due <= due:
                    self._fire_entry(heapq.heappop(self._heap))
                await self.settle()
            self._now = max(self._now, target)
            await self.settle()

    async def settle(self) -> None:
        """Let what the last timers set off run: ready tasks, the platform's replies that a
        peer waits for, then the settlers (each bounded by `settle_timeout` real seconds)."""
        for _ in range(8):
            await asyncio.sleep(0)
        if self._outside:
            if self._quiet is None:
                self._quiet = asyncio.Event()
            self._quiet.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settle_timeout):
                    while self._outside:
                        await self._quiet.wait()
                        self._quiet.clear()
            for _ in range(8):
                await asyncio.sleep(0)
        for settler in list(self._settlers):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._settle_timeout):
                    await settler()

    def _fire_entry(self, entry: _Entry) -> None:
        if not entry.cancelled:
            entry.cancelled = True
            entry.callback()
