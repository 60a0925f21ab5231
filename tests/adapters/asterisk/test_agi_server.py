"""FastAGI server behaviour: allowed networks, routing, fail-over, sanitising, shutdown."""

from __future__ import annotations

import asyncio

import pytest

from callcenter.asterisk.agi import (
    AgiChannel,
    AgiEnvironment,
    AgiServer,
    RecordOutcome,
    RecordResult,
)
from callcenter.pbx import channel_vars
from tests.support.agi_peer import AgiPeer, connected, environment, parse_agi_args, running_server

FAILOVER = ["SET VARIABLE IVR_TARGET line1", "SET VARIABLE IVR_FAILOVER 1"]


async def test_connection_from_a_disallowed_network_is_closed_at_once() -> None:
    called = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        called.set()

    async with running_server({"ivr": handler}, allowed_networks=["10.0.0.0/8"]) as server:
        async with await AgiPeer.connect(server.address) as peer:
            async with asyncio.timeout(2):
                # closed without the server waiting for (or reading) an environment
                assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.rejected == 1)
    assert not called.is_set()
    assert (stats.sessions, stats.active) == (0, 0)


async def test_allowed_networks_accept_ipv4_and_reject_the_rest() -> None:
    server = AgiServer({}, allowed_networks=["127.0.0.0/8", "192.168.10.0/24", "::1/128"])
    assert server._allowed("127.0.0.1")
    assert server._allowed("192.168.10.77")
    assert server._allowed("::ffff:192.168.10.77")  # IPv4 seen through a dual-stack socket
    assert server._allowed("::1")
    assert not server._allowed("192.168.11.1")
    assert not server._allowed("10.0.0.1")
    assert not server._allowed("")


def test_a_malformed_network_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        AgiServer({}, allowed_networks=["10.0.0.0/33"])


async def test_routing_by_script_name_with_query_and_arguments() -> None:
    seen: dict[str, AgiEnvironment] = {}

    async def ivr(channel: AgiChannel) -> None:
        seen["ivr"] = channel.env

    async def dialer(channel: AgiChannel) -> None:
        seen["dialer"] = channel.env

    env = environment(
        "dialer",
        agi_request="agi://127.0.0.1:4573/dialer?campaign=7&mode=predictive",
        agi_arg_2="second",
        agi_arg_1="first",
        agi_arg_10="tenth",
    )
    async with connected({"ivr": ivr, "dialer": dialer}) as (_server, peer):
        await peer.send_environment(env)
        assert await peer.read_until_eof() == []
    assert list(seen) == ["dialer"]
    assert seen["dialer"].script == "dialer"
    assert dict(seen["dialer"].query) == {"campaign": "7", "mode": "predictive"}
    assert seen["dialer"].args == ("first", "second", "tenth")


async def test_handler_exception_sends_the_caller_to_the_failover_queue() -> None:
    async def broken(channel: AgiChannel) -> None:
        await channel.answer()
        raise RuntimeError("database is down")

    async with running_server({"ivr": broken}, failover_queue="emergency") as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment()
            got = await peer.answer(["200 result=0", "200 result=1", "200 result=1"])
            assert got == [
                "ANSWER",
                f"SET VARIABLE {channel_vars.IVR_TARGET} emergency",
                f"SET VARIABLE {channel_vars.IVR_FAILOVER} 1",
            ]
            assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert (stats.errors, stats.failovers, stats.hangups) == (1, 1, 0)


async def test_unknown_script_fails_over() -> None:
    async def ivr(channel: AgiChannel) -> None:
        raise AssertionError("must not run")

    async with running_server({"ivr": ivr}) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment(environment("nosuch"))
            assert await peer.answer(["200 result=1", "200 result=1"]) == FAILOVER
            assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert (stats.errors, stats.failovers) == (1, 1)


