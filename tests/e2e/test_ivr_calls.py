"""The IVR end to end: the PBX simulator places calls through the platform's FastAGI server
into the IVR runtime, against a real database (SQLite and PostgreSQL), while the call-records
service follows the simulator's AMI events into the calls table, as in production.

Callers press keys at fixed simulated times; a key pressed before the IVR asks waits in the
channel (as DTMF does), so the scripts do not depend on how fast the platform answers. The
simulator runs on a virtual clock the test moves on, and time stands still while the IVR
thinks (between AGI commands). The calls of one test run side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.asterisk.agi import AgiServer
from callcenter.asterisk.ami import AmiClient
from callcenter.asterisk.ami_backoff import Backoff
from callcenter.calls.records import CallEvents
from callcenter.db.models import Appeal, Call, GridApplication, MeterReading, Voicemail
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import localities as localities_repo
from callcenter.db.repositories import outages as outages_repo
from callcenter.domain.appeals import AppealChannel, AppealKind
from callcenter.domain.calls import CallTracker, Disposition
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.grid_applications import GridApplicationStatus
from callcenter.domain.ivr import Outcome
from callcenter.domain.meter_readings import ReadingSource
from callcenter.domain.outages import OutageKind
from callcenter.inbound.flows import FlowLoader, FlowRegistry, default_queues
from callcenter.inbound.ivr import IvrOutcome, IvrService
from callcenter.inbound.self_service import IvrSelfService
from callcenter.recordings.registry import RecordingService
from callcenter.recordings.voicemails import VoicemailService
from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.clock import VirtualClock
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallHandle, CallOutcome, Simulator
from callcenter.speech.tts import PromptRenderer, RenderedPrompt
from callcenter.storage.recordings import RecordingStore
from tests.support.eventually import eventually, finished

REPO = Path(__file__).resolve().parents[2]
FLOWS_DIR = REPO / "ivr_flows"
KNOWN_PHONE = "+79157001122"
KNOWN_ACCOUNT = "6901000001"
APPLICATION = "2500101"
INTRO_SECONDS = 16.0  # greeting and notice take ~9 s: keys pressed meanwhile are lost, and the
# root menu waits until ~27 s: pressing at 16 s is within its wait


class SpyRenderer(PromptRenderer):
    """The real renderer, remembering every text it was asked to say."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.texts: list[str] = []

    async def render(self, text: str, *, normalise: bool = True) -> RenderedPrompt:
        self.texts.append(text)
        return await super().render(text, normalise=normalise)


@dataclass
class Rig:
    sim: Simulator
    sessions: async_sessionmaker[AsyncSession]
    renderer: SpyRenderer
    registry: FlowRegistry
    calls: CallEvents
    time: VirtualClock
    outcomes: list[IvrOutcome] = field(default_factory=list)
    customer_id: int = 0

    async def call(self, script: CallerScript) -> CallHandle:
        (handle,) = await self.side_by_side(script)
        return handle

    async def side_by_side(self, *scripts: CallerScript) -> list[CallHandle]:
        """Place the calls at once and let simulated time pass until all are over."""
        handles = [await self.sim.place_inbound_call(script) for script in scripts]
        await finished(self.time, asyncio.gather(*(h.wait() for h in handles)))
        return handles

    async def outcome_for(self, handle: CallHandle) -> IvrOutcome:
        """The IVR's account of the call (the session may end just after the channel)."""
        # named by the call record's id, the CALL_UUID the call was given
        call_id = uuid.UUID(handle.call_uuid)

        def reported() -> IvrOutcome | None:
            return next((o for o in self.outcomes if o.call_id == call_id), None)

        return await eventually(reported, what="the IVR's outcome")

    async def call_record(self, handle: CallHandle) -> Call:
        """The call's row once the call-records service has written its end."""

        async def ended() -> Call | None:
            await self.calls.flush()
            async with self.sessions() as session:
                rows = list(
                    await session.scalars(select(Call).where(Call.linkedid == handle.linkedid))
                )
            return rows[0] if rows and rows[0].ended_at is not None else None

        return await eventually(ended, what="the call's record")

    async def rows(self, model: type[Any]) -> list[Any]:
        async with self.sessions() as session:
            return list(await session.scalars(select(model)))


