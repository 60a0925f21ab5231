"""Simulated time: ordered timers, no drift in chains, snapping to the real clock bounded;
and the virtual clock tests move on themselves.

Nothing here measures the real clock: where `SimClock` follows real time, the real time it
sees is set by the test (`_real`), and its tolerances are wide enough that a loaded machine
cannot move the results.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from callcenter.sim.clock import SimClock, VirtualClock

# one real second of scheduling lag is absorbed: far more than any loaded machine shows
STEADY = {"lag_tolerance": 1.0, "max_snap": 1000.0}


def real_time(clock: SimClock, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Pretend `seconds` simulated seconds of real time have passed since the clock began."""
    monkeypatch.setattr(clock, "_real", lambda: seconds)


async def test_simulated_seconds_convert_to_time_scale_real_seconds() -> None:
    clock = SimClock(time_scale=0.01, **STEADY)
    assert clock.to_real(20.0) == pytest.approx(0.2)
    await clock.sleep(20.0)  # 20 simulated seconds
    assert clock.now() == pytest.approx(20.0)  # woken at the timer's own due time
    clock.close()


async def test_timers_due_together_fire_in_the_order_they_were_set() -> None:
    clock = SimClock(time_scale=0.001, **STEADY)
    fired: list[int] = []

    def recorder(index: int) -> Callable[[], None]:
        return lambda: fired.append(index)

    for index in range(5):
        clock.call_later(1.0, recorder(index))
    clock.call_later(0.5, lambda: fired.append(-1))
    await clock.sleep(2.0)
    assert fired == [-1, 0, 1, 2, 3, 4]
    clock.close()


async def test_cancelled_timers_do_not_fire() -> None:
    clock = SimClock(time_scale=0.001, **STEADY)
    fired: list[str] = []
    timer = clock.call_later(1.0, lambda: fired.append("no"))
    timer.cancel()
    await clock.sleep(2.0)
    assert fired == []
    clock.close()


async def test_a_chain_of_waits_lands_exactly_on_simulated_time_despite_a_busy_loop() -> None:
    # 1 simulated second = 1 real millisecond; lag up to 1 real second is absorbed
    clock = SimClock(time_scale=0.001, **STEADY)
    stamps: list[float] = []
    for _ in range(20):
        await clock.sleep(1.0)
        time.sleep(0.0003)  # noqa: ASYNC251 - a busy loop: real lag that must not add up
        stamps.append(clock.now())
    assert stamps == [pytest.approx(float(i), abs=1e-9) for i in range(1, 21)]
    clock.close()


async def test_snapping_never_exceeds_max_snap(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SimClock(time_scale=0.01, lag_tolerance=1.0, max_snap=1.0)
    real_time(clock, monkeypatch, 0.5)
    assert clock.now() == 0.0  # within the snap: still the last timer's time
    real_time(clock, monkeypatch, 5.0)  # 5 simulated seconds without any timer
    assert clock.now() == 5.0  # beyond max_snap: now follows the real clock
    clock.close()


async def test_input_from_outside_moves_now_to_the_real_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SimClock(time_scale=0.01, lag_tolerance=1.0, max_snap=100.0)
    real_time(clock, monkeypatch, 5.0)  # 5 simulated seconds of real time, no timer fired
    assert clock.now() == 0.0  # within tolerance: still the last known time
    assert clock.sync() == 5.0
    real_time(clock, monkeypatch, 5.5)
    assert clock.now() == 5.0  # pinned at the input, snapping from there
    clock.close()


async def test_time_never_goes_backwards(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SimClock(time_scale=0.01, lag_tolerance=1.0, max_snap=1.0)
    real_time(clock, monkeypatch, 5.0)
    assert clock.now() == 5.0
    real_time(clock, monkeypatch, 4.0)
    assert clock.now() == 5.0
    clock.close()


async def test_simulated_wall_clock_follows_the_epoch_given() -> None:
    clock = SimClock(time_scale=0.001, epoch=1_795_432_716.0, **STEADY)
    await clock.sleep(100.0)
    assert clock.epoch() == pytest.approx(1_795_432_816.0)
    clock.close()


def test_time_scale_must_be_positive() -> None:
    async def make() -> None:
        SimClock(time_scale=0)

    with pytest.raises(ValueError, match="positive"):
        asyncio.run(make())


# --- VirtualClock: time moves only when the test says so ----------------------------------


async def test_virtual_time_stands_still_until_advanced() -> None:
    clock = VirtualClock(epoch=1_795_432_716.0)
    fired: list[float] = []
    clock.call_later(5.0, lambda: fired.append(clock.now()))
    for _ in range(20):
        await asyncio.sleep(0)
    assert (fired, clock.now()) == ([], 0.0)
    await clock.advance(4.0)
    assert (fired, clock.now()) == ([], 4.0)
    await clock.advance(1.0)
    assert fired == [5.0]  # each timer sees its own due time as now
    assert clock.epoch() == 1_795_432_721.0


async def test_virtual_timers_fire_in_due_order_then_set_order() -> None:
    clock = VirtualClock()
    fired: list[str] = []
    clock.call_later(2.0, lambda: fired.append("b"))
    clock.call_later(1.0, lambda: fired.append("a"))
    clock.call_later(2.0, lambda: fired.append("c"))
    cancelled = clock.call_later(1.5, lambda: fired.append("x"))
    cancelled.cancel()
    await clock.advance(10.0)
    assert fired == ["a", "b", "c"]
    assert clock.next_due() is None


async def test_a_chain_of_virtual_sleeps_runs_within_one_advance() -> None:
    clock = VirtualClock()
    stamps: list[float] = []

    async def caller() -> None:
        for _ in range(3):
            await clock.sleep(1.5)
            stamps.append(clock.now())

    task = asyncio.create_task(caller())
    await asyncio.sleep(0)
    await clock.advance(5.0)
    assert stamps == [1.5, 3.0, 4.5]
    await task


async def test_a_zero_wait_needs_no_advance() -> None:
    clock = VirtualClock()
    await asyncio.wait_for(clock.sleep(0), 1.0)
    assert clock.now() == 0.0


async def test_time_waits_while_a_peer_waits_for_the_platform() -> None:
    clock = VirtualClock()
    order: list[str] = []
    reply = asyncio.Event()

    async def peer() -> None:
        with clock.outside():  # e.g. an AGI session waiting for its next command
            await reply.wait()
        order.append(f"reply at {clock.now():g}")

    async def platform() -> None:
        for _ in range(30):
            await asyncio.sleep(0)
        order.append("platform answers")
        reply.set()

    clock.call_later(1.0, lambda: order.append("timer at 1"))
    waiting = asyncio.create_task(peer())
    answering = asyncio.create_task(platform())
    await asyncio.sleep(0)
    await clock.advance(2.0)
    assert order == ["platform answers", "reply at 0", "timer at 1"]
    await asyncio.gather(waiting, answering)


async def test_settlers_run_after_each_batch_of_timers() -> None:
    clock = VirtualClock()
    seen: list[float] = []

    async def settler() -> None:
        seen.append(clock.now())

    clock.add_settler(settler)
    clock.call_later(1.0, lambda: None)
    clock.call_later(2.0, lambda: None)
    await clock.advance(3.0)
    assert seen == [0.0, 1.0, 2.0, 3.0]


async def test_virtual_time_does_not_go_backwards() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError, match="backwards"):
        await clock.advance(-1.0)
