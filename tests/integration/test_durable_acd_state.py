"""Issue 15's durability guarantee: what the ACD promised outlives a restart of the
telephony process. A queue callback booked before the restart is placed after it; the
emergency switch and the operators' states are still there. The "restart" is a second
AcdService on the same database (as a new process builds it) while Asterisk (the fake
control, with its queue members) stays up; the first service is dropped without `stop()`,
as a killed process would be."""

from __future__ import annotations

import pytest

from callcenter.acd.callbacks import CallbackRules, CallbackState
from callcenter.acd.service import AcdService, AcdSettings
from callcenter.cluster.stores import SqlCallbackStore, SqlEmergencyStore
from callcenter.domain.agents import OperatorState
from tests.unit.acd.support import (
    FakeControl,
    Sessions,
    Staff,
    StepClock,
    joined,
    left,
    make_staff,
    new_caller,
)

OPERATORS = {
    "101": (1, {"outages": 9, "power_quality": 8, "contacts": 8}),
    "106": (2, {"grid_connection": 9, "metering": 8, "services": 8}),
}


@pytest.fixture
async def staff(session_factory: Sessions) -> Staff:
    return await make_staff(session_factory, OPERATORS)


def build_acd(sessions: Sessions, clock: StepClock, control: FakeControl) -> AcdService:
    """The ACD as the composition root builds it for one telephony node."""
    return AcdService(
        sessions,
        settings=AcdSettings(
            wrap_up_seconds=20,
            callback=CallbackRules(retry_seconds=60, caller_id_number="88001000000"),
            auto_emergency=False,
        ),
        control=control,
        clock=clock,
        callback_store=SqlCallbackStore(sessions, node="main", clock=clock),
        emergency_store=SqlEmergencyStore(sessions, clock=clock),
    )


async def test_a_callback_promised_before_a_restart_is_placed_after_it(
    session_factory: Sessions, staff: Staff
) -> None:
    clock = StepClock()
    asterisk = FakeControl()
    before = build_acd(session_factory, clock, asterisk)
    await before.load()
    operator = staff.id("101")
    await before.login(operator)
    await before.pause(operator, "lunch")  # nobody free: the callback must wait
    booker = new_caller()
    await before.on_event(joined(booker, clock.advance(1), 1))
    await before.on_event(left(booker, clock.advance(40)))
    booked = before.book_callback("line1", booker, "+79161234567")
    await before.save_callbacks()  # what the booking script does before the caller hears "yes"
    await before.set_emergency(True, user_id=None, announcement="Авария в Твери")
    await before.tick()
    assert asterisk.originated == []
    # the process dies here: no stop(), nothing else written

    clock.advance(120)
    after = build_acd(session_factory, clock, asterisk)
    await after.load()
    kept = after.callbacks.get(booked.id)
    assert kept is not None
    assert kept.state is CallbackState.WAITING
    assert kept.number == "89161234567"
    assert after.emergency.active
    assert after.greeting_addition() == "Авария в Твери"
    assert after.states.status(operator).state is OperatorState.PAUSED
    line1 = next(q for q in after.snapshot(None).queues if q.name == "line1")
    assert len(line1.callbacks) == 1

    await after.ready(operator)  # the operator comes back from lunch: the callback's turn
    await after.tick()
    assert len(asterisk.originated) == 1
    dial = asterisk.originated[0]
    assert dial["channel"] == "Local/89161234567@outbound"
    assert (dial["context"], dial["exten"]) == ("transfer", "line1")
    assert dial["variables"]["QUEUED_CALLBACK"] == "1"

    # and a third start does not dial it again while that call is on its way
    await after.tick()
    again = build_acd(session_factory, clock, asterisk)
    await again.load()
    await again.tick()
    assert len(asterisk.originated) == 1
    dialling = again.callbacks.get(booked.id)
    assert dialling is not None
    assert dialling.state is CallbackState.DIALING


async def test_a_finished_callback_is_not_brought_back(
    session_factory: Sessions, staff: Staff
) -> None:
    clock = StepClock()
    asterisk = FakeControl()
    first = build_acd(session_factory, clock, asterisk)
    await first.load()
    booker = new_caller()
    await first.on_event(joined(booker, clock.advance(1), 1))
    await first.on_event(left(booker, clock.advance(5)))
    booked = first.book_callback("line1", booker, "89161234567")
    first.callbacks.cancel(booked.id)
    await first.stop()  # a clean stop writes what changed
    second = build_acd(session_factory, clock, asterisk)
    await second.load()
    assert second.callbacks.active() == []
    assert not second.emergency.active