HOSTILE = [
    'Ivanov "Ivan"',
    "a\\b",
    "x\r\nHANGUP\nEXEC System rm",
    "with\x00nul and\ttab",
    "",
    "Иванов Иван",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_written_values_are_sanitised_and_reach_asterisk_intact(value: str) -> None:
    async def handler(channel: AgiChannel) -> None:
        await channel.set_variable("CALLER_NOTE", value)
        await channel.verbose(value)

    async with connected({"ivr": handler}) as (_server, peer):
        await peer.send_environment()
        got = await peer.answer(["200 result=1", "200 result=1"])
        assert await peer.read_until_eof() == []
    # exactly two lines arrived, and Asterisk's own argument parser recovers each value
    # with control characters turned into spaces
    expected = "".join(" " if ord(ch) < 0x20 else ch for ch in value)
    assert [parse_agi_args(line) for line in got] == [
        ["SET", "VARIABLE", "CALLER_NOTE", expected],
        ["VERBOSE", expected, "1"],
    ]


async def test_invalid_names_are_refused_before_anything_is_sent() -> None:
    errors: list[Exception] = []

    async def handler(channel: AgiChannel) -> None:
        for bad in ("IVR TARGET", "${X}", "A\nB"):
            try:
                await channel.set_variable(bad, "1")
            except ValueError as exc:
                errors.append(exc)
        try:
            await channel.exec("System;rm", "x")
        except ValueError as exc:
            errors.append(exc)

    async with connected({"ivr": handler}) as (_server, peer):
        await peer.send_environment()
        assert await peer.read_until_eof() == []
    assert len(errors) == 4


async def test_stop_lets_a_running_session_finish() -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        started.set()
        await release.wait()
        await channel.verbose("finished")

    async with running_server({"ivr": handler}) as server:
        address = server.address
        async with await AgiPeer.connect(address) as peer:
            await peer.send_environment()
            async with asyncio.timeout(5):
                await started.wait()
            server.close()
            with pytest.raises(ConnectionRefusedError):  # no longer listening
                await AgiPeer.connect(address)
            stopping = asyncio.create_task(server.stop(grace=5))
            done, _ = await asyncio.wait([stopping], timeout=0.2)
            assert not done  # still waiting for the running call
            release.set()
            assert await peer.answer(["200 result=1"]) == ['VERBOSE "finished" 1']
            async with asyncio.timeout(5):
                await stopping
            assert server.stats.active == 0


async def test_stop_after_grace_fails_the_remaining_callers_over() -> None:
    started = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        started.set()
        await asyncio.Event().wait()

    async with connected({"ivr": handler}) as (server, peer):
        await peer.send_environment()
        async with asyncio.timeout(5):
            await started.wait()
        stopping = asyncio.create_task(server.stop(grace=0.1))
        assert await peer.answer(["200 result=1", "200 result=1"]) == FAILOVER
        assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            await stopping
    assert server.stats.failovers == 1


async def test_record_file_reports_key_and_hangup_outcomes() -> None:
    results: list[RecordResult] = []
    after_hangup: list[bool] = []

    async def handler(channel: AgiChannel) -> None:
        results.append(await channel.record_file("/tmp/msg-1", "wav", "#", 60000, beep=True))
        results.append(await channel.record_file("/tmp/msg-2", silence_s=3))
        after_hangup.append(channel.hung_up)
        await channel.hangup()  # nothing is sent: the caller is already gone

    async with connected({"ivr": handler}) as (_server, peer):
        await peer.send_environment()
        got = await peer.answer(
            ["200 result=35 (dtmf) endpos=16000", "200 result=-1 (hangup) endpos=8000"]
        )
        assert got == [
            'RECORD FILE /tmp/msg-1 wav "#" 60000 0 BEEP',
            'RECORD FILE /tmp/msg-2 wav "#" 120000 0 s=3',
        ]
        assert await peer.read_until_eof() == []
    assert results == [
        RecordResult(RecordOutcome.DTMF, 16000, "#"),
        RecordResult(RecordOutcome.HANGUP, 8000),
    ]
    assert after_hangup == [True]


async def test_connections_beyond_max_sessions_are_refused() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def handler(channel: AgiChannel) -> None:
        started.set()
        await release.wait()

    async with connected({"ivr": handler}, max_sessions=1) as (server, first):
        await first.send_environment()
        async with asyncio.timeout(5):
            await started.wait()
        async with await AgiPeer.connect(server.address) as second, asyncio.timeout(5):
            assert await second.read_until_eof() == []
        assert server.stats.rejected == 1
        release.set()
        async with asyncio.timeout(5):
            assert await first.read_until_eof() == []
