"""The ACD end to end on the PBX simulator: the platform's FastAGI scripts (acd-join, acd-wait)
announce the expected wait and route each caller, operators are logged in and paused by the
platform over AMI, the call records are kept by CallEvents, as in production.

The simulator runs ACD_DIALPLAN below: the `acd-wait` logic proposed for
asterisk_conf/extensions.conf (see the ACD report), in the dialplan subset the simulator
understands. Callers enter at `acd-entry,<queue>` (the IVR's part is not what is tested here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.acd.agi_scripts import acd_agi_routes
from callcenter.acd.callbacks import CallbackRules, CallbackState
from callcenter.acd.service import AcdAmiListener, AcdService, AcdSettings
from callcenter.asterisk.agi import AgiServer
from callcenter.asterisk.ami import AmiClient
from callcenter.asterisk.ami_backoff import Backoff
from callcenter.calls.records import CallEvents
from callcenter.db.base import Base
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.models import Call
from callcenter.domain.acd import OverflowPolicy
from callcenter.domain.agents import OperatorState
from callcenter.domain.calls import CallTracker
from callcenter.sim.callers import CALLERS_CONTEXT, CallerBehaviour, CallerScript, KeyPress
from callcenter.sim.channels import Party
from callcenter.sim.clock import VirtualClock
from callcenter.sim.dialplan import parse_extensions
from callcenter.sim.parties import CalledParty, Operator, Outcome
from callcenter.sim.pbx import OriginateRequest
from callcenter.sim.queues import QueueConfig, Strategy
from callcenter.sim.simulator import Simulator
from tests.support.eventually import eventually, pass_time
from tests.unit.acd.support import make_staff

SEGMENT = 30  # seconds between periodic announcements
CUSTOMER = "+79161234567"

Sessions = async_sessionmaker[AsyncSession]

# extensions.conf's acd / acd-wait as proposed, in the simulator's dialplan subset
ACD_DIALPLAN = """
[acd-entry]
exten => line1,1,Answer()
 same => n,Goto(acd,line1,1)
[transfer]
exten => line1,1,Goto(acd,line1,1)
[acd]
exten => line1,1,Set(CC_QUEUE=line1)
 same => n,Set(CC_OVERFLOW=branch-overflow)
 same => n,Set(CC_WAIT=90)
 same => n,Goto(acd-wait,s,1)
exten => branch-overflow,1,Set(CC_QUEUE=branch-overflow)
 same => n,Set(CC_OVERFLOW=)
 same => n,Set(CC_WAIT=90)
 same => n,Goto(acd-wait,s,1)
[acd-wait]
exten => s,1,Set(ACD_NEXT=)
 same => n,AGI({agi}/acd-join)
 same => n,GotoIf($["${AGISTATUS}" != "SUCCESS"]?whole)
 same => n,GotoIf($["${ACD_NEXT}" = "overflow"]?overflow)
 same => n,GotoIf($["${ACD_NEXT}" = "callback"]?booked)
 same => n,Set(QUEUE_PRIO=${IVR_PRIORITY})
 same => n,GotoIf($["${ACD_SEGMENT}" = ""]?whole)
 same => n(segment),Queue(${CC_QUEUE},t,,,${ACD_SEGMENT})
 same => n,GotoIf($["${QUEUESTATUS}" != "TIMEOUT"]?done)
 same => n,AGI({agi}/acd-wait)
 same => n,GotoIf($["${ACD_NEXT}" = "queue"]?segment)
 same => n,GotoIf($["${ACD_NEXT}" = "overflow"]?overflow)
 same => n,GotoIf($["${ACD_NEXT}" = "callback"]?booked)
 same => n,Goto(timeout)
 same => n(whole),Queue(${CC_QUEUE},t,,,${CC_WAIT})
 same => n(timeout),GotoIf($["${CC_OVERFLOW}" = ""]?done)
 same => n,Goto(acd,${CC_OVERFLOW},1)
 same => n(overflow),Goto(acd,${ACD_QUEUE},1)
 same => n(booked),Hangup()
 same => n(done),Hangup()
