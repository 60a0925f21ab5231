"""The ACD's live view, routing, overflow, emergency mode and callbacks in queue, driven by
typed AMI events (the AMI adapter's parsing has its own tests)."""

from __future__ import annotations

import asyncio

import pytest

from callcenter.acd.callbacks import CallbackRules, CallbackState
from callcenter.acd.service import EMERGENCY_AUDIT_ACTION, AcdService, AcdSettings
from callcenter.common.access import Conflict, InvalidInput
from callcenter.db.repositories import audit as audit_repo
from callcenter.db.repositories import users as users_repo
from callcenter.domain.acd import (
    CALLBACK_PRIORITY,
    EmergencySource,
    OverflowPolicy,
    RouteReason,
    SurgeRule,
)
from callcenter.domain.agents import OperatorState
from callcenter.domain.roles import Role
from callcenter.domain.telephony import AgentConnected, OriginateResult
from tests.unit.acd.support import (
    FakeControl,
    Sessions,
    Staff,
    StepClock,
    abandoned,
    called,
    completed,
    connected,
    joined,
    left,
    make_staff,
    new_caller,
)

OPERATORS = {
    "101": (1, {"outages": 9, "power_quality": 8, "contacts": 8}),
    "102": (1, {"outages": 8, "power_quality": 8, "contacts": 8}),
    "106": (2, {"grid_connection": 9, "metering": 8, "services": 8}),
    "111": (1, {"outages": 7, "contacts": 6}),  # a branch operator
}


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def control() -> FakeControl:
    return FakeControl()


@pytest.fixture
async def staff(session_factory: Sessions) -> Staff:
    return await make_staff(session_factory, OPERATORS, branch=("111",))


@pytest.fixture
async def acd(
    session_factory: Sessions, staff: Staff, clock: StepClock, control: FakeControl
) -> AcdService:
    service = AcdService(
        session_factory,
        settings=AcdSettings(
            wrap_up_seconds=20,
            default_aht_seconds=120,
            overflow=OverflowPolicy(wait_seconds=120, all_busy_seconds=60),
            callback=CallbackRules(retry_seconds=60, caller_id_number="88001000000"),
            auto_emergency=False,
        ),
        control=control,
        clock=clock,
    )
    await service.load()
    return service


async def answer(acd: AcdService, clock: StepClock, ext: str, caller: str, wait: float) -> None:
    await acd.on_event(called(ext, caller, clock.advance(wait)))
    await acd.on_event(left(caller, clock.now))
    await acd.on_event(connected(ext, caller, clock.now))


