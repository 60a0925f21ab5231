"""The simulator's FastAGI client against a test FastAGI server: environment, replies,
timing semantics, hangup handling, recordings, and the fallback when FastAGI is down."""

from __future__ import annotations

import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.clock import VirtualClock
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallOutcome, Simulator
from tests.adapters.sim.fastagi import AgiSessionPeer, FastAgiServer
from tests.support.eventually import free_running

ENV_ORDER = [
    "agi_network",
    "agi_network_script",
    "agi_request",
    "agi_channel",
    "agi_language",
    "agi_type",
    "agi_uniqueid",
    "agi_version",
    "agi_callerid",
    "agi_calleridname",
    "agi_callingpres",
    "agi_callingani2",
    "agi_callington",
    "agi_callingtns",
    "agi_dnid",
    "agi_rdnis",
    "agi_context",
    "agi_extension",
    "agi_priority",
    "agi_enhanced",
    "agi_accountcode",
    "agi_threadid",
]


async def run_call(
    tmp_path: Path,
    script: Callable[[AgiSessionPeer], Awaitable[None]],
    caller: CallerScript,
    *,
    operators: bool = True,
) -> tuple[FastAgiServer, Simulator, CallOutcome]:
    async with (
        FastAgiServer(script) as agi,
        Simulator(
            agi_port=agi.port, recordings_dir=tmp_path, clock=(clock := VirtualClock())
        ) as sim,
        free_running(clock),
    ):
        if operators:
            sim.add_operator(Operator("101", answer_after=1, talk_time=3), queues=["line1"])
        handle = await sim.place_inbound_call(caller)
        result = await handle
        return agi, sim, result.outcome


async def test_the_environment_is_shaped_like_asterisks(tmp_path: Path) -> None:
    async def script(peer: AgiSessionPeer) -> None:
        await peer.command("ANSWER")

    caller = CallerScript(number="+79161234567", name="Ivanov Ivan", hangup_after=1)
    agi, _, _ = await run_call(tmp_path, script, caller)
    env = agi.sessions[0].env
    assert agi.sessions[0].env_order == ENV_ORDER
    assert env["agi_request"] == f"agi://127.0.0.1:{agi.port}/ivr"
    assert env["agi_network_script"] == "ivr"
    assert env["agi_channel"].startswith("Local/caller@callers-")
    assert env["agi_channel"].endswith(";1")
    assert (env["agi_callerid"], env["agi_calleridname"]) == ("+79161234567", "Ivanov Ivan")
    assert (env["agi_context"], env["agi_extension"], env["agi_priority"]) == (
        "ivr",
        "88001000000",
        "5",
    )
    assert env["agi_uniqueid"].count(".") == 1


async def test_keys_interrupt_prompts_and_get_data_follows_its_timeouts(tmp_path: Path) -> None:
    replies: list[str] = []

    async def script(peer: AgiSessionPeer) -> None:
        replies.append(await peer.command('STREAM FILE hello-world "0123456789*#"'))
        replies.append(await peer.command("GET DATA beep 3000 4"))
        replies.append(await peer.command("WAIT FOR DIGIT 2000"))
        replies.append(await peer.command("GET DATA beep 1000 2"))
        replies.append(await peer.command('SAY NUMBER 42 ""'))
        replies.append(await peer.command("CHANNEL STATUS"))
        replies.append(await peer.command("BOGUS COMMAND"))

    # key 5 during hello-world (1.42 s), then 12# for GET DATA, 7 for WAIT FOR DIGIT, nothing after
    caller = CallerScript(
        keys=[KeyPress(0.5, "5"), KeyPress(0.3, "12#"), KeyPress(0.2, "7")], hangup_after=30
    )
    await run_call(tmp_path, script, caller, operators=False)
    stream, data, digit, timeout, say, status, bogus = replies
    assert stream.startswith("200 result=53 endpos=")  # '5' interrupted the prompt
    assert 0 < int(stream.split("endpos=")[1]) < 11360
    assert data == "200 result=12"  # '#' ends the input
    assert digit == "200 result=55"  # ASCII '7'
    assert timeout == "200 result= (timeout)"
    assert say == "200 result=0"
    assert status == "200 result=6"
    assert bogus == "510 Invalid or unknown command"


async def test_hangup_during_get_data_then_a_lone_hangup_line_then_511(tmp_path: Path) -> None:
    replies: list[str] = []

    async def script(peer: AgiSessionPeer) -> None:
        replies.append(await peer.command("GET DATA beep 4000 1"))
        replies.append(await peer.command('SAY DIGITS 123 ""'))
        replies.append(await peer.command("SET VARIABLE IVR_TARGET line1"))
        replies.append(await peer.command("GET VARIABLE IVR_TARGET"))
        replies.append(await peer.command("HANGUP"))
        replies.append(await peer.command('VERBOSE "x" 1'))

    agi, sim, outcome = await run_call(
        tmp_path, script, CallerScript(hangup_after=1.0), operators=False
    )
    assert replies == [
        "200 result=-1",
        "511 Command Not Permitted on a dead channel or intercept routine",
        "200 result=1",
        "200 result=1 (line1)",
        "511 Command Not Permitted on a dead channel or intercept routine",
        "200 result=1",
    ]
    assert agi.sessions[0].received.count("HANGUP") == 1  # once, before the next reply
    assert outcome is CallOutcome.HUNG_UP_IN_IVR
    assert sim.pbx.channels == {}


