"""The ACD rules the demo exposed (issue 16, row 15): a realistic, configurable wrap-up with
the simulator, and the automatic emergency mode firing when line 1 is swamped."""

from __future__ import annotations

import pytest

from callcenter.acd.service import AcdService, AcdSettings
from callcenter.bootstrap import acd_settings
from callcenter.config import load_settings
from callcenter.domain.acd import EmergencySource, SurgeRule
from tests.unit.acd.support import (
    FakeControl,
    Sessions,
    StepClock,
    called,
    connected,
    joined,
    left,
    make_staff,
    new_caller,
)

OPERATORS = {
    "101": (1, {"outages": 9}),
    "102": (1, {"outages": 8}),
}


def test_simulated_operators_wrap_up_briefly_and_it_is_configurable() -> None:
    assert acd_settings(load_settings()).wrap_up_seconds == 15
    assert acd_settings(load_settings(demo_wrap_up_seconds=40)).wrap_up_seconds == 40
    # with a real Asterisk the operators press "ready" themselves: the long limit stays
    assert acd_settings(load_settings(ami_host="pbx")).wrap_up_seconds == 300


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


async def test_line_one_swamped_for_three_minutes_switches_emergency_on(
    session_factory: Sessions, clock: StepClock
) -> None:
    staff = await make_staff(session_factory, OPERATORS)
    acd = AcdService(
        session_factory,
        settings=AcdSettings(auto_emergency=True, surge=SurgeRule(all_busy_seconds=180)),
        control=FakeControl(),
        clock=clock,
    )
    await acd.load()
    for ext in OPERATORS:
        await acd.login(staff.id(ext))
    # both operators take a call; a third caller waits
    for position, ext in enumerate(OPERATORS, start=1):
        caller = new_caller()
        await acd.on_event(joined(caller, clock.advance(1), position))
        await acd.on_event(called(ext, caller, clock.advance(1)))
        await acd.on_event(left(caller, clock.now))
        await acd.on_event(connected(ext, caller, clock.now))
    await acd.on_event(joined(new_caller(), clock.advance(1), 1))
    await acd.tick()
    for _ in range(9):  # 90 s: busy, but not for long enough
        clock.advance(10)
        await acd.tick()
    assert not acd.emergency.active
    for _ in range(10):  # 190 s in all: a few calls an hour never make a "surge", yet...
        clock.advance(10)
        await acd.tick()
    assert acd.emergency.active
    assert acd.emergency.source is EmergencySource.AUTOMATIC
    assert acd.snapshot(None).queues[0].wait_target_seconds == 180
