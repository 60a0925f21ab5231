"""Fault suite, AMI link (SPEC §8): what a user would see when the link to Asterisk misbehaves.

Real sockets: the platform's AMI client against the fake AMI server of tests/support.
"""

from __future__ import annotations

import pytest

from callcenter.asterisk.ami import AmiActionError, AmiConnectionLostError, Backoff
from callcenter.pbx.frames import AmiFrame, encode_frame
from tests.support.fake_ami import (
    AUTH_FAILED,
    FakeAmiServer,
    RecordingListener,
    fast_client,
    running_client,
)

CALL = "7d1f0c2e-3b8a-4c1e-9d61-6a3f5b2c9e10"


async def test_ami_dropped_mid_originate_places_no_second_call() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        ami.drop_next_originates = 1
        ami.create_channel_before_drop = True  # Asterisk started the call, then the link died
        queued = await client.originate(
            "Local/89157001122@outbound", context="ivr", exten="88001000000", channel_id=CALL
        )
        assert queued.already_running  # reported as placed
        assert len(ami.actions("Originate")) == 1  # and the customer's phone rang once


async def test_asterisk_restart_is_noticed_and_the_link_comes_back() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            ami.add_channel(CALL)
            ami.restart()
            await listener.wait_for(lambda: len(listener.snapshots) == 2)
            assert listener.snapshots[1].asterisk_restarted
            assert listener.snapshots[1].channels == ()  # the old call is known to be gone
            assert (await client.ping()).timestamp > 0


async def test_half_open_ami_is_detected_and_replaced() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener, ping_interval=0.1) as client:
            ami.go_silent()  # the socket stays open, nothing comes back
            await listener.wait_for(lambda: listener.disconnects == 1, within=5)
            await listener.wait_for(lambda: len(listener.snapshots) == 2, within=5)
            assert "no reply to Ping" in (client.stats().last_error or "")
            assert (await client.ping()).timestamp > 0


async def test_wrong_ami_secret_backs_off_and_says_why() -> None:
    backoff = Backoff(base=0.02, factor=2.0, max_delay=0.1, jitter=0.0)
    async with FakeAmiServer() as ami:
        ami.refuse_logins_with = AUTH_FAILED
        client = fast_client(ami, RecordingListener(), backoff=backoff)
        await client.start()
        try:
            await ami.wait_for(lambda: len(ami.login_times) >= 4, within=5)
            gaps = [b - a for a, b in zip(ami.login_times, ami.login_times[1:4], strict=False)]
            assert all(gap >= 0.018 for gap in gaps)  # spaced out, not a hot loop
            stats = client.stats()
            assert not stats.connected
            assert AUTH_FAILED in (stats.last_error or "")
        finally:
            await client.close()


async def test_response_error_is_a_clear_error_and_the_link_stays_up() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        ami.fail_next["queuepause"] = ["Interface not found"]
        with pytest.raises(AmiActionError) as refused:
            await client.queue_pause("PJSIP/999", True, queue="line1")
        assert "Interface not found" in str(refused.value)
        assert client.connected
        assert (await client.ping()).timestamp > 0


async def test_garbled_frames_do_not_stop_the_events_that_follow() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            (session,) = ami.live_sessions
            session.writer.write(
                b"\x00\xff\xfe garbage without a colon\r\n"
                b": empty key\r\nEvent\r\n" + b"X" * 70_000 + b"\r\n\r\n"
                b"Event: \xd0\r\nUniqueid: \xff\xfe\r\n\r\n"
            )
            good = AmiFrame((("Event", "UserEvent"), ("UserEvent", "after-garbage")))
            session.writer.write(encode_frame(good.pairs))
            await listener.wait_for(
                lambda: (
                    any(f.get("UserEvent") == "after-garbage" for f in listener.events)
                    or listener.disconnects > 0
                ),
                within=5,
            )
            if listener.disconnects:  # a frame too mangled to skip: the link is rebuilt
                await listener.wait_for(lambda: len(listener.snapshots) == 2, within=5)
            assert client.connected
            assert (await client.ping()).timestamp > 0


async def test_an_action_lost_with_the_link_fails_clearly() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:

        async def drop(session: object, frame: AmiFrame) -> None:
            ami.drop_all()

        ami.handlers["queuesummary"] = drop  # type: ignore[assignment]
        with pytest.raises(AmiConnectionLostError, match="connection lost"):
            await client.queue_summary()
        await client.wait_connected(5)
