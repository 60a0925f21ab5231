"""AMI link faults: drops, half-open sockets, Asterisk restarts, refused logins, lost Originates."""

from __future__ import annotations

import time

import pytest

from callcenter.asterisk.ami import AmiConnectionLostError, Backoff
from callcenter.pbx.frames import AmiFrame
from tests.support.fake_ami import (
    AUTH_FAILED,
    LOGIN_IN_USE,
    FakeAmiServer,
    RecordingListener,
    Session,
    fast_client,
    running_client,
)

CALL = "5f0c7d2e-1b8a-4c1e-9d61-6a3f5b2c9e10"


async def test_reconnects_after_a_drop_and_resyncs() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            ami.drop_all()
            await listener.wait_for(lambda: listener.disconnects == 1)
            await listener.wait_for(lambda: len(listener.snapshots) == 2)
            assert client.connected
            assert ami.actions_in(2) == ["Login", "CoreStatus", "CoreShowChannels", "QueueStatus"]
            second = listener.snapshots[1]
            assert second.connection == 2
            assert (second.asterisk_restarted, second.asterisk_reloaded) == (False, False)
            assert (await client.ping()).timestamp > 0
            assert client.stats().connections == 2


async def test_action_in_flight_when_the_link_drops_fails_as_lost() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:

        async def drop(session: Session, frame: AmiFrame) -> None:
            session.drop()

        ami.handlers["queuesummary"] = drop
        with pytest.raises(AmiConnectionLostError):
            await client.queue_summary()


async def test_half_open_link_is_detected_by_ping_within_two_intervals() -> None:
    interval = 0.1
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener, ping_interval=interval) as client:
            # pings flow while the link is healthy
            await ami.wait_for(lambda: len(ami.actions("Ping")) >= 1)
            assert listener.disconnects == 0
            ami.go_silent()
            silent_since = time.monotonic()
            await listener.wait_for(lambda: listener.disconnects == 1, within=2)
            detected_after = time.monotonic() - silent_since
            assert detected_after <= 2 * interval + 0.1
            await listener.wait_for(lambda: len(listener.snapshots) == 2)
            assert client.connected
            assert "no reply to Ping" in (client.stats().last_error or "")
            assert len(ami.sessions) == 2


async def test_asterisk_restart_is_reported_in_the_resync_snapshot() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener):
            ami.add_channel(CALL)
            ami.restart()
            await listener.wait_for(lambda: len(listener.snapshots) == 2)
            before, after = listener.snapshots
            assert after.asterisk_restarted is True
            assert after.previous_core_status == before.core_status
            assert after.core_status.startup_stamp != before.core_status.startup_stamp
            assert after.channels == ()
            # a plain reconnect afterwards is not a restart
            ami.drop_all()
            await listener.wait_for(lambda: len(listener.snapshots) == 3)
            assert listener.snapshots[2].asterisk_restarted is False


async def test_resync_lists_live_channels_after_reconnect() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener):
            ami.add_channel(CALL)
            ami.drop_all()
            await listener.wait_for(lambda: len(listener.snapshots) == 2)
            assert [c.uniqueid for c in listener.snapshots[1].channels] == [CALL]
            line3 = listener.snapshots[1].queues.queue("line3")
            assert line3 is not None
            assert [c.position for c in line3.callers] == [1]


async def test_failed_resync_drops_the_link_unannounced_and_retries() -> None:
    async with FakeAmiServer() as ami:
        ami.fail_next["corestatus"] = ["Permission denied"]  # main/manager.c text
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            assert len(ami.sessions) == 2
            assert ami.actions_in(1) == ["Login", "CoreStatus"]
            assert [s.connection for s in listener.snapshots] == [2]
            assert listener.disconnects == 0
            assert "Permission denied" in (client.stats().last_error or "")