def keys(*steps: tuple[float, str], **kwargs: Any) -> CallerScript:
    """A caller who presses `digits` `after` seconds after the previous key; the first
    after the greeting and the notice."""
    pressed = [KeyPress(INTRO_SECONDS + steps[0][0], steps[0][1])]
    pressed += [KeyPress(after, digits) for after, digits in steps[1:]]
    return CallerScript(keys=pressed, **kwargs)


async def seed(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    async with sessions() as session:
        tver = await localities_repo.create(session, name="Тверь", region="Тверская область")
        await localities_repo.create(session, name="Ржев", region="Тверская область")
        customer = await customers_repo.create(
            session,
            account_number=KNOWN_ACCOUNT,
            full_name="Соколова Анна Михайловна",
            category=CustomerCategory.INDIVIDUAL,
            phones=[KNOWN_PHONE],
            locality_id=tver.id,
            balance_kopecks=184_550,
        )
        await outages_repo.add(
            session,
            locality_id=tver.id,
            kind=OutageKind.PLANNED,
            starts_at=now + timedelta(days=1, hours=1),
            ends_at=now + timedelta(days=1, hours=7),
            reason="ремонт линии",
        )
        session.add(
            GridApplication(
                number=APPLICATION,
                customer_id=None,
                status=GridApplicationStatus.UNDER_REVIEW,
                status_text_ru="Заявка на рассмотрении в сетевой организации",
                submitted_at=now - timedelta(days=3),
                updated_at=now - timedelta(days=1),
            )
        )
        await session.commit()
        return customer.id


@asynccontextmanager
async def running_rig(
    sessions: async_sessionmaker[AsyncSession], tmp: Path, prompt_cache: Path, flows_dir: Path
) -> AsyncIterator[Rig]:
    now = datetime.now(UTC)
    customer_id = await seed(sessions, now)
    renderer = SpyRenderer(prompt_cache, voice="ru", rate=150)
    registry = FlowRegistry(
        flows_dir, FlowLoader(renderer, known_queues=default_queues()), debounce_ms=50
    )
    report = await registry.reload()
    assert report.errors == [], report.errors
    recordings = RecordingService(sessions, RecordingStore(tmp / "recordings"))
    self_service = IvrSelfService(
        sessions,
        clock=lambda: datetime.now(UTC),
        recordings_dir=tmp / "recordings",
        voicemail_paths=recordings,
        voicemails=VoicemailService(recordings),
    )
    outcomes: list[IvrOutcome] = []

    async def collect(outcome: IvrOutcome) -> None:
        outcomes.append(outcome)

    service = IvrService(
        registry, renderer, self_service, clock=lambda: datetime.now(UTC), on_outcome=collect
    )
    calls = CallEvents(
        sessions, tracker=CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})
    )
    await calls.start()
    time = VirtualClock()
    async with AgiServer({"ivr": service.handle}, port=0) as agi:
        sim = Simulator(
            agi_port=agi.address[1],
            recordings_dir=tmp / "sim",
            clock=time,
            sounds_dirs=[prompt_cache],
        )
        async with sim:
            sim.add_operator(
                Operator("101", answer_after=1.0, talk_time=5.0), queues=["line1", "line2"]
            )
            client = AmiClient(
                "127.0.0.1",
                sim.ami_port,
                "callcenter",
                "callcenter",
                calls,
                action_timeout=2.0,
                backoff=Backoff(base=0.01, factor=2.0, max_delay=0.05, jitter=0.0),
            )
            await client.start()
            try:
                await client.wait_connected(5.0)
                rig = Rig(sim, sessions, renderer, registry, calls, time, outcomes, customer_id)
                yield rig
            finally:
                await client.close()
    await calls.stop()


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prompt_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One TTS cache for the module: each prompt is synthesised once."""
    return tmp_path_factory.mktemp("prompts")


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """A copy of the shipped flows, which a test may edit."""
    target = tmp_path / "ivr_flows"
    shutil.copytree(FLOWS_DIR, target)
    return target


@pytest.fixture
async def rig(
    session_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    prompt_cache: Path,
    flows_dir: Path,
) -> AsyncIterator[Rig]:
    async with running_rig(session_factory, tmp_path, prompt_cache, flows_dir) as running:
        yield running


def said_with(rig: Rig, fragment: str) -> list[str]:
    return [text for text in rig.renderer.texts if fragment in text]


# --- the scenarios of the issue --------------------------------------------------------------


async def test_simulated_callers_leave_the_expected_records(rig: Rig) -> None:
    reading = keys((0, "2"), (1, "1"), (1, "1"), (1, "12345#"), (2, "1"), number=KNOWN_PHONE)
    application = keys((0, "3"), (1, "1"), (1, f"{APPLICATION}#"), number="+79990000001")
    outages = keys((0, "1"), (1, "1"), (1, "1"), number=KNOWN_PHONE, label="outages")
    pulse = CallerScript(pulse=True, number="+79990000002", label="pulse")
    hang_up = keys((0, "2"), number="+79990000003", hangup_after=INTRO_SECONDS + 3, label="hup")
    for n, script in enumerate((reading, application)):
        script.label = f"caller{n}"

    calls = await rig.side_by_side(reading, application, outages, pulse, hang_up)
    reading_call, application_call, outages_call, pulse_call, hang_up_call = calls

    # a caller entering a meter reading by keypad: the reading is stored with the call (the
    # IVR's outcome is reported once its session is over, so everything it saved is there)
    for handle in calls:
        await rig.outcome_for(handle)
    (stored,) = await rig.rows(MeterReading)
    record = await rig.call_record(reading_call)
    assert (stored.account_number, stored.value, stored.source) == (
        KNOWN_ACCOUNT,
        "12345",
        ReadingSource.KEYPAD,
    )
    assert stored.customer_id == rig.customer_id
    assert stored.call_id == record.id
    assert said_with(rig, "Показания двенадцать тысяч триста сорок пять. Если верно")
    outcome = await rig.outcome_for(reading_call)
    assert outcome.closed
    assert outcome.path_text == "2>1>1"
    assert outcome.served == ("reading_keypad",)
    assert outcome.ivr_seconds > 0
    assert (record.disposition, record.ivr_closed) == (Disposition.CLOSED_BY_IVR, True)
    assert record.ivr_path == ["2", "1", "1"]
    assert record.customer_id == rig.customer_id
    assert reading_call.channel.variables["RECORDING_NOTICE"] == "2025-01"

    # a caller checking an application by its number
    assert said_with(rig, "Заявка номер два пять ноль ноль один ноль один. Заявка на рассмотрении")
    record = await rig.call_record(application_call)
    assert (record.disposition, record.ivr_path) == (Disposition.CLOSED_BY_IVR, ["3", "1"])
    assert (await rig.outcome_for(application_call)).served == ("application_status",)

    # a known caller hearing the outages of their own locality
    assert said_with(rig, "Тверь: плановое отключение")
    record = await rig.call_record(outages_call)
    assert record.ivr_closed
    assert (await rig.outcome_for(outages_call)).served == ("outages_here",)

    # a pulse phone reaches an operator of line 1
    result = pulse_call.result()
    assert (result.outcome, result.queue) == (CallOutcome.ANSWERED, "line1")
    assert pulse_call.channel.variables["IVR_TARGET"] == "line1"
    assert pulse_call.channel.variables["IVR_PRIORITY"] == "0"
    outcome = await rig.outcome_for(pulse_call)
    assert (outcome.outcome, outcome.path, outcome.target) == (Outcome.HANDED_OFF, (), "line1")
    record = await rig.call_record(pulse_call)
    assert (record.disposition, record.queue_name, record.ivr_closed) == (
        Disposition.ANSWERED,
        "line1",
        False,
    )

    # a caller hanging up mid-menu
    outcome = await rig.outcome_for(hang_up_call)
    assert (outcome.outcome, outcome.path_text, outcome.closed) == (Outcome.HUNG_UP, "2", False)
    record = await rig.call_record(hang_up_call)
    assert (record.disposition, record.ivr_path) == (Disposition.HUNG_UP_IN_IVR, ["2"])

    # nothing else was registered by these calls
    assert await rig.rows(Appeal) == []


async def test_callbacks_and_voice_messages_become_appeals(rig: Rig) -> None:
    callback = keys((0, "4"), (1, "3"), (1, "1"), number=KNOWN_PHONE, label="callback")
    message = keys((0, "4"), (1, "2"), number="+79990000004", speech=[4.0], label="message")
    callback_call, message_call = await rig.side_by_side(callback, message)
    # the caller's side may end before the IVR has written what it took
    await rig.outcome_for(callback_call)
    await rig.outcome_for(message_call)

    appeals = {a.channel: a for a in await rig.rows(Appeal)}
    assert set(appeals) == {AppealChannel.IVR_CALLBACK, AppealChannel.IVR_VOICEMAIL}
    asked = appeals[AppealChannel.IVR_CALLBACK]
    assert asked.kind is AppealKind.CALLBACK
    assert asked.customer_id == rig.customer_id
    assert asked.answer_due_at is not None
    assert asked.answer_due_at - asked.created_at == timedelta(minutes=30)
    assert asked.params["callback_phone"] == KNOWN_PHONE
    assert asked.call_id == (await rig.call_record(callback_call)).id
    assert said_with(rig, "Мы перезвоним в течение 30 минут")

    left = appeals[AppealChannel.IVR_VOICEMAIL]
    (voicemail,) = await rig.rows(Voicemail)
    assert voicemail.appeal_id == left.id
    assert voicemail.caller_number == "+79990000004"
    assert voicemail.support_line == 1
    assert (voicemail.duration_seconds or 0.0) >= 4.0
    assert left.call_id == (await rig.call_record(message_call)).id
    assert (await rig.outcome_for(message_call)).closed


async def test_known_callers_reach_the_operator_with_their_customer_id(rig: Rig) -> None:
    handle = await rig.call(keys((0, "2"), (1, "0"), number=KNOWN_PHONE, talk_time=2.0))
    variables = handle.channel.variables
    assert (variables["IVR_TARGET"], variables["CUSTOMER_ID"]) == ("line2", str(rig.customer_id))
    assert handle.result().outcome == CallOutcome.ANSWERED
    record = await rig.call_record(handle)
    assert (record.customer_id, record.queue_name) == (rig.customer_id, "line2")
    assert record.ivr_path == ["2", "0"]


async def test_a_prompt_changed_in_yaml_is_heard_on_the_next_call(
    rig: Rig, flows_dir: Path
) -> None:
    await rig.call(keys((0, "#"), number="+79990000005", hangup_after=INTRO_SECONDS + 2))
    assert said_with(rig, "Вы позвонили в контакт-центр")
    rig.registry.start_watching()
    try:
        flow_file = flows_dir / "main.yaml"
        text = flow_file.read_text(encoding="utf-8")
        edited = text.replace(
            "greeting_prompt: Здравствуйте! Вы позвонили в контакт-центр.",
            "greeting_prompt: Добрый день! Это энергосбытовая компания.",
        )
        assert edited != text
        version = rig.registry.version
        # the watcher may need a moment to start: keep touching the file until it reloads
        async with asyncio.timeout(10):
            while rig.registry.version == version:
                flow_file.write_text(edited, encoding="utf-8")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await rig.registry.wait_version(version + 1)
    finally:
        await rig.registry.stop_watching()
    rig.renderer.texts.clear()
    await rig.call(keys((0, "#"), number="+79990000006", hangup_after=INTRO_SECONDS + 2))
    assert said_with(rig, "Добрый день! Это энергосбытовая компания.")
    assert not said_with(rig, "Вы позвонили в контакт-центр")
