"""Waiting in tests: the one `eventually` helper, and moving a virtual clock on.

Tests wait on a condition, never on a duration. Two kinds of wait:

- with `clock` (the simulator's `VirtualClock`): simulated time moves on by `step` seconds
  between checks, and `within` is a bound in *simulated* seconds; so a test says "the
  caller is answered within 60 s" and means the caller's time, whatever the machine's load;
- without a clock: for conditions with no event of their own (database rows written by
  another task, another process), the check is re-run every `poll` real seconds and
  `within` is in real seconds, a bound against a hang, not a measure of speed.

The real time a test may take overall is bounded by pytest-timeout (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from callcenter.sim.clock import VirtualClock

T = TypeVar("T")

# real seconds given to the platform's own tasks and threads (database, AMI reader)
# between two steps of simulated time
_YIELD = 0.002


async def _value(check: Callable[[], T | Awaitable[T]]) -> T:
    result = check()
    if inspect.isawaitable(result):
        return await result
    return result


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    within: float | None = None,
    clock: VirtualClock | None = None,
    step: float = 0.25,
    poll: float = 0.02,
    what: str | None = None,
) -> T:
    """Re-run `check` (sync or async) until it returns something truthy, and return that.

    With `clock`: simulated time moves on by `step` between checks, for at most `within`
    simulated seconds (default 300). Without: every `poll` real seconds, for at most
    `within` real seconds (default 10).
    """
    label = what or getattr(check, "__name__", "condition")
    if clock is not None:
        limit = 300.0 if within is None else within
        started = clock.now()
        while not (found := await _value(check)):
            if clock.now() - started >= limit:
                raise AssertionError(f"{label}: still false after {limit:g} simulated seconds")
            await clock.advance(step)
            await asyncio.sleep(_YIELD)
        return found
    limit = 10.0 if within is None else within
    try:
        async with asyncio.timeout(limit):
            # the condition has no event to wait on: re-checked every `poll` seconds
            while not (found := await _value(check)):  # noqa: ASYNC110
                await asyncio.sleep(poll)
    except TimeoutError:
        raise AssertionError(f"{label}: still false after {limit:g} s") from None
    return found


async def pass_time(clock: VirtualClock, seconds: float, *, step: float = 0.25) -> None:
    """Let `seconds` of simulated time pass in steps, giving the platform its turn between
    them (its own timers run on real time, so one long jump would look like a stall)."""
    end = clock.now() + seconds
    while (left := end - clock.now()) > 1e-9:
        await clock.advance(min(step, left))
        await asyncio.sleep(_YIELD)


async def finished(clock: VirtualClock, waitable: Awaitable[T], *, within: float = 600.0) -> T:
    """Await `waitable` (a call's end, say) while simulated time moves on."""
    task = asyncio.ensure_future(waitable)
    try:
        await eventually(task.done, clock=clock, within=within, what="awaited task")
    finally:
        if not task.done():
            task.cancel()
    return task.result()


def morning_epoch(zone: str = "Europe/Moscow") -> float:
    """08:00 today in the centre's time zone, as a simulated clock's start: a test's
    simulated hours then stay within one local day whatever the hour it runs at."""
    tz = ZoneInfo(zone)
    return datetime.combine(datetime.now(tz).date(), time(8, 0), tzinfo=tz).timestamp()


@contextlib.asynccontextmanager
async def running(clock: VirtualClock, *, speed: float = 20.0) -> AsyncIterator[None]:
    """Let simulated time run by itself, `speed` simulated seconds per real second, for
    tests that wait in real time on something outside (a browser's page): the only place a
    virtual clock follows the real one."""
    step = 0.05

    async def pump() -> None:
        while True:
            await clock.advance(step)
            await asyncio.sleep(step / speed)

    task = asyncio.create_task(pump(), name="virtual clock pump")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# loop turns a quiet loop gets before time jumps: enough for a frame to cross loopback,
# be decoded, and the peer's answer to cross back (all in this one loop)
_QUIET_TURNS = 64


@contextlib.asynccontextmanager
async def free_running(clock: VirtualClock) -> AsyncIterator[None]:
    """Let simulated time jump from timer to timer whenever this loop has gone quiet, for
    replays whose peers (a scripted AMI client, a scripted FastAGI server) live in the same
    loop: what the simulator does then depends on its timers' order, never on how busy the
    machine is, and a 20-second capture replays in milliseconds."""

    async def pump() -> None:
        while True:
            for _ in range(_QUIET_TURNS):
                await asyncio.sleep(0)
            await clock.settle()
            due = clock.next_due()
            if due is None:
                # nothing scheduled: the next move is a peer's, over a socket
                await asyncio.sleep(_YIELD)
                continue
            await clock.advance(max(0.0, due - clock.now()))

    task = asyncio.create_task(pump(), name="virtual clock free run")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