async def test_waiting_callers_and_operators_in_the_live_view(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    for ext in ("101", "102", "106"):
        await acd.login(staff.id(ext))
    await acd.pause(staff.id("102"), "lunch")
    first, second = new_caller(), new_caller()
    await acd.on_event(joined(first, clock.advance(1), 1))
    await acd.on_event(joined(second, clock.advance(10), 2))
    clock.advance(5)
    view = acd.snapshot(None)
    line1 = next(q for q in view.queues if q.name == "line1")
    assert line1.waiting == 2
    assert line1.longest_wait_seconds == 15.0
    assert [(c.position, c.wait_seconds) for c in line1.callers] == [(1, 15.0), (2, 5.0)]
    # members of line1: 101 ready, 102 paused, 106 (line 2 helping) ready
    assert line1.operators["ready"] == 2
    assert line1.operators["paused"] == 1
    assert line1.wait_target_seconds == 40
    assert {op.extension: op.state for op in view.operators} == {
        "101": OperatorState.READY,
        "102": OperatorState.PAUSED,
        "106": OperatorState.READY,
        "111": OperatorState.LOGGED_OUT,
    }
    assert view.metrics[0].line is None  # supervisors also see every line together


async def test_operators_see_the_lines_their_line_may_watch(acd: AcdService, staff: Staff) -> None:
    line2_view = acd.snapshot(frozenset({2}))
    assert [q.name for q in line2_view.queues] == ["line2"]
    assert [op.extension for op in line2_view.operators] == ["106"]
    assert [m.line for m in line2_view.metrics] == [2]
    line1_view = acd.snapshot(frozenset({1, 2}))
    assert {q.name for q in line1_view.queues} == {"line1", "line2", "branch-overflow"}


async def test_metrics_follow_the_calls(acd: AcdService, staff: Staff, clock: StepClock) -> None:
    await acd.login(staff.id("101"))
    fast, slow, gone = new_caller(), new_caller(), new_caller()
    await acd.on_event(joined(fast, clock.advance(1), 1))
    await answer(acd, clock, "101", fast, 10)  # answered after 10 s
    await acd.on_event(joined(slow, clock.advance(1), 1))
    await acd.on_event(joined(gone, clock.now, 2))
    await acd.on_event(abandoned(gone, clock.advance(30)))  # gave up after 30 s
    await acd.on_event(completed("101", fast, clock.advance(30), talk=61))
    clock.advance(20)
    await acd.tick()  # 20 s of after-call work ran out
    await answer(acd, clock, "101", slow, 0)  # joined at 0:12, answered at 1:32: 80 s
    # by hand: offered 3 = answered 2 + abandoned 1; within 40 s: 1 -> SL 1/3;
    # ASA (10 + 80) / 2 = 45 s; abandon 1/3; AHT = 61 talk + 20 wrap-up = 81 s (the second
    # call is still going on)
    today = next(m for m in acd.snapshot(None).metrics if m.line == 1).today
    assert (today.offered, today.answered, today.abandoned) == (3, 2, 1)
    assert today.service_level == pytest.approx(1 / 3)
    assert today.asa_seconds == pytest.approx(45.0)
    assert today.abandon_rate == pytest.approx(1 / 3)
    assert today.aht_seconds == pytest.approx(81.0)


async def test_a_caller_back_from_the_periodic_announcement_is_the_same_contact(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    await acd.login(staff.id("101"))
    caller = new_caller()
    await acd.on_event(joined(caller, clock.advance(1), 1))
    await acd.on_event(left(caller, clock.advance(60)))  # Queue() segment over: announcement
    assert acd.waited("line1", caller) == 60.0  # still counted from the first join
    await acd.on_event(joined(caller, clock.advance(8), 1))
    await answer(acd, clock, "101", caller, 12)
    today = next(m for m in acd.snapshot(None).metrics if m.line == 1).today
    assert (today.offered, today.answered) == (1, 1)
    assert today.asa_seconds == pytest.approx(80.0)


async def test_expected_wait_grows_with_the_queue(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    await acd.login(staff.id("101"))
    await acd.login(staff.id("102"))
    callers = [new_caller() for _ in range(3)]
    for i, caller in enumerate(callers):
        await acd.on_event(called("101" if i == 0 else "102", caller, clock.advance(1)))
    # two operators: one ringing and one ringing -> nobody ready; default AHT 120 s
    await acd.on_event(connected("101", callers[0], clock.advance(1)))
    await acd.on_event(connected("102", callers[1], clock.advance(1)))
    await acd.on_event(joined(callers[2], clock.now, 1))
    # a new caller has one caller ahead and both operators busy: 2 x 120 / 2 = 120 s
    assert acd.expected_wait_new("line1") == pytest.approx(120.0)
    assert acd.expected_wait_of("line1", callers[2]) == pytest.approx(60.0)
    # a socially important facility goes before the ordinary caller already waiting
    assert acd.expected_wait_new("line1", priority=10) == pytest.approx(60.0)


async def test_line_one_busy_too_long_overflows_to_the_branches(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    await acd.login(staff.id("101"))
    await acd.login(staff.id("111"))  # the branch is staffed
    caller = new_caller()
    await answer(acd, clock, "101", caller, 1)
    assert acd.route("line1").queue == "line1"  # busy, but not for long
    clock.advance(61)
    decision = acd.route("line1")
    assert decision.overflowed
    assert decision.queue == "branch-overflow"
    assert decision.reason is RouteReason.ALL_BUSY
    # line 3 never overflows
    assert not acd.route("line3").overflowed


async def test_no_overflow_into_an_empty_branch(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    await acd.login(staff.id("101"))
    await answer(acd, clock, "101", new_caller(), 1)
    clock.advance(300)
    decision = acd.route("line1")
    assert not decision.overflowed


async def test_emergency_mode_switch(
    acd: AcdService, staff: Staff, clock: StepClock, session_factory: Sessions
) -> None:
    await acd.login(staff.id("101"))
    await acd.login(staff.id("111"))
    caller = new_caller()
    await answer(acd, clock, "101", caller, 1)
    await acd.on_event(joined(new_caller(), clock.advance(1), 1))
    # one caller ahead, the only operator busy: expected 2 x 120 = 240 s... beyond 120 s
    assert acd.route("line1").overflowed
    async with session_factory.begin() as session:
        supervisor = await users_repo.create(
            session, username="sveta", password_hash="!", role=Role.SUPERVISOR
        )
    await acd.set_emergency(False, user_id=None)
    mode = await acd.set_emergency(True, user_id=supervisor.id, announcement="Авария на подстанции")
    assert acd.greeting_addition() == "Авария на подстанции"
    view = acd.snapshot(None)
    assert view.emergency.active
    assert view.emergency.wait_target_seconds == 180
    assert all(q.wait_target_seconds == 180 for q in view.queues)
    assert acd.route("line1").timeout_seconds == 180
    assert mode.since == clock.now
    async with session_factory() as session:
        entries = await audit_repo.search(session, action=EMERGENCY_AUDIT_ACTION)
    assert (supervisor.id, True) in [(e.user_id, e.details["active"]) for e in entries]
    await acd.set_emergency(False, user_id=supervisor.id)
    assert acd.greeting_addition() is None


async def test_callback_in_queue_keeps_the_place(
    acd: AcdService, staff: Staff, clock: StepClock, control: FakeControl
) -> None:
    await acd.login(staff.id("101"))
    busy, early, booker, late = (new_caller() for _ in range(4))
    await answer(acd, clock, "101", busy, 1)  # the only operator is busy
    await acd.on_event(joined(early, clock.advance(1), 1))
    booker_joined = clock.advance(1)
    await acd.on_event(joined(booker, booker_joined, 2))
    # the caller presses the key: leaves Queue(), books, hangs up
    await acd.on_event(left(booker, clock.advance(30)))
    booked = acd.book_callback("line1", booker, "+79161234567")
    assert booked.waiting_since == booker_joined  # the place in the queue is kept
    await acd.on_event(joined(late, clock.advance(5), 2))
    view = next(q for q in acd.snapshot(None).queues if q.name == "line1")
    assert view.waiting == 2
    assert len(view.callbacks) == 1
    # the operator frees up: the early caller is ahead of the callback, so it waits
    await acd.on_event(completed("101", busy, clock.advance(10), talk=40))
    await acd.ready(staff.id("101"))
    await acd.tick()
    assert control.originated == []
    await answer(acd, clock, "101", early, 1)
    await acd.on_event(completed("101", early, clock.advance(10), talk=9))
    await acd.ready(staff.id("101"))
    # now only `late` waits, and it came after the booking: the callback's turn
    await acd.tick()
    assert len(control.originated) == 1
    dial = control.originated[0]
    assert dial["channel"] == "Local/89161234567@outbound"
    assert (dial["context"], dial["exten"]) == ("transfer", "line1")
    assert dial["caller_id_number"] == "88001000000"
    assert dial["variables"]["QUEUED_CALLBACK"] == "1"
    assert dial["variables"]["IVR_PRIORITY"] == CALLBACK_PRIORITY
    channel_id = dial["channel_id"]
    await acd.tick()
    assert len(control.originated) == 1  # not dialled twice
    await acd.on_event(
        OriginateResult(
            name="OriginateResponse",
            at=clock.advance(12),
            action_id=f"orig-{channel_id}",
            success=True,
            reason=4,
            channel_id=channel_id,
        )
    )
    assert acd.callbacks.get(booked.id).state is CallbackState.IN_QUEUE  # type: ignore[union-attr]
    await acd.on_event(
        AgentConnected(
            name="AgentConnect",
            at=clock.advance(2),
            uniqueid=channel_id,
            linkedid=channel_id,
            queue="line1",
            interface="Local/101@agents/n",
        )
    )
    assert acd.callbacks.get(booked.id).state is CallbackState.DONE  # type: ignore[union-attr]
    # the booking caller's departure is not an abandoned call
    clock.advance(60)
    await acd.tick()
    today = next(m for m in acd.snapshot(None).metrics if m.line == 1).today
    assert today.abandoned == 0


async def test_an_unanswered_callback_is_tried_again_then_given_up(
    acd: AcdService, staff: Staff, clock: StepClock, control: FakeControl
) -> None:
    await acd.login(staff.id("101"))
    booker = new_caller()
    await acd.on_event(joined(booker, clock.advance(1), 1))
    await acd.on_event(left(booker, clock.advance(5)))
    callback = acd.book_callback("line1", booker, "89161234567")
    for attempt in range(3):
        await acd.tick()
        assert len(control.originated) == attempt + 1
        channel_id = control.originated[-1]["channel_id"]
        await acd.on_event(
            OriginateResult(
                name="OriginateResponse",
                at=clock.advance(30),
                action_id=f"orig-{channel_id}",
                success=False,
                reason=3,
                channel_id=channel_id,
            )
        )
        await acd.tick()  # not yet: the retry waits
        assert len(control.originated) == attempt + 1
        clock.advance(61)
    assert callback.state is CallbackState.FAILED
    await acd.tick()
    assert len(control.originated) == 3


async def test_a_change_wakes_the_live_stream_at_once(acd: AcdService, clock: StepClock) -> None:
    seen = acd.feed.version
    waiter = asyncio.create_task(acd.feed.wait(seen, 5.0))
    await asyncio.sleep(0)
    await acd.on_event(joined(new_caller(), clock.advance(1), 1))
    async with asyncio.timeout(1.0):
        assert await waiter > seen


async def test_a_callback_needs_a_number(acd: AcdService, clock: StepClock) -> None:
    caller = new_caller()
    await acd.on_event(joined(caller, clock.advance(1), 1))
    with pytest.raises(InvalidInput, match="не определён"):
        acd.book_callback("line1", caller, "anonymous")
    assert acd.callbacks.all() == []
    acd.book_callback("line1", caller, "89161234567")
    with pytest.raises(Conflict, match="уже заказан"):
        acd.book_callback("line1", caller, "+79161234567")


async def test_a_jump_in_the_inbound_rate_switches_emergency_on_by_itself(
    session_factory: Sessions, staff: Staff, clock: StepClock
) -> None:
    acd = AcdService(
        session_factory,
        settings=AcdSettings(
            auto_emergency=True,
            surge=SurgeRule(window_seconds=60, baseline_seconds=600, factor=3, min_calls=10),
        ),
        clock=clock,
    )
    await acd.load()
    for _ in range(3):  # a quiet spell: a call every three minutes
        await acd.on_event(joined(new_caller(), clock.advance(180), 1))
    await acd.tick()
    assert not acd.emergency.active
    for position in range(12):  # then a dozen calls within a minute
        await acd.on_event(joined(new_caller(), clock.advance(4), position + 1))
    await acd.tick()
    assert acd.emergency.active
    assert acd.emergency.source is EmergencySource.AUTOMATIC
    assert acd.snapshot(None).queues[0].wait_target_seconds == 180
