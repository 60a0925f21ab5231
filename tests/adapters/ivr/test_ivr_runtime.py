"""The IVR runtime over real FastAGI: the platform's AgiServer and IvrService against a scripted
Asterisk (tests/support/agi_peer.py) that answers as res_agi does and plays a caller.

Checks the exact commands Asterisk receives (barge-in escape digits, GET DATA, RECORD FILE,
the channel variables of the hand-off and of the call record) and how failures end."""

from __future__ import annotations

import asyncio
import shutil
import wave
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from callcenter.asterisk.agi import AgiServer
from callcenter.domain.ivr import (
    Balance,
    CallerInfo,
    Outcome,
    Result,
    Said,
    SaveReading,
)
from callcenter.domain.meter_readings import ReadingSource
from callcenter.inbound.flows import FlowLoader, FlowRegistry, default_queues
from callcenter.inbound.ivr import IvrOutcome, IvrService
from callcenter.inbound.self_service import IvrSelfService
from callcenter.ports.stores import StoreUnavailable
from callcenter.speech.asr import MeterReading, MeterReadingRecognizer
from callcenter.speech.tts import Audio, PromptRenderer, RenderedPrompt
from tests.support.agi_peer import AgiPeer, encode_environment, environment, parse_agi_args
from tests.unit.ivr.support import MAIN_FLOW_FILE

ANY_KEY = "0123456789*#"
KNOWN = CallerInfo(
    phone="+79161234567", customer_id=7, account="6901000001", locality_id=1, locality_name="Тверь"
)


class QuietEngine:
    """A speech engine that says nothing, for as long as the text would take (fast, exact)."""

    def version(self) -> str:
        return "quiet 1"

    def synthesize(self, text: str, *, voice: str, rate: int) -> Audio:
        return Audio(b"\x00\x00" * 500 * len(text), 8000)  # 1/16 s per character


