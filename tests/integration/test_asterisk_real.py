"""The rendered asterisk_conf/ on a real Asterisk: it loads cleanly, calls reach the platform.

Needs an `asterisk` binary on PATH (skipped otherwise). Asterisk runs unprivileged from a
temporary directory: `callcenter asterisk render --runtime-dir` puts its spool, logs, database
and control socket there, and every port (AMI, SIP, FastAGI) is a free one on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callcenter.asterisk.agi import AgiChannel, AgiEnvironment, AgiServer
from callcenter.asterisk.conf_render import AsteriskConfValues, render_conf
from tests.support.real_asterisk import loopback_conf_values

ASTERISK = shutil.which("asterisk")
pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.slow,
    pytest.mark.skipif(ASTERISK is None, reason="needs an asterisk binary on PATH"),
]

BOOT_TIMEOUT = 60.0
CALL_TIMEOUT = 30.0
CALLER = '"Ivanov Ivan" <+79161234567>'


Frame = dict[str, str]


@dataclass
class Ami:
    """Just enough AMI for these tests: log in, run actions, wait for events."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: list[Frame] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    @classmethod
    async def login(cls, port: int, username: str, secret: str) -> Ami:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        ami = cls(reader, writer)
        banner = await reader.readline()
        assert banner.startswith(b"Asterisk Call Manager/"), banner
        reply = await ami.action("Login", Username=username, Secret=secret)
        if reply.get("Response") != "Success":
            raise ConnectionRefusedError(f"AMI login refused: {reply}")
        return ami

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def _frame(self) -> Frame:
        frame: Frame = {}
        while True:
            line = await self.reader.readline()
            if not line:
                raise ConnectionError("AMI connection closed")
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if not text:
                if frame:
                    return frame
                continue
            key, _, value = text.partition(":")
            frame.setdefault(key.strip(), value.strip())

    async def action(self, name: str, **fields: str) -> Frame:
        action_id = f"t{next(self._ids)}"
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in fields.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        while True:
            frame = await self._frame()
            if "Response" in frame and frame.get("ActionID") == action_id:
                return frame
            self.events.append(frame)

    async def event(self, match: Callable[[Frame], bool], limit: float = CALL_TIMEOUT) -> Frame:
        """The first event (already seen or still to come) for which `match` is true."""
        for frame in self.events:
            if match(frame):
                return frame
        async with asyncio.timeout(limit):
            while True:
                frame = await self._frame()
                self.events.append(frame)
                if match(frame):
                    return frame

    async def list_events(self, name: str, **fields: str) -> list[Frame]:
        """An action answered by a list of events ending with `<Name>Complete`."""
        reply = await self.action(name, **fields)
        assert reply.get("Response") == "Success", reply
        action_id = reply["ActionID"]
        items: list[Frame] = []
        async with asyncio.timeout(CALL_TIMEOUT):
            while True:
                frame = await self._frame()
                if frame.get("ActionID") != action_id:
                    self.events.append(frame)
                elif frame.get("Event", "").endswith("Complete"):
                    return items
                else:
                    items.append(frame)


@dataclass
class RunningAsterisk:
    values: AsteriskConfValues
    conf_dir: Path
    log_dir: Path
    process: subprocess.Popen[bytes]

    async def ami(self, *, reader: bool = False) -> Ami:
        if reader:
            user, secret = self.values.ami_events_username, self.values.ami_events_secret
        else:
            user, secret = self.values.ami_username, self.values.ami_secret
        return await Ami.login(self.values.ami_port, user, secret)

    def error_lines(self) -> list[str]:
        text = (self.log_dir / "messages.log").read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if re.search(r"\bERROR\[", line)]


