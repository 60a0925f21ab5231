"""Simulated time: scaled against the real clock, ordered timers, no drift in chains."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from callcenter.sim.clock import SimClock


async def test_simulated_seconds_take_time_scale_real_seconds() -> None:
    clock = SimClock(time_scale=0.01)
    started = time.monotonic()
    await clock.sleep(20.0)  # 20 simulated seconds
    real = time.monotonic() - started
    assert 0.15 <= real < 1.0
    assert clock.now() == pytest.approx(20.0, abs=0.5)
    clock.close()


async def test_timers_due_together_fire_in_the_order_they_were_set() -> None:
    clock = SimClock(time_scale=0.001)
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
    clock = SimClock(time_scale=0.001)
    fired: list[str] = []
    timer = clock.call_later(1.0, lambda: fired.append("no"))
    timer.cancel()
    await clock.sleep(2.0)
    assert fired == []
    clock.close()


async def test_a_chain_of_waits_lands_exactly_on_simulated_time_despite_a_busy_loop() -> None:
    # 1 simulated second = 1 real millisecond; lag up to 1 real second is absorbed
    clock = SimClock(time_scale=0.001, lag_tolerance=1.0, max_snap=100.0)
    stamps: list[float] = []
    for _ in range(20):
        await clock.sleep(1.0)
        time.sleep(0.0003)  # noqa: ASYNC251 - a busy loop: real lag that must not add up
        stamps.append(clock.now())
    assert stamps == [pytest.approx(float(i), abs=1e-9) for i in range(1, 21)]
    clock.close()


async def test_snapping_never_exceeds_max_snap() -> None:
    clock = SimClock(time_scale=0.01, lag_tolerance=1.0, max_snap=1.0)
    await asyncio.sleep(0.05)  # 5 simulated seconds pass without any timer
    assert clock.now() == pytest.approx(5.0, abs=1.0)
    clock.close()


async def test_input_from_outside_moves_now_to_the_real_clock() -> None:
    clock = SimClock(time_scale=0.01, lag_tolerance=1.0, max_snap=100.0)
    await asyncio.sleep(0.05)  # 5 simulated seconds of real time, no timer fired
    assert clock.now() == pytest.approx(0.0)  # within tolerance: still the last known time
    assert clock.sync() == pytest.approx(5.0, abs=1.0)
    assert clock.now() >= 4.0
    clock.close()


async def test_simulated_wall_clock_follows_the_epoch_given() -> None:
    clock = SimClock(time_scale=0.001, epoch=1_795_432_716.0, lag_tolerance=1.0, max_snap=100.0)
    await clock.sleep(100.0)
    assert clock.epoch() == pytest.approx(1_795_432_816.0, abs=1.0)
    clock.close()


def test_time_scale_must_be_positive() -> None:
    async def make() -> None:
        SimClock(time_scale=0)

    with pytest.raises(ValueError, match="positive"):
        asyncio.run(make())