@pytest.mark.parametrize("refusal", [AUTH_FAILED, LOGIN_IN_USE])
async def test_refused_logins_back_off_instead_of_looping(refusal: str) -> None:
    backoff = Backoff(base=0.02, factor=2.0, max_delay=0.16, jitter=0.5, random=lambda: 0.0)
    async with FakeAmiServer() as ami:
        ami.refuse_logins_with = refusal
        listener = RecordingListener()
        client = fast_client(ami, listener, backoff=backoff)
        await client.start()
        try:
            await ami.wait_for(lambda: len(ami.login_times) >= 6, within=5)
            window = ami.login_times[5] - ami.login_times[0]
            gaps = [b - a for a, b in zip(ami.login_times, ami.login_times[1:6], strict=False)]
            # 0.02, 0.04, 0.08, 0.16, 0.16 (capped): a hot loop would have hundreds by now
            expected = [0.02, 0.04, 0.08, 0.16, 0.16]
            for gap, wanted in zip(gaps, expected, strict=True):
                assert gap >= wanted * 0.9
            assert sum(expected) * 0.9 <= window < 2.0
            stats = client.stats()
            assert stats.connected is False
            assert stats.login_refusals >= 5
            assert refusal in (stats.last_error or "")
            assert listener.snapshots == []
        finally:
            await client.close()


async def test_wrong_secret_is_refused_then_a_fixed_secret_connects() -> None:
    async with FakeAmiServer(secret="right") as ami:
        listener = RecordingListener()
        client = fast_client(ami, listener)
        ami.secret = "wrong-on-the-server"  # the client was built with "right"
        await client.start()
        try:
            await ami.wait_for(lambda: len(ami.login_times) >= 2)
            assert AUTH_FAILED in (client.stats().last_error or "")
            ami.secret = "right"
            await client.wait_connected(5)
            assert len(listener.snapshots) == 1
        finally:
            await client.close()


def test_jitter_spreads_the_delay_but_never_below_the_floor() -> None:
    draws = iter([0.0, 1.0, 0.5])
    backoff = Backoff(base=1.0, factor=2.0, max_delay=3.0, jitter=0.5, random=lambda: next(draws))
    assert [backoff.delay(0), backoff.delay(1), backoff.delay(5)] == [1.0, 1.0, 2.25]


async def test_originate_lost_in_flight_is_not_resent_when_the_channel_exists() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            ami.drop_next_originates = 1
            ami.create_channel_before_drop = True
            queued = await client.originate(
                "Local/script1@callers", context="ivr", exten="88001000000", channel_id=CALL
            )
            assert queued.already_running is True
            assert queued.channel_id == CALL
            assert len(ami.actions("Originate")) == 1
            # the check happened on the new connection, after the resync
            assert ami.actions_in(2)[-1] == "CoreShowChannels"


async def test_originate_lost_in_flight_is_resent_once_when_no_channel_started() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            ami.drop_next_originates = 1
            queued = await client.originate(
                "Local/script1@callers", context="ivr", exten="88001000000", channel_id=CALL
            )
            assert queued.already_running is False
            originates = ami.actions("Originate")
            assert [o["ChannelId"] for o in originates] == [CALL, CALL]
            assert [o.action_id for o in originates] == [f"orig-{CALL}", f"orig-{CALL}"]


async def test_originate_gives_up_as_lost_when_the_link_stays_down() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        ami.drop_next_originates = 1
        ami.refuse_logins_with = AUTH_FAILED
        with pytest.raises(AmiConnectionLostError):
            await client.originate(
                "Local/script1@callers",
                context="ivr",
                exten="88001000000",
                channel_id=CALL,
                reconnect_wait=0.2,
            )
        assert len(ami.actions("Originate")) == 1
        # the caller retries later, checking first: the channel exists, so nothing is sent
        ami.refuse_logins_with = None
        ami.add_channel(CALL)
        await client.wait_connected(5)
        queued = await client.originate(
            "Local/script1@callers",
            context="ivr",
            exten="88001000000",
            channel_id=CALL,
            check_existing=True,
        )
        assert queued.already_running is True
        assert len(ami.actions("Originate")) == 1
