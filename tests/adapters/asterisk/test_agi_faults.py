"""FastAGI fault handling: hang-ups, error replies, hostile or slow peers, deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from callcenter.asterisk.agi import (
    AgiChannel,
    AgiCommandError,
    AgiHangupError,
    AgiNotPlayedError,
    AgiTimeoutError,
)
from tests.support.agi_peer import AgiPeer, connected, environment, running_server

DEAD = "511 Command Not Permitted on a dead channel or intercept routine"


class Recorder:
    """Collects what a handler saw; `done` is set when the handler ends, however it ends."""

    def __init__(self) -> None:
        self.seen: list[object] = []
        self.calls = 0
        self.done = asyncio.Event()

    def wrap(self, body: Callable[[AgiChannel], Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def handler(channel: AgiChannel) -> None:
            self.calls += 1
            try:
                await body(channel)
            except BaseException as exc:
                self.seen.append(exc)
                raise
            finally:
                self.done.set()

        return handler


async def attempt(seen: list[object], call: Awaitable[object]) -> None:
    """Run one command and record its result or the AGI error it raised."""
    try:
        seen.append(await call)
    except (AgiHangupError, AgiCommandError) as exc:
        seen.append(exc)


async def test_hangup_line_stops_every_further_command() -> None:
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await attempt(rec.seen, ch.answer())
        await attempt(rec.seen, ch.stream_file("hello-world"))
        await attempt(rec.seen, ch.set_variable("IVR_PATH", "1"))
        await ch.hangup()  # a no-op on a channel that is already gone

    async with connected({"ivr": rec.wrap(body)}) as (_server, peer):
        await peer.send_environment()
        assert await peer.answer(["HANGUP"]) == ["ANSWER"]
        assert await peer.read_until_eof() == []  # nothing at all after HANGUP
    assert [type(x) for x in rec.seen] == [AgiHangupError] * 3


async def test_hangup_arriving_between_commands_is_noticed_before_sending() -> None:
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await ch.answer()
        async with asyncio.timeout(5):
            await ch.wait_hangup()  # e.g. while the handler was busy with the database
        await ch.verbose("never sent")

    async with running_server({"ivr": rec.wrap(body)}) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment()
            assert await peer.answer([["200 result=0", "HANGUP"]]) == ["ANSWER"]
            assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert isinstance(rec.seen[-1], AgiHangupError)
    assert (stats.hangups, stats.failovers) == (1, 0)


async def test_511_reply_means_hangup() -> None:
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await attempt(rec.seen, ch.say_number(42))
        await ch.set_variable("IVR_PATH", "1")

    async with running_server({"ivr": rec.wrap(body)}) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment()
            assert await peer.answer([DEAD]) == ['SAY NUMBER 42 ""']
            assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert isinstance(rec.seen[0], AgiHangupError)
    assert "511" in str(rec.seen[0])
    assert isinstance(rec.seen[1], AgiHangupError)  # the set_variable, refused locally
    assert (stats.hangups, stats.failovers) == (1, 0)


MEDIA_CALLS = [
    (lambda ch: ch.stream_file("menu", "12"), 'STREAM FILE menu "12"'),
    (lambda ch: ch.get_data("beep", 4000, 1), "GET DATA beep 4000 1"),
    (lambda ch: ch.say_digits("12"), 'SAY DIGITS 12 ""'),
]


@pytest.mark.parametrize(("call", "command"), MEDIA_CALLS)
async def test_result_minus_one_then_hangup_and_511_is_a_hangup(
    call: Callable[[AgiChannel], Awaitable[object]], command: str
) -> None:
    # what Asterisk does after a caller hangs up during playback (transcript s3): the next
    # command is answered with the HANGUP line and 511
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await attempt(rec.seen, call(ch))
        await attempt(rec.seen, ch.verbose("after"))

    async with connected({"ivr": rec.wrap(body)}) as (_server, peer):
        await peer.send_environment()
        sent = await peer.answer(["200 result=-1", ["HANGUP", DEAD]])
        assert sent == [command, "CHANNEL STATUS"]
        assert await peer.read_until_eof() == []
    assert [type(x) for x in rec.seen] == [AgiHangupError, AgiHangupError]


@pytest.mark.parametrize(("call", "command"), MEDIA_CALLS)
async def test_result_minus_one_on_a_live_channel_is_a_file_not_played(
    call: Callable[[AgiChannel], Awaitable[object]], command: str
) -> None:
    # "File ... does not exist in any format": Asterisk answers 200 result=-1 endpos=0 and
    # the caller is still there; the session goes on
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await attempt(rec.seen, call(ch))
        await attempt(rec.seen, ch.verbose("after"))

    async with connected({"ivr": rec.wrap(body)}) as (_server, peer):
        await peer.send_environment()
        sent = await peer.answer(["200 result=-1 endpos=0", "200 result=6", "200 result=1"])
        assert sent == [command, "CHANNEL STATUS", 'VERBOSE "after" 1']
    assert isinstance(rec.seen[0], AgiNotPlayedError)
    assert rec.seen[0].file in command
    assert rec.seen[1] is None


async def test_result_minus_one_from_wait_for_digit_is_a_hangup() -> None:
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await attempt(rec.seen, ch.wait_for_digit(4000))
        await attempt(rec.seen, ch.verbose("after"))

    async with connected({"ivr": rec.wrap(body)}) as (_server, peer):
        await peer.send_environment()
        assert await peer.answer(["200 result=-1"]) == ["WAIT FOR DIGIT 4000"]
        assert await peer.read_until_eof() == []
    assert [type(x) for x in rec.seen] == [AgiHangupError, AgiHangupError]


async def test_510_and_520_raise_command_errors_and_the_session_goes_on() -> None:
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await attempt(rec.seen, ch.command("BOGUS COMMAND"))
        await attempt(rec.seen, ch.command("SAY NUMBER"))
        await attempt(rec.seen, ch.channel_status())

    usage = [
        "520-Invalid command syntax.  Proper usage follows:",
        " Usage: SAY NUMBER <number> <escape digits> [gender]",
        "520 End of proper usage.",
    ]
    async with connected({"ivr": rec.wrap(body)}) as (_server, peer):
        await peer.send_environment()
        got = await peer.answer(["510 Invalid or unknown command", usage, "200 result=6"])
        assert got == ["BOGUS COMMAND", "SAY NUMBER", "CHANNEL STATUS"]
        assert await peer.read_until_eof() == []
    unknown, bad_usage, status = rec.seen
    assert isinstance(unknown, AgiCommandError)
    assert (unknown.code, unknown.text) == (510, "Invalid or unknown command")
    assert isinstance(bad_usage, AgiCommandError)
    assert bad_usage.code == 520
    assert "Usage: SAY NUMBER" in bad_usage.text
    assert status == 6


async def test_eof_before_the_blank_line_drops_the_connection() -> None:
    rec = Recorder()
    async with running_server({"ivr": rec.wrap(AgiChannel.answer)}) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send(b"agi_network: yes\nagi_request: agi://127.0.0.1/ivr\n")
            await peer.send_eof()
            assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert rec.calls == 0
    assert (stats.sessions, stats.errors) == (1, 1)


@pytest.mark.parametrize(
    ("size", "line_bytes"),
    [(1 << 20, 100), (1 << 20, 10_000), (1 << 20, 1 << 20), (30_000, 100)],
    ids=["1MB-short-lines", "1MB-long-lines", "1MB-one-line", "300-lines"],
)
async def test_oversized_environment_is_refused(size: int, line_bytes: int) -> None:
    rec = Recorder()
    async with running_server({"ivr": rec.wrap(AgiChannel.answer)}) as server:
        async with await AgiPeer.connect(server.address) as peer:
            sending = asyncio.create_task(peer.send_large_environment(size, line_bytes))
            async with asyncio.timeout(5):
                assert await peer.read_until_eof() == []
                await sending
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert rec.calls == 0
    assert stats.errors == 1


async def test_byte_a_second_peer_does_not_delay_a_normal_call() -> None:
    rec = Recorder()
    async with running_server({"ivr": rec.wrap(AgiChannel.answer)}, session_timeout=2.0) as server:
        async with (
            await AgiPeer.connect(server.address) as slow,
            await AgiPeer.connect(server.address) as normal,
        ):
            dribbling = asyncio.create_task(slow.dribble(b"agi_network: yes\n" * 10, 1.0))
            async with asyncio.timeout(5):
                await server.wait_stats(lambda s: s.active == 2)
            await normal.send_environment()
            async with asyncio.timeout(1.0):  # far below the slow peer's 2 s deadline
                assert await normal.answer(["200 result=0"]) == ["ANSWER"]
                await rec.done.wait()
                await normal.read_until_eof()
            assert not slow.eof.is_set()  # the slow one was still connected meanwhile
            async with asyncio.timeout(5):
                sent = await dribbling  # returns once the deadline closed it
            assert slow.eof.is_set()
            assert 1 <= sent < 6
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert (stats.sessions, stats.timeouts, stats.errors) == (2, 1, 0)


async def test_silent_peer_hits_the_reply_timeout() -> None:
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await ch.answer()

    async with running_server({"ivr": rec.wrap(body)}, reply_timeout=0.2) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment()
            assert await peer.read_command() == "ANSWER"
            async with asyncio.timeout(5):
                assert await peer.read_until_eof() == []  # no fail-over: replies out of step
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert isinstance(rec.seen[0], AgiTimeoutError)
    assert (stats.timeouts, stats.failovers) == (1, 0)


async def test_session_deadline_sends_the_caller_to_the_operators() -> None:
    rec = Recorder()

    async def body(ch: AgiChannel) -> None:
        await ch.answer()
        await asyncio.Event().wait()  # a handler stuck on something that never comes

    async with running_server({"ivr": rec.wrap(body)}, session_timeout=0.5) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment()
            got = await peer.answer(["200 result=0", "200 result=1", "200 result=1"])
            assert got == ["ANSWER", "SET VARIABLE IVR_TARGET line1", "SET VARIABLE IVR_FAILOVER 1"]
            assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert (stats.timeouts, stats.failovers) == (1, 1)


async def test_session_deadline_closes_a_peer_that_stopped_answering() -> None:
    rec = Recorder()
    async with running_server(
        {"ivr": rec.wrap(AgiChannel.answer)}, session_timeout=0.3, reply_timeout=30
    ) as server:
        async with await AgiPeer.connect(server.address) as peer:
            await peer.send_environment(environment())
            assert await peer.read_command() == "ANSWER"
            async with asyncio.timeout(3):  # the deadline, not the 30 s reply timeout
                assert await peer.read_until_eof() == []
        async with asyncio.timeout(5):
            stats = await server.wait_stats(lambda s: s.active == 0)
    assert (stats.timeouts, stats.failovers) == (1, 0)
