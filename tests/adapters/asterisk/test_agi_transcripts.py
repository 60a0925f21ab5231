"""Replay the real Asterisk AGI transcripts against the FastAGI server.

The capture's FastAGI server issued a fixed probe list; here a handler issues the same
commands through the typed AgiChannel API, a fake Asterisk answers with the transcript's
replies, and we check the exact bytes sent and the parsed results.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from callcenter.asterisk.agi import (
    AgiChannel,
    AgiCommandError,
    AgiEnvironment,
    AgiHangupError,
    RecordOutcome,
    RecordResult,
)
from callcenter.pbx import channel_vars
from tests.support.agi_peer import AgiPeer, running_server
from tests.support.transcripts import TO_ASTERISK, read_lines


class Probe:
    """A handler that records each result by name, and the exception that ended it."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.env: AgiEnvironment | None = None
        self.ended_by: BaseException | None = None
        self.done = asyncio.Event()

    async def ivr(self, channel: AgiChannel) -> None:
        self.env = channel.env
        r = self.results
        try:
            await channel.answer()
            r["callerid"] = await channel.get_variable("CALLERID(num)")
            r["name"] = await channel.get_full_variable("${CALLERID(name)}")
            r["stream"] = await channel.stream_file("hello-world", "0123456789*#")
            r["get_data"] = await channel.get_data("beep", 4000, 1)
            r["wait"] = await channel.wait_for_digit(4000)
            r["say_digits"] = await channel.say_digits("123")
            r["say_number"] = await channel.say_number(42)
            r["status"] = await channel.channel_status()
            await channel.set_variable(channel_vars.IVR_TARGET, "line1")
            r["nosuchvar"] = await channel.get_variable("NOSUCHVAR")
            r["exec"] = await channel.exec("Playback", "silence/1")
            r["record"] = await channel.record_file(
                "/var/spool/asterisk/monitor/probe-rec", "wav", "#", 2000, silence_s=1
            )
            await channel.verbose("probe done", 1)
            try:
                await channel.command("BOGUS COMMAND")
            except AgiCommandError as exc:
                r["bogus"] = (exc.code, exc.text)
        except BaseException as exc:
            self.ended_by = exc
            raise
        finally:
            self.done.set()

    async def dialer(self, channel: AgiChannel) -> None:
        self.env = channel.env
        try:
            self.results["amd"] = await channel.get_variable("AMDSTATUS")
            self.results["cause"] = await channel.get_variable("AMDCAUSE")
            self.results["stream"] = await channel.stream_file("hello-world")
            await channel.hangup()
            self.results["hung_up"] = channel.hung_up
        finally:
            self.done.set()


def server_commands(path: Path) -> list[bytes]:
    return [line.data for line in read_lines(path) if line.direction == TO_ASTERISK]


async def replay(path: Path, probe: Probe) -> tuple[list[bytes], Any]:
    async with running_server({"ivr": probe.ivr, "dialer": probe.dialer}) as server:
        async with await AgiPeer.connect(server.address) as peer:
            sent = await peer.replay(read_lines(path))
        async with asyncio.timeout(5):
            await probe.done.wait()
            stats = await server.wait_stats(lambda s: s.active == 0)
    return sent, stats


async def test_s1_ivr_session(transcripts_dir: Path) -> None:
    path = transcripts_dir / "agi-s1-ivr-session.log"
    probe = Probe()
    sent, stats = await replay(path, probe)

    assert sent == server_commands(path)
    env = probe.env
    assert env is not None
    assert (env.script, env.request) == ("ivr", "agi://127.0.0.1:4573/ivr")
    assert env.channel == "Local/script1@callers-00000000;1"
    assert env.uniqueid == "1795432716.0"
    assert (env.callerid, env.calleridname) == ("+79161234567", "Ivanov Ivan")
    assert (env.context, env.extension, env.args) == ("ivr", "88001000000", ())
    assert probe.results == {
        "callerid": "+79161234567",
        "name": "Ivanov Ivan",
        "stream": (None, 11360),
        "get_data": "1",  # the caller pressed 1
        "wait": "2",  # result=50 is ASCII "2"
        "say_digits": None,
        "say_number": None,
        "status": 6,
        "nosuchvar": None,
        "exec": 0,
        "record": RecordResult(RecordOutcome.TIMEOUT, 0),
        "bogus": (510, "Invalid or unknown command"),
    }
    assert probe.ended_by is None
    assert (stats.sessions, stats.hangups, stats.errors, stats.failovers) == (1, 0, 0, 0)


async def test_s3_hangup_during_get_data(transcripts_dir: Path) -> None:
    path = transcripts_dir / "agi-s3-hangup-during-get-data.log"
    probe = Probe()
    sent, stats = await replay(path, probe)

    # GET DATA answered result=-1: a hang-up or a prompt Asterisk could not play. One more
    # command tells them apart: here Asterisk answers it with HANGUP and 511 (as it answered
    # the capture's WAIT FOR DIGIT), so the session ends and nothing else is sent.
    expected = server_commands(path)
    get_data = expected.index(b"GET DATA beep 4000 1\n")
    assert sent == [*expected[: get_data + 1], b"CHANNEL STATUS\n"]
    assert isinstance(probe.ended_by, AgiHangupError)
    assert probe.results == {
        "callerid": "84951234567",
        "name": "Sidorov",
        "stream": (None, 11360),
    }
    assert (stats.hangups, stats.errors, stats.failovers) == (1, 0, 0)


async def test_s6_dialer_human(transcripts_dir: Path) -> None:
    path = transcripts_dir / "agi-s6-dialer-human.log"
    probe = Probe()
    sent, stats = await replay(path, probe)

    assert sent == server_commands(path)
    assert probe.env is not None
    assert (probe.env.script, probe.env.context, probe.env.extension) == ("dialer", "dialer", "amd")
    assert probe.results == {
        "amd": "HUMAN",
        "cause": "HUMAN-800-800",
        "stream": (None, 11360),
        "hung_up": True,
    }
    assert (stats.hangups, stats.errors, stats.failovers) == (0, 0, 0)


async def test_s9_caller_without_dtmf(transcripts_dir: Path) -> None:
    path = transcripts_dir / "agi-s9-no-dtmf-caller.log"
    probe = Probe()
    sent, stats = await replay(path, probe)

    assert sent == server_commands(path)
    assert probe.results["get_data"] is None  # `200 result= (timeout)`
    assert probe.results["wait"] is None  # `200 result=0`
    assert probe.results["record"] == RecordResult(RecordOutcome.TIMEOUT, 0)
    assert probe.results["bogus"] == (510, "Invalid or unknown command")
    assert probe.env is not None
    assert probe.env.callerid == "+74950000000"
    assert (stats.hangups, stats.errors) == (0, 0)
