"""Fault suite, FastAGI (SPEC §8): malformed or hostile peers never stop the IVR for real
callers; a caller whose IVR fails still reaches an operator."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from callcenter import logsafe
from callcenter.asterisk.agi import AgiChannel, AgiHangupError
from callcenter.sim.callers import CallerScript
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallOutcome, Simulator
from tests.support.agi_peer import AgiPeer, encode_environment, environment, running_server


async def _normal_call_still_works(address: tuple[str, int]) -> None:
    async with await AgiPeer.connect(address) as normal:
        await normal.send_environment()
        async with asyncio.timeout(5):
            assert await normal.answer(["200 result=0"]) == ["ANSWER"]


@pytest.mark.parametrize("fault", ["eof", "1mb-environment", "slow-loris"])
async def test_malformed_fastagi_peers_are_dropped_and_real_calls_go_on(fault: str) -> None:
    answered: list[str] = []

    async def ivr(channel: AgiChannel) -> None:
        await channel.answer()
        answered.append(channel.env.uniqueid)

    async with running_server({"ivr": ivr}, environment_timeout=0.5) as server:
        async with await AgiPeer.connect(server.address) as bad:
            if fault == "eof":
                await bad.send(b"agi_network: yes\nagi_request: agi://127.0.0.1/ivr\n")
                await bad.send_eof()
            elif fault == "1mb-environment":
                sending = asyncio.create_task(bad.send_large_environment(1 << 20, 100))
            else:  # one byte now and then, never the blank line
                sending = asyncio.create_task(bad.dribble(b"agi_network: yes\n" * 20, 0.1))
            await _normal_call_still_works(server.address)
            async with asyncio.timeout(5):
                if fault == "slow-loris":
                    await sending  # returns once the server closed the connection
                    assert bad.eof.is_set()
                else:
                    assert await bad.read_until_eof() == []  # the server hung up on it
            if fault == "1mb-environment":
                sending.cancel()
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert len(answered) == 1
    assert stats.errors + stats.timeouts == 1


async def test_hang_up_mid_agi_ends_the_session_quietly() -> None:
    outcome: list[BaseException] = []

    async def ivr(channel: AgiChannel) -> None:
        try:
            await channel.answer()
            await channel.stream_file("welcome")
        except AgiHangupError as exc:
            outcome.append(exc)
            raise

    async with running_server({"ivr": ivr}) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment()
            async with asyncio.timeout(5):
                await peer.answer(["200 result=0"])
                assert (await peer.read_command() or "").startswith("STREAM FILE")
                await peer.send_line("HANGUP")
                await peer.send_line("200 result=-1")
                await peer.read_until_eof()
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert len(outcome) == 1
    assert (stats.hangups, stats.errors, stats.failovers) == (1, 0, 0)


async def test_fastagi_down_the_dialplan_sends_callers_to_line1(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Simulator(agi_port=port, recordings_dir=tmp_path, time_scale=0.02) as sim:
        sim.add_operator(Operator("101", answer_after=1, talk_time=2), queues=["line1"])
        handle = await sim.place_inbound_call(CallerScript())
        result = await handle
        assert handle.channel.variables["AGISTATUS"] == "FAILURE"
    assert (result.outcome, result.queue) == (CallOutcome.ANSWERED, "line1")


async def test_idle_and_hostile_agi_peers_give_a_few_escaped_log_lines(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logsafe.install()
    caplog.set_level(logging.INFO, logger="callcenter.asterisk.agi")
    async with running_server({}, environment_timeout=0.2, failover_timeout=0.5) as server:
        peers = [await AgiPeer.connect(server.address) for _ in range(60)]
        async with asyncio.timeout(10):
            await server.wait_stats(lambda s: s.timeouts >= 60 and s.active == 0)
        for peer in peers:
            await peer.close()
        async with await AgiPeer.connect(server.address) as hostile:
            raw = encode_environment(environment(script="SCRIPT"))
            await hostile.send(raw.replace(b"/SCRIPT", b"/x\rFORGED\x00\xff"))
            async with asyncio.timeout(5):
                await hostile.read_until_eof()
    idle_lines = [r for r in caplog.records if "no complete environment" in r.getMessage()]
    assert 1 <= len(idle_lines) <= 5
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "FORGED" in text  # the script name is logged...
    assert "\rFORGED" not in text
    assert "\x00" not in text
    assert "fail-over failed: \n" not in text + "\n"