async def _wait_fully_booted(values: AsteriskConfValues, process: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(BOOT_TIMEOUT):
        while True:
            if process.poll() is not None:
                raise AssertionError(f"asterisk exited during start-up ({process.returncode})")
            try:
                ami = await Ami.login(values.ami_port, values.ami_username, values.ami_secret)
            except OSError:
                await asyncio.sleep(0.2)  # polling a port that is not open yet
                continue
            try:
                await ami.event(lambda f: f.get("Event") == "FullyBooted", limit=BOOT_TIMEOUT)
            finally:
                await ami.close()
            return


@pytest.fixture(scope="module")
def asterisk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAsterisk]:
    assert ASTERISK is not None
    root = tmp_path_factory.mktemp("asterisk")
    values = loopback_conf_values(root)
    conf_dir = root / "etc"
    render_conf(values, conf_dir)
    with (root / "stdout.log").open("wb") as console:
        process = subprocess.Popen(
            [ASTERISK, "-C", str(conf_dir / "asterisk.conf"), "-f", "-n"],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    try:
        asyncio.run(_wait_fully_booted(values, process))
        yield RunningAsterisk(values, conf_dir, root / "state" / "log", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def test_asterisk_loads_the_rendered_configuration_without_errors(
    asterisk: RunningAsterisk,
) -> None:
    assert asterisk.error_lines() == []
    ami = await asterisk.ami()
    try:
        queues = await ami.list_events("QueueStatus")
        names = {f["Queue"] for f in queues if f.get("Event") == "QueueParams"}
        assert {"line1", "line2", "line3", "branch-overflow"} <= names
        pong = await ami.action("Ping")
        assert pong.get("Response") == "Success"
    finally:
        await ami.close()


async def test_the_platform_adds_operators_and_the_event_reader_cannot_act(
    asterisk: RunningAsterisk,
) -> None:
    actor = await asterisk.ami()
    reader = await asterisk.ami(reader=True)
    try:
        member = {"Queue": "line1", "Interface": "Local/101@agents/n"}
        added = await actor.action("QueueAdd", MemberName="Operator 101", **member)
        assert added.get("Response") == "Success", added
        refused = await reader.action("QueuePause", Paused="true", **member)
        assert refused.get("Response") == "Error"
        assert "permission" in refused.get("Message", "").lower()
        removed = await actor.action("QueueRemove", **member)
        assert removed.get("Response") == "Success", removed
    finally:
        await actor.close()
        await reader.close()


async def test_an_8800_call_reaches_the_platforms_fastagi_ivr_and_is_recorded(
    asterisk: RunningAsterisk,
) -> None:
    seen: asyncio.Queue[tuple[AgiEnvironment, str | None, str | None]] = asyncio.Queue()

    async def ivr(channel: AgiChannel) -> None:
        call_uuid = await channel.get_variable("CALL_UUID")
        recording = await channel.get_variable("MIXMONITOR_FILENAME")
        await channel.exec("Wait", "1", extra_timeout=5)  # a second of (silent) call to record
        await seen.put((channel.env, call_uuid, recording))
        await channel.set_variable("IVR_CLOSED", "1")  # self-service done: the call ends

    values = asterisk.values
    async with AgiServer({"ivr": ivr}, host=values.agi_host, port=values.agi_port):
        ami = await asterisk.ami()
        try:
            queued = await ami.action(
                "Originate",
                Channel=f"Local/{values.inbound_number}@from-trunk",
                Application="Wait",
                Data="20",
                CallerID=CALLER,
                Async="true",
            )
            assert queued.get("Response") == "Success", queued
            async with asyncio.timeout(CALL_TIMEOUT):
                env, call_uuid, recording = await seen.get()
        finally:
            await ami.close()

    assert (env.script, env.context) == ("ivr", "inbound-ivr")
    assert env.callerid == "+79161234567"
    assert env.language == "ru"
    assert call_uuid is not None
    assert str(uuid.UUID(call_uuid)) == call_uuid
    pattern = rf"{re.escape(str(values.recordings_dir))}/\d{{4}}/\d{{2}}/\d{{2}}/{call_uuid}\.wav"
    assert recording is not None
    assert re.fullmatch(pattern, recording), recording
    await _exists(Path(recording))  # MixMonitor opens the file with the first audio frame


async def _exists(path: Path) -> None:
    for _ in range(100):  # up to 10 s: the file system offers no event to wait on
        if await asyncio.to_thread(path.exists):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} was not created")


async def test_when_the_platform_is_down_the_caller_still_goes_to_line1(
    asterisk: RunningAsterisk,
) -> None:
    values = asterisk.values  # nothing listens on the FastAGI port during this test
    ami = await asterisk.ami()
    try:
        queued = await ami.action(
            "Originate",
            Channel=f"Local/{values.inbound_number}@from-trunk",
            Application="Wait",
            Data="10",
            CallerID=CALLER,
            Async="true",
        )
        assert queued.get("Response") == "Success", queued

        def var(name: str, value: str) -> Callable[[Frame], bool]:
            return lambda f: (
                f.get("Event") == "VarSet" and f.get("Variable") == name and f.get("Value") == value
            )

        await ami.event(var("AGISTATUS", "FAILURE"))
        await ami.event(var("IVR_FAILOVER", "1"))

        def step(app_data: str) -> Callable[[Frame], bool]:
            return lambda f: f.get("Event") == "Newexten" and f.get("AppData") == app_data

        # no operator is logged in: line 1 is "empty", the caller overflows to the branches
        await ami.event(step("queue line1: QUEUESTATUS=JOINEMPTY"))
        await ami.event(step("queue branch-overflow: QUEUESTATUS=JOINEMPTY"))
    finally:
        await ami.close()
    assert asterisk.error_lines() == []