"""


@dataclass
class SpokenPrompt:
    asterisk_name: str


@dataclass
class FakePrompts:
    """Remembers every text the ACD asks to say; the simulator plays each for 1.5 s."""

    texts: list[str] = field(default_factory=list)

    async def render(self, text: str, *, normalise: bool = True) -> SpokenPrompt:
        self.texts.append(text)
        return SpokenPrompt(f"acd-prompt-{len(self.texts)}")


@pytest.fixture
async def sessions(migrated_sqlite_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(migrated_sqlite_url)
    try:
        yield create_session_factory(engine)
    finally:
        async with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(delete(table))
        await engine.dispose()


@dataclass
class Rig:
    sim: Simulator
    acd: AcdService
    calls: CallEvents
    prompts: FakePrompts
    sessions: Sessions
    clock: Callable[[], datetime]
    time: VirtualClock
    callers: dict[str, CallerBehaviour] = field(default_factory=dict)

    def op(self, extension: str) -> int:
        return next(o.id for o in self.acd.states.operators() if o.extension == extension)

    async def call(self, label: str, *, keys: tuple[KeyPress, ...] = ()) -> CallerBehaviour:
        script = CallerScript(label=label, number=CUSTOMER, keys=keys)
        behaviour = CallerBehaviour(script)
        self.callers[label] = behaviour
        request = OriginateRequest(
            channel=f"Local/{label}@{CALLERS_CONTEXT}",
            context="acd-entry",
            exten="line1",
            caller=Party(CUSTOMER, None),
            timeout=60.0,
            report=False,
            script=behaviour,
            callee_extension=script.extension(),
        )
        self.sim.pbx.spawn(self.sim.pbx.originate(request), name=f"caller {label}")
        await eventually(behaviour.attached.is_set, what=f"caller {label} placed")
        return behaviour

    async def until(self, predicate: Callable[[], bool], within: float = 400.0) -> None:
        """Let simulated time pass until a condition holds (at most `within` simulated s)."""
        await eventually(predicate, clock=self.time, within=within)


@pytest.fixture
async def rig(sessions: Sessions, tmp_path: Path) -> AsyncIterator[Rig]:
    skills = {"outages": 9, "contacts": 9, "power_quality": 9}
    await make_staff(sessions, {"101": (1, skills), "111": (1, skills)}, branch=("111",))
    prompts = FakePrompts()
    calls = CallEvents(
        sessions, tracker=CallTracker(inbound_numbers={"line1"}, inbound_contexts={"acd-entry"})
    )
    await calls.start()
    queues = [
        QueueConfig("line1", Strategy.LEASTRECENT, timeout=15, retry=1, ringinuse=False),
        QueueConfig("branch-overflow", Strategy.RINGALL, timeout=15, retry=1, ringinuse=False),
    ]
    time = VirtualClock()
    async with AgiServer(port=0) as agi:
        agi_url = f"agi://127.0.0.1:{agi.address[1]}"
        sim = Simulator(
            agi_port=agi.address[1],
            recordings_dir=tmp_path / "sim",
            clock=time,
            queues=queues,
            dialplan=parse_extensions(ACD_DIALPLAN.replace("{agi}", agi_url)),
            seed=5,
        )
        async with sim:

            def clock() -> datetime:
                # the platform measures simulated time, like the AMI client below
                return datetime.fromtimestamp(sim.clock.epoch(), UTC)

            acd = AcdService(
                sessions,
                settings=AcdSettings(
                    wrap_up_seconds=5,
                    default_aht_seconds=60,
                    overflow=OverflowPolicy(wait_seconds=120, all_busy_seconds=30),
                    announce_every_seconds=SEGMENT,
                    callback_offer_min_wait_seconds=30,
                    callback=CallbackRules(caller_id_number="88001000000", retry_seconds=30),
                    auto_emergency=False,
                    tick_seconds=0.02,
                ),
                clock=clock,
            )
            for script, handler in acd_agi_routes(acd, prompts, sessions=sessions).items():
                agi.add_route(script, handler)
            client = AmiClient(
                "127.0.0.1",
                sim.ami_port,
                "callcenter",
                "callcenter",
                AcdAmiListener(acd, inner=calls),
                action_timeout=5.0,
                backoff=Backoff(base=0.01, factor=2.0, max_delay=0.05, jitter=0.0),
                clock=clock,
            )
            acd.attach(client)
            await acd.start()
            await client.start()
            try:
                await client.wait_connected(5.0)
                yield Rig(sim, acd, calls, prompts, sessions, clock, time)
            finally:
                await client.close()
                await acd.stop()
    await calls.stop()


def talking_operator(extension: str, seconds: float) -> Operator:
    return Operator(extension, answer_after=1.0, talk_time=seconds)


async def test_the_expected_wait_is_announced_on_joining_and_then_periodically(rig: Rig) -> None:
    # the first call takes 80 s, then 5 s of after-call work: the second caller (line 1
    # waits at most 90 s) is answered after about 85 s
    rig.sim.add_operator(talking_operator("101", 80))
    await rig.acd.login(rig.op("101"))
    first = await rig.call("first")
    await rig.until(lambda: first.connected_at is not None)
    second = await rig.call("second")
    await rig.until(lambda: second.connected_at is not None, within=600)
    texts = rig.prompts.texts
    # joining behind a call that has just begun (AHT 60 s on record): about a minute
    assert texts[0] == (
        "Все операторы заняты. Оператор ответит примерно через одну минуту. "
        "Чтобы мы перезвонили вам, не теряя вашей очереди, нажмите два."
    )
    periodic = [t for t in texts[1:] if "оставайтесь на линии" in t]
    assert len(periodic) >= 2  # every 30 s while the first call (80 s) goes on
    assert all("Оператор" in t for t in periodic)
    # the announcements took the caller out of Queue() and back: still one waiting contact
    await rig.until(lambda: line1_metrics(rig).answered == 2)
    metrics = line1_metrics(rig)
    assert (metrics.offered, metrics.answered, metrics.left) == (2, 2, 0)
    assert metrics.asa_seconds is not None
    assert metrics.asa_seconds > 40  # the second caller's whole wait, not one segment of it


def waiting(rig: Rig, queue: str) -> int:
    return next(q for q in rig.acd.snapshot(None).queues if q.name == queue).waiting


def line1_metrics(rig: Rig):  # type: ignore[no-untyped-def]
    return next(m for m in rig.acd.snapshot(None).metrics if m.line == 1).today


async def test_a_caller_overflows_to_the_branch_when_line_one_is_busy_too_long(rig: Rig) -> None:
    rig.sim.add_operator(talking_operator("101", 200))
    rig.sim.add_operator(talking_operator("111", 20))
    await rig.acd.login(rig.op("101"))
    await rig.acd.login(rig.op("111"))
    first = await rig.call("first")
    await rig.until(lambda: first.connected_at is not None)
    # everyone on line 1 busy for 30 s (all_busy_seconds) and more
    await pass_time(rig.time, 35)
    overflowed = await rig.call("overflowed")
    await rig.until(lambda: overflowed.connected_at is not None)
    # the ACD learns of the connect from the AMI events that follow it
    await rig.until(lambda: rig.acd.states.status(rig.op("111")).state is OperatorState.ON_CALL)
    branch = rig.acd.states.status(rig.op("111"))
    assert branch.call is not None
    assert branch.call.queue == "branch-overflow"
    assert branch.call.caller_uniqueid == uniqueid_of(overflowed)
    # the overflow is silent in line 1 (nothing said); the branch announces its own wait
    assert not any("через" in t for t in rig.prompts.texts)


async def test_emergency_mode_opens_the_overflow_and_raises_the_wait_target(rig: Rig) -> None:
    rig.sim.add_operator(talking_operator("101", 300))
    rig.sim.add_operator(talking_operator("111", 20))
    await rig.acd.login(rig.op("101"))
    await rig.acd.login(rig.op("111"))
    first = await rig.call("first")
    await rig.until(lambda: first.connected_at is not None)
    # normal mode: a minute's wait is acceptable, the caller stays on line 1
    stays = await rig.call("stays")
    await rig.until(lambda: stays.joined_at is not None)
    assert waiting(rig, "line1") == 1
    await rig.acd.set_emergency(True, user_id=None, announcement="Авария в Твери")
    assert rig.acd.greeting_addition() == "Авария в Твери"
    moved = await rig.call("moved")
    await rig.until(lambda: moved.connected_at is not None)
    await rig.until(lambda: rig.acd.states.status(rig.op("111")).call is not None)
    branch = rig.acd.states.status(rig.op("111")).call
    assert branch is not None
    assert branch.queue == "branch-overflow"
    assert waiting(rig, "line1") == 1  # the caller before the switch still waits on line 1
    view = rig.acd.snapshot(None)
    assert view.emergency.active
    assert next(q for q in view.queues if q.name == "line1").wait_target_seconds == 180


async def test_callback_in_queue_end_to_end(rig: Rig) -> None:
    rig.sim.add_operator(talking_operator("101", 60))
    rig.sim.set_called_party("89161234567", CalledParty(Outcome.HUMAN, talk_time=120))
    await rig.acd.login(rig.op("101"))
    busy = await rig.call("busy")
    await rig.until(lambda: busy.connected_at is not None)
    # the next caller hears the offer and presses 2 while it is said
    booker = await rig.call("booker", keys=(KeyPress(0.5, "2"),))
    await rig.until(lambda: bool(rig.acd.callbacks.all()))
    callback = rig.acd.callbacks.all()[0]
    assert callback.number == "89161234567"
    await rig.until(
        lambda: booker.caller_channel is not None and booker.caller_channel.ended.is_set()
    )
    assert any("Мы перезвоним вам на номер" in t for t in rig.prompts.texts)
    # the operator finishes the first call (and 5 s of after-call work): the platform calls
    # the customer back and an operator takes the call
    await rig.until(lambda: callback.state is CallbackState.DONE, within=800)
    assert callback.attempts == 1
    assert callback.channel_id is not None
    # the call record says it was a queued callback; the booking was not an abandoned call
    record = await call_record(rig, callback.channel_id)
    assert record.is_queued_callback
    assert record.queue_name == "line1"
    assert record.operator_id == rig.op("101")
    assert line1_metrics(rig).abandoned == 0


def uniqueid_of(caller: CallerBehaviour) -> str:
    assert caller.ivr_channel is not None
    return caller.ivr_channel.uniqueid


async def call_record(rig: Rig, linkedid: str) -> Call:
    async def answered_record() -> Call | None:
        await rig.calls.flush()
        async with rig.sessions() as session:
            row = (await session.scalars(select(Call).where(Call.linkedid == linkedid))).first()
        return row if row is not None and row.operator_id is not None else None

    return await eventually(answered_record)