async def test_a_file_asterisk_cannot_open_answers_minus_one_on_a_live_channel(
    tmp_path: Path,
) -> None:
    # as real Asterisk: a relative name is looked up under the sounds folder, an absolute one
    # must exist; the caller is still there afterwards (no HANGUP line, commands work)
    replies: list[str] = []

    async def script(peer: AgiSessionPeer) -> None:
        replies.append(await peer.command('STREAM FILE var/prompts/abc ""'))
        replies.append(await peer.command(f'STREAM FILE {tmp_path}/missing "0"'))
        replies.append(await peer.command("GET DATA /nowhere/prompt 1000 1"))
        replies.append(await peer.command("CHANNEL STATUS"))
        await peer.command("SET VARIABLE IVR_TARGET line1")

    # the caller stays on the line far longer than the script takes (100 simulated s)
    agi, _sim, _outcome = await run_call(
        tmp_path, script, CallerScript(hangup_after=100.0), operators=False
    )
    assert replies == [
        "200 result=-1 endpos=0",
        "200 result=-1 endpos=0",
        "200 result=-1",
        "200 result=6",  # up: a dead channel would answer 511
    ]
    assert "HANGUP" not in agi.sessions[0].received


async def test_record_file_writes_the_callers_speech_as_a_wav(tmp_path: Path) -> None:
    replies: list[str] = []

    async def script(peer: AgiSessionPeer) -> None:
        replies.append(
            await peer.command(
                'RECORD FILE /var/spool/asterisk/monitor/reading wav "#" 10000 0 s=2'
            )
        )
        replies.append(await peer.command('RECORD FILE relative/silent wav "#" 1500 0 s=1'))

    caller = CallerScript(speech=[2.5], hangup_after=20)
    await run_call(tmp_path, script, caller, operators=False)
    spoken, silent = replies
    # 2.5 s of speech, then silence; the recording keeps 1 s of it (Asterisk rewinds s-1)
    assert spoken.endswith("(timeout) endpos=28000")
    assert silent == "200 result=1 (timeout) endpos=0"  # nothing said: runs to the limit
    reading = tmp_path / "spool" / "monitor" / "reading.wav"
    with wave.open(str(reading)) as wav:
        assert (wav.getframerate(), wav.getnframes()) == (8000, 28000)
    assert (tmp_path / "spool" / "sounds" / "relative" / "silent.wav").stat().st_size == 44


async def test_ivr_target_and_priority_route_the_call_and_call_uuid_names_the_recording(
    tmp_path: Path,
) -> None:
    async def script(peer: AgiSessionPeer) -> None:
        await peer.command("SET VARIABLE CALL_UUID 0b7e8a52-5c1f-4b2e-9d2a-0a1b2c3d4e5f")
        await peer.command("SET VARIABLE IVR_PRIORITY 5")
        await peer.command("SET VARIABLE IVR_TARGET line1")

    _, sim, outcome = await run_call(tmp_path, script, CallerScript(talk_time=2))
    assert outcome is CallOutcome.ANSWERED
    [recording] = sim.recordings
    assert recording.name == "0b7e8a52-5c1f-4b2e-9d2a-0a1b2c3d4e5f.wav"
    assert recording.stat().st_size > 44  # bridged with the operator: audio recorded
    assert sim.pbx.queues.get("line1").completed == 1  # type: ignore[union-attr]


async def test_an_ivr_that_sets_no_target_closes_the_call(tmp_path: Path) -> None:
    async def script(peer: AgiSessionPeer) -> None:
        await peer.command('STREAM FILE hello-world ""')

    _, sim, outcome = await run_call(tmp_path, script, CallerScript())
    assert outcome is CallOutcome.CLOSED_BY_IVR
    [recording] = sim.recordings
    assert recording.stat().st_size == 44  # never bridged: header only


async def test_when_fastagi_is_down_callers_still_reach_line1(tmp_path: Path) -> None:
    async with FastAgiServer(lambda peer: _noop()) as agi:
        port = agi.port
    # nothing listens on `port` any more
    async with (
        Simulator(agi_port=port, recordings_dir=tmp_path, clock=(clock := VirtualClock())) as sim,
        free_running(clock),
    ):
        sim.add_operator(Operator("101", answer_after=1, talk_time=2), queues=["line1"])
        handle = await sim.place_inbound_call(CallerScript())
        result = await handle
        assert handle.channel.variables["AGISTATUS"] == "FAILURE"
    assert (result.outcome, result.queue) == (CallOutcome.ANSWERED, "line1")


async def _noop() -> None:
    return None