class SpyRenderer(PromptRenderer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.texts: list[str] = []

    async def render(self, text: str, *, normalise: bool = True) -> RenderedPrompt:
        self.texts.append(text)
        return await super().render(text, normalise=normalise)


class StubSelfService:
    """Canned self-service answers; `broken` methods fail like a database that is down."""

    def __init__(self, *broken: str) -> None:
        self.broken = set(broken)
        self.requests: list[object] = []

    def _called(self, name: str, request: object) -> None:
        self.requests.append(request)
        if name in self.broken:
            raise StoreUnavailable("database down")

    async def identify(self, number: str) -> CallerInfo:
        self._called("identify", number)
        return KNOWN if number == KNOWN.phone else CallerInfo(phone=number)

    async def save_reading(self, call: object, request: SaveReading) -> Result:
        self._called("save_reading", request)
        return Result(ok=True)

    async def balance(self, request: Balance) -> Result:
        self._called("balance", request)
        return Result(ok=True, variant="debt", fields=(("amount", Said("сто рублей")),))


@dataclass
class FakeAsterisk:
    """Answers the platform's AGI commands for one call; `caller` is what the caller does at
    each question: ("key", "1") pressed during the prompt, ("entry", "123") keyed for GET DATA,
    ("silence", "") nothing, ("hangup", "") hangs up."""

    peer: AgiPeer
    caller: deque[tuple[str, str]]
    variables: dict[str, str] = field(default_factory=dict)
    commands: list[list[str]] = field(default_factory=list)
    # Asterisk cannot open the prompt files ("does not exist in any format"): STREAM FILE
    # answers result=-1 with the caller still there
    unplayable: bool = False

    async def run(self) -> None:
        while (line := await self.peer.read_command()) is not None:
            args = parse_agi_args(line)
            self.commands.append(args)
            for reply in self.reply(args):
                await self.peer.send_line(reply)

    def _next(self) -> tuple[str, str]:
        return self.caller.popleft() if self.caller else ("silence", "")

    def reply(self, args: list[str]) -> Sequence[str]:
        verb = " ".join(args[:2]).upper()
        if args[0].upper() == "ANSWER":
            return ["200 result=0"]
        if verb == "GET VARIABLE":
            value = self.variables.get(args[2])
            return ["200 result=0"] if value is None else [f"200 result=1 ({value})"]
        if verb == "SET VARIABLE":
            self.variables[args[2]] = args[3]
            return ["200 result=1"]
        if verb == "STREAM FILE" and self.unplayable:
            return ["200 result=-1 endpos=0"]
        if verb == "CHANNEL STATUS":
            return ["200 result=6"]
        if verb == "STREAM FILE":
            assert Path(f"{args[2]}.wav").is_file(), args
            if args[3] and self.caller and self.caller[0][0] in ("key", "hangup"):
                kind, key = self._next()
                if kind == "hangup":
                    return ["200 result=-1 endpos=0", "HANGUP"]
                return [f"200 result={ord(key)} endpos=800"]
            return ["200 result=0 endpos=8000"]
        if verb == "WAIT FOR":
            kind, key = self._next()
            if kind == "hangup":
                return ["200 result=-1", "HANGUP"]
            return [f"200 result={ord(key) if kind == 'key' else 0}"]
        if verb == "GET DATA":
            kind, digits = self._next()
            if kind == "hangup":
                return ["200 result=-1", "HANGUP"]
            return [f"200 result={digits}" if kind == "entry" else "200 result= (timeout)"]
        if verb == "RECORD FILE":
            with wave.open(f"{args[2]}.wav", "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(8000)
                wav.writeframes(b"\x01\x00" * 16000)
            return ["200 result=0 (timeout) endpos=16000"]
        if args[0].upper() == "HANGUP":
            return ["200 result=1"]
        return ["510 Invalid or unknown command"]

    def sent(self, command: str, *args: str) -> list[list[str]]:
        """The commands sent that start with `command` ("STREAM FILE") and then `args`."""
        words = [*command.split(), *args]
        return [c for c in self.commands if c[: len(words)] == words]


class FakeReader:
    def __init__(self, digits: str | None) -> None:
        self.digits = digits
        self.files: list[Path] = []

    async def read_file(self, path: Path) -> MeterReading:
        assert await asyncio.to_thread(path.is_file)
        self.files.append(path)
        return MeterReading("четыре тысячи триста двадцать один", self.digits)


@dataclass
class Rig:
    server: AgiServer
    renderer: SpyRenderer
    registry: FlowRegistry
    outcomes: list[IvrOutcome]
    tmp: Path

    async def call(
        self,
        caller: Sequence[tuple[str, str]],
        *,
        callerid: str = KNOWN.phone,
        request: str = "agi://127.0.0.1:4573/ivr",
        variables: dict[str, str] | None = None,
        unplayable: bool = False,
    ) -> FakeAsterisk:
        peer = await AgiPeer.connect(self.server.address)
        env = environment(callerid=callerid, request=request)
        asterisk = FakeAsterisk(peer, deque(caller), dict(variables or {}), unplayable=unplayable)
        async with asyncio.timeout(10):
            await peer.send(encode_environment(env))
            await asterisk.run()
        await peer.close()
        return asterisk


@pytest.fixture
async def make_rig(tmp_path: Path) -> AsyncIterator[Any]:
    servers: list[AgiServer] = []

    async def make(
        self_service: StubSelfService | None = None,
        *,
        reader: FakeReader | None = None,
        flows_dir: Path = MAIN_FLOW_FILE.parent,
    ) -> Rig:
        renderer = SpyRenderer(tmp_path / "prompts", voice="ru", rate=150, engine=QuietEngine())
        registry = FlowRegistry(flows_dir, FlowLoader(renderer, known_queues=default_queues()))
        await registry.reload()
        renderer.texts.clear()  # what loading measured; the tests look at what calls said
        outcomes: list[IvrOutcome] = []

        async def collect(outcome: IvrOutcome) -> None:
            outcomes.append(outcome)

        service = IvrService(
            registry,
            renderer,
            cast(IvrSelfService, self_service or StubSelfService()),
            clock=lambda: datetime.now(UTC),
            meter_reader=cast(MeterReadingRecognizer, reader),
            speech_dir=tmp_path / "speech" if reader else None,
            on_outcome=collect,
        )
        server = AgiServer({"ivr": service.handle}, port=0)
        await server.start()
        servers.append(server)
        return Rig(server, renderer, registry, outcomes, tmp_path)

    yield make
    for server in servers:
        await server.stop(grace=1.0)


async def test_a_known_caller_keys_a_reading_over_real_agi_commands(make_rig: Any) -> None:
    stub = StubSelfService()
    rig = await make_rig(stub)
    caller = [("key", "2"), ("key", "1"), ("key", "1"), ("entry", "12345"), ("key", "1")]
    asterisk = await rig.call(caller)

    commands = asterisk.commands
    assert commands[:4] == [
        ["GET", "VARIABLE", "CHANNEL(linkedid)"],
        ["GET", "VARIABLE", "CALL_UUID"],
        ["ANSWER"],
        ["SET", "VARIABLE", "CUSTOMER_ID", "7"],
    ]
    greeting, notice = asterisk.sent("STREAM FILE")[:2]
    # a key interrupts the greeting (here the caller's first key, 2) and answers the main
    # menu; the recording notice is said in full all the same
    assert (greeting[3], notice[3]) == (ANY_KEY, "")
    assert rig.renderer.texts[:2] == [
        "Здравствуйте! Вы позвонили в контакт-центр.",
        "Для улучшения качества обслуживания все разговоры записываются.",
    ]
    assert commands.index(["SET", "VARIABLE", "RECORDING_NOTICE", "2025-01"]) == (
        commands.index(notice) + 1
    )
    menus = [c for c in asterisk.sent("STREAM FILE") if c[3] == ANY_KEY]
    # with barge-in: three menus, the confirmation, then the result and what next
    assert len(menus) == 6
    (get_data,) = asterisk.sent("GET DATA")
    assert get_data[3:] == ["7000", "8"]
    assert stub.requests[1:] == [SaveReading("6901000001", 7, "12345", ReadingSource.KEYPAD)]
    assert asterisk.variables["IVR_PATH"] == "2>1>1"
    assert asterisk.variables["IVR_CLOSED"] == "1"
    assert "IVR_TARGET" not in asterisk.variables
    assert commands[-1] == ["HANGUP"]  # after the goodbye: closed by the IVR
    assert "Спасибо за звонок. До свидания!" in rig.renderer.texts
    (outcome,) = rig.outcomes
    assert (outcome.outcome, outcome.path_text, outcome.target) == (Outcome.CLOSED, "2>1>1", None)
    assert outcome.ivr_seconds >= 0


async def test_a_hand_off_sets_the_variables_the_dialplan_queues_with(make_rig: Any) -> None:
    rig = await make_rig()
    asterisk = await rig.call([("key", "1"), ("key", "2")])  # outages > report an outage
    assert asterisk.sent("SET VARIABLE")[-2:] == [
        ["SET", "VARIABLE", "IVR_PRIORITY", "5"],
        ["SET", "VARIABLE", "IVR_TARGET", "line1"],
    ]
    assert asterisk.variables["CUSTOMER_ID"] == "7"
    assert asterisk.variables["IVR_PATH"] == "1>2"
    assert asterisk.sent("HANGUP") == []  # the dialplan goes on to Queue()
    assert rig.outcomes[0].outcome is Outcome.HANDED_OFF


async def test_prompts_asterisk_cannot_play_are_skipped_and_the_caller_is_served(
    make_rig: Any, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await make_rig()
    # every STREAM FILE answers result=-1 on a live channel; the caller presses 0
    asterisk = await rig.call([("key", "0")], unplayable=True)
    assert asterisk.variables["IVR_TARGET"] == "line1"
    assert asterisk.sent("HANGUP") == []
    assert rig.outcomes[0].outcome is Outcome.HANDED_OFF
    assert rig.outcomes[0].path == ("0",)
    greeting = asterisk.sent("STREAM FILE")[0][2]
    assert any(
        "not played" in r.getMessage() and greeting in r.getMessage() for r in caplog.records
    )


async def test_a_key_during_the_greeting_is_taken_after_the_notice_is_said_in_full(
    make_rig: Any,
) -> None:
    rig = await make_rig()
    asterisk = await rig.call([("key", "0")])  # 0 pressed while the greeting plays
    streamed = asterisk.sent("STREAM FILE")
    assert [c[3] for c in streamed] == [ANY_KEY, "", ""]  # greeting, notice, transfer prompt
    assert (
        rig.renderer.texts[1] == "Для улучшения качества обслуживания все разговоры записываются."
    )
    assert "Соединяю с оператором." in rig.renderer.texts
    commands = asterisk.commands
    assert commands.index(["SET", "VARIABLE", "RECORDING_NOTICE", "2025-01"]) < commands.index(
        ["SET", "VARIABLE", "IVR_TARGET", "line1"]
    )
    assert rig.outcomes[0].path == ("0",)


async def test_self_service_then_operator_is_not_closed_by_the_ivr(make_rig: Any) -> None:
    rig = await make_rig()
    asterisk = await rig.call([("key", "2"), ("key", "2"), ("key", "0")])  # balance, then 0
    assert "Задолженность по лицевому счёту составляет сто рублей." in rig.renderer.texts
    assert [c[3] for c in asterisk.sent("SET VARIABLE", "IVR_CLOSED")] == ["1", "0"]
    assert asterisk.variables["IVR_TARGET"] == "line2"


async def test_a_failed_lookup_apologises_and_hands_off(make_rig: Any) -> None:
    rig = await make_rig(StubSelfService("balance"))
    asterisk = await rig.call([("key", "2"), ("key", "2")])
    assert rig.renderer.texts[-1] == "Извините, сервис временно недоступен. Соединяю с оператором."
    assert asterisk.variables["IVR_TARGET"] == "line2"
    assert "IVR_FAILOVER" not in asterisk.variables


async def test_an_unknown_caller_when_the_database_is_down_is_still_served(
    make_rig: Any,
) -> None:
    rig = await make_rig(StubSelfService("identify"))
    asterisk = await rig.call([("key", "0")])
    assert "CUSTOMER_ID" not in asterisk.variables
    assert asterisk.variables["IVR_TARGET"] == "line1"


async def test_a_hang_up_mid_menu_is_reported(make_rig: Any) -> None:
    rig = await make_rig()
    asterisk = await rig.call([("key", "3"), ("hangup", "")])
    assert asterisk.variables["IVR_PATH"] == "3"
    async with asyncio.timeout(5):
        await rig.server.wait_stats(lambda s: s.hangups == 1 and s.active == 0)
    (outcome,) = rig.outcomes
    assert (outcome.outcome, outcome.path_text, outcome.closed) == (Outcome.HUNG_UP, "3", False)


async def test_the_flow_is_chosen_by_the_request(make_rig: Any, tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(MAIN_FLOW_FILE, flows / "main.yaml")
    night = (flows / "main.yaml").read_text("utf-8").replace("name: main", "name: night")
    night = night.replace("Здравствуйте! Вы позвонили", "Доброй ночи! Вы позвонили")
    (flows / "night.yaml").write_text(night, "utf-8")
    rig = await make_rig(flows_dir=flows)

    await rig.call([("key", "0")], request="agi://127.0.0.1:4573/ivr?flow=night")
    assert rig.renderer.texts[0].startswith("Доброй ночи!")
    rig.renderer.texts.clear()
    await rig.call([("key", "0")], request="agi://127.0.0.1:4573/ivr?flow=nosuch")
    assert rig.renderer.texts[0].startswith("Здравствуйте!")
    assert [o.flow for o in rig.outcomes] == ["night", "main"]


async def test_without_a_flow_the_caller_still_reaches_line1(make_rig: Any, tmp_path: Path) -> None:
    (tmp_path / "none").mkdir()
    rig = await make_rig(flows_dir=tmp_path / "none")
    asterisk = await rig.call([])
    assert (asterisk.variables["IVR_TARGET"], asterisk.variables["IVR_FAILOVER"]) == ("line1", "1")


async def test_a_reading_said_by_voice_is_recognised_and_not_kept(make_rig: Any) -> None:
    stub = StubSelfService()
    reader = FakeReader("4321")
    rig = await make_rig(stub, reader=reader)
    caller = [("key", "2"), ("key", "1"), ("key", "2"), ("key", "1")]
    asterisk = await rig.call(caller)
    (record,) = asterisk.sent("RECORD FILE")
    assert record[3:] == ["wav", "#", "15000", "0", "BEEP", "s=2"]
    assert Path(record[2]).parent == rig.tmp / "speech"
    assert reader.files == [Path(f"{record[2]}.wav")]
    assert not reader.files[0].exists()  # what the caller said is not kept
    assert stub.requests[-1] == SaveReading("6901000001", 7, "4321", ReadingSource.VOICE)
    assert any("Показания четыре тысячи триста двадцать один." in t for t in rig.renderer.texts)


async def test_without_a_recogniser_voice_readings_are_keyed(make_rig: Any) -> None:
    rig = await make_rig()
    asterisk = await rig.call([("key", "2"), ("key", "1"), ("key", "2"), ("entry", "77")])
    assert asterisk.sent("RECORD FILE") == []
    assert len(asterisk.sent("GET DATA")) == 1
    assert "После сигнала назовите" not in " ".join(rig.renderer.texts)


class BuggySelfService(StubSelfService):
    """The second balance lookup hits a bug of ours (not a database failure)."""

    async def balance(self, request: Balance) -> Result:
        if any(isinstance(r, Balance) for r in self.requests):
            raise RuntimeError("a bug")
        return await super().balance(request)


async def test_a_bug_after_self_service_sends_the_caller_on_not_closed(make_rig: Any) -> None:
    rig = await make_rig(BuggySelfService())
    asterisk = await rig.call(
        [("key", "2"), ("key", "2"), ("key", "#"), ("key", "2"), ("key", "2")]
    )
    assert [c[3] for c in asterisk.sent("SET VARIABLE", "IVR_CLOSED")] == ["1", "0"]
    assert (asterisk.variables["IVR_TARGET"], asterisk.variables["IVR_FAILOVER"]) == ("line1", "1")
    assert rig.outcomes == []  # the AGI server reports the failure, not the IVR
