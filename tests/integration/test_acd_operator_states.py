"""Operator states in the ACD service: commands go to Asterisk, events move the state, the
history is recorded, and QueueStatus after a reconnect corrects what drifted."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callcenter.acd.operator_states import PbxUnavailable
from callcenter.acd.service import AcdService, AcdSettings
from callcenter.common.access import Conflict
from callcenter.db.repositories import operators as operators_repo
from callcenter.domain.agents import NO_ANSWER_REASON, WRAP_UP_REASON, OperatorState
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.results import QueueStatusReport
from tests.unit.acd.support import (
    FakeControl,
    Sessions,
    Staff,
    StepClock,
    called,
    completed,
    connected,
    iface,
    make_staff,
    member_paused,
    member_status,
    new_caller,
    rang_out,
)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def control() -> FakeControl:
    return FakeControl()


@pytest.fixture
async def staff(session_factory: Sessions) -> Staff:
    return await make_staff(session_factory)


@pytest.fixture
async def acd(
    session_factory: Sessions, staff: Staff, clock: StepClock, control: FakeControl
) -> AcdService:
    service = AcdService(
        session_factory,
        settings=AcdSettings(wrap_up_seconds=30, max_missed_rings=2),
        control=control,
        clock=clock,
    )
    await service.load()
    return service


async def history(sessions: Sessions, operator_id: int) -> list[tuple[str, str | None]]:
    async with sessions() as session:
        rows = await operators_repo.state_history(
            session,
            operator_id,
            since=StepClock().now - timedelta(days=1),
            until=StepClock().now + timedelta(days=1),
        )
    return [(row.state.value, row.pause_reason) for row in rows]


async def test_login_adds_the_operator_to_their_queues_with_skill_penalties(
    acd: AcdService, staff: Staff, control: FakeControl, session_factory: Sessions
) -> None:
    status = await acd.login(staff.id("106"))
    assert status.state is OperatorState.READY
    adds = {a["queue"]: a for name, a in control.actions if name == "QueueAdd"}
    # line 2's expert: penalty 0 in line2; in line1 the seeded 5 plus 3 for no line-1 skills
    assert adds["line2"]["penalty"] == 0
    assert adds["line1"]["penalty"] == 8
    assert adds["line2"]["interface"] == iface("106")
    assert adds["line2"]["state_interface"] == "Local/106@agents"
    assert adds["line2"]["paused"] is False
    assert await history(session_factory, staff.id("106")) == [("ready", None)]
    # a less skilled line-1 operator rings after the experts
    await acd.login(staff.id("102"))
    assert control.actions[-1][1]["penalty"] == 2


async def test_pause_with_a_reason_and_unpause_go_to_asterisk(
    acd: AcdService, staff: Staff, control: FakeControl, session_factory: Sessions
) -> None:
    op = staff.id("101")
    await acd.login(op)
    status = await acd.pause(op, "lunch")
    assert status.state is OperatorState.PAUSED
    assert control.actions[-1] == (
        "QueuePause",
        {"interface": iface("101"), "paused": True, "reason": "lunch"},
    )
    assert control.members[("line1", iface("101"))].reason == "lunch"
    await acd.ready(op)
    assert control.actions[-1][1]["paused"] is False
    await acd.logout(op)
    assert control.names()[-1] == "QueueRemove"
    assert await history(session_factory, op) == [
        ("ready", None),
        ("paused", "lunch"),
        ("ready", None),
        ("logged_out", None),
    ]


async def test_commands_need_the_pbx(acd: AcdService, staff: Staff, control: FakeControl) -> None:
    control.connected = False
    with pytest.raises(PbxUnavailable):
        await acd.login(staff.id("101"))
    assert acd.states.status(staff.id("101")).state is OperatorState.LOGGED_OUT


async def test_guarded_commands_are_refused_in_russian(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    op = staff.id("101")
    with pytest.raises(Conflict, match="войдите"):
        await acd.pause(op, "lunch")
    await acd.login(op)
    caller = new_caller()
    await acd.on_event(called("101", caller, clock.advance(1)))
    await acd.on_event(connected("101", caller, clock.advance(2)))
    with pytest.raises(Conflict, match="завершите разговор"):
        await acd.logout(op)


async def test_a_queue_call_from_ring_to_after_call_work(
    acd: AcdService, staff: Staff, clock: StepClock, control: FakeControl
) -> None:
    op = staff.id("101")
    await acd.login(op)
    caller = new_caller()
    await acd.on_event(called("101", caller, clock.advance(1)))
    assert acd.states.status(op).state is OperatorState.RINGING
    await acd.on_event(connected("101", caller, clock.advance(2)))
    await acd.on_event(member_status("101", clock.now, in_call=True))
    assert acd.states.status(op).state is OperatorState.ON_CALL
    await acd.on_event(completed("101", caller, clock.advance(60), talk=60))
    assert acd.states.status(op).state is OperatorState.WRAP_UP
    assert control.actions[-1][1] == {
        "interface": iface("101"),
        "paused": True,
        "reason": WRAP_UP_REASON,
    }
    # Asterisk's member status from right after the call (not paused yet) is outdated
    await acd.on_event(member_status("101", clock.now, in_call=False))
    assert acd.states.status(op).state is OperatorState.WRAP_UP
    clock.advance(31)
    await acd.tick()
    assert acd.states.status(op).state is OperatorState.READY
    assert control.actions[-1][1]["paused"] is False


async def test_an_operator_who_lets_it_ring_out_twice_is_paused(
    acd: AcdService, staff: Staff, clock: StepClock, control: FakeControl
) -> None:
    op = staff.id("101")
    await acd.login(op)
    for _ in range(2):
        caller = new_caller()
        await acd.on_event(called("101", caller, clock.advance(1)))
        await acd.on_event(rang_out("101", caller, clock.advance(15)))
    status = acd.states.status(op)
    assert (status.state, status.pause_reason) == (OperatorState.PAUSED, NO_ANSWER_REASON)
    assert control.actions[-1][1]["reason"] == NO_ANSWER_REASON


async def test_when_one_operator_answers_the_others_stop_ringing(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    await acd.login(staff.id("101"))
    await acd.login(staff.id("102"))
    caller = new_caller()
    await acd.on_event(called("101", caller, clock.advance(1)))
    await acd.on_event(called("102", caller, clock.now))
    await acd.on_event(connected("102", caller, clock.advance(3)))
    assert acd.states.status(staff.id("101")).state is OperatorState.READY
    assert acd.states.status(staff.id("102")).state is OperatorState.ON_CALL


async def test_a_pause_made_in_asterisk_shows_on_the_board(
    acd: AcdService, staff: Staff, clock: StepClock
) -> None:
    op = staff.id("106")  # in line1 and line2
    await acd.login(op)
    for queue in ("line1", "line2"):  # what Asterisk reports after the QueueAdds
        await acd.on_event(member_paused("106", clock.advance(1), paused=False, queue=queue))
    assert acd.states.corrections == 0
    await acd.on_event(member_paused("106", clock.advance(1), paused=True, reason="meeting"))
    assert acd.states.status(op).state is OperatorState.READY  # still free in line2
    await acd.on_event(
        member_paused("106", clock.advance(1), paused=True, reason="meeting", queue="line2")
    )
    status = acd.states.status(op)
    assert (status.state, status.pause_reason) == (OperatorState.PAUSED, "meeting")
    assert acd.states.corrections == 1


def _status_report(*members: tuple[str, str, bool, str]) -> QueueStatusReport:
    frames = [AmiFrame.of(Event="QueueParams", Queue=q) for q in ("line1", "line2")]
    for queue, ext, paused, reason in members:
        frames.append(
            AmiFrame.of(
                Event="QueueMember",
                Queue=queue,
                Name=f"Operator {ext}",
                Location=iface(ext),
                Paused=int(paused),
                PausedReason=reason,
                InCall=0,
                Status=1,
            )
        )
    return QueueStatusReport.from_frames(frames)


async def test_queue_status_corrects_a_stuck_pause_and_a_stuck_call(
    acd: AcdService, staff: Staff, clock: StepClock, session_factory: Sessions
) -> None:
    paused, talking = staff.id("101"), staff.id("102")
    await acd.login(paused)
    await acd.pause(paused, "lunch")
    await acd.login(talking)
    caller = new_caller()
    await acd.on_event(called("102", caller, clock.advance(1)))
    await acd.on_event(connected("102", caller, clock.advance(1)))
    # the link was down; meanwhile the pause was lifted and the call ended in Asterisk
    report = _status_report(("line1", "101", False, ""), ("line1", "102", False, ""))
    await acd.resync(report, clock.advance(120))
    assert acd.states.status(paused).state is OperatorState.READY
    assert acd.states.status(talking).state is OperatorState.WRAP_UP
    assert acd.states.corrections == 2
    assert (await history(session_factory, paused))[-1] == ("ready", None)


async def test_after_an_asterisk_restart_operators_are_put_back_with_their_pause(
    acd: AcdService, staff: Staff, clock: StepClock, control: FakeControl
) -> None:
    op = staff.id("101")
    await acd.login(op)
    await acd.pause(op, "training")
    control.members.clear()  # Asterisk restarted: persistentmembers = no
    control.actions.clear()
    await acd.resync(_status_report(), clock.advance(60))
    status = acd.states.status(op)
    assert (status.state, status.pause_reason) == (OperatorState.PAUSED, "training")
    assert control.actions == [
        (
            "QueueAdd",
            {
                "queue": "line1",
                "interface": iface("101"),
                "member_name": "101 Оператор 101",
                "state_interface": "Local/101@agents",
                "penalty": 0,
                "paused": True,
                "reason": "training",
            },
        )
    ]
    assert control.members[("line1", iface("101"))].paused


async def test_states_survive_a_platform_restart(
    acd: AcdService, staff: Staff, session_factory: Sessions, clock: StepClock
) -> None:
    await acd.login(staff.id("101"))
    await acd.pause(staff.id("101"), "lunch")
    fresh = AcdService(session_factory, settings=acd.settings, clock=clock)
    await fresh.load()
    status = fresh.states.status(staff.id("101"))
    assert (status.state, status.pause_reason) == (OperatorState.PAUSED, "lunch")
