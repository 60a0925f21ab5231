"""AMI client actions against a fake server that answers with frames from the real transcripts."""

from __future__ import annotations

import pytest

from callcenter.asterisk.ami import (
    AmiActionError,
    AmiClient,
    AmiNotConnectedError,
    AmiTimeoutError,
    OriginateOutcome,
)
from callcenter.config import load_settings
from callcenter.pbx.frames import AmiFrame, FrameDecoder
from callcenter.pbx.results import MemberStatus, OriginateReason
from tests.support.fake_ami import (
    S4,
    FakeAmiServer,
    RecordingListener,
    Session,
    fast_client,
    first_event,
    reply_frames,
    restamp,
    running_client,
)


async def test_login_sends_credentials_and_resyncs_before_announcing_the_link() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener):
            login = ami.actions("Login")[0]
            assert (login["Username"], login["Secret"], login["Events"]) == (
                "lab",
                "labsecret",
                "on",
            )
            assert ami.actions_in(1) == ["Login", "CoreStatus", "CoreShowChannels", "QueueStatus"]
            [snapshot] = listener.snapshots
            assert snapshot.connection == 1
            assert snapshot.asterisk_restarted is False
            assert snapshot.core_status.startup_stamp == "2026-11-23 11:18:06"
            assert snapshot.queues.queue("line3") is not None


async def test_queue_member_lifecycle_and_asterisk_error_texts() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        added = await client.queue_add(
            "line1",
            "Local/101@agents/n",
            member_name="Operator 101",
            state_interface="Local/101@agents",
            penalty=0,
            paused=False,
        )
        assert added.message == "Added interface to queue"

        with pytest.raises(AmiActionError) as duplicate:
            await client.queue_add("line1", "Local/101@agents/n")
        assert duplicate.value.action == "QueueAdd"
        assert duplicate.value.message == "Unable to add interface: Already there"

        paused = await client.queue_pause("Local/101@agents/n", True, queue="line1", reason="lunch")
        assert paused.message == "Interface paused successfully"
        sent = ami.actions("QueuePause")[-1]
        assert (sent["Paused"], sent["Reason"], sent["Queue"]) == ("true", "lunch", "line1")

        unpaused = await client.queue_pause("Local/101@agents/n", False, queue="line1")
        assert unpaused.message == "Interface unpaused successfully"

        penalty = await client.queue_penalty("Local/101@agents/n", 2, queue="line1")
        assert penalty.message == "Interface penalty set successfully"
        assert ami.members[("line1", "Local/101@agents/n")].penalty == 2

        with pytest.raises(AmiActionError, match="Interface not found"):
            await client.queue_pause("Local/999@agents/n", True, queue="nosuchqueue")

        removed = await client.queue_remove("line1", "Local/101@agents/n")
        assert removed.message == "Removed interface from queue"
        with pytest.raises(AmiActionError) as again:
            await client.queue_remove("line1", "Local/101@agents/n")
        assert again.value.message == "Unable to remove interface: Not there"


async def test_unknown_action_is_an_action_error_with_asterisk_text() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        with pytest.raises(AmiActionError) as error:
            await client.action("NoSuchAction")
        assert error.value.message == (
            "Invalid/unknown command: NoSuchAction. "
            "Use Action: ListCommands to show available commands."
        )
        # the link is still fine afterwards
        assert (await client.ping()).timestamp > 0


async def test_queue_status_with_a_waiting_caller() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        report = await client.queue_status("line3")
        assert ami.actions("QueueStatus")[-1]["Queue"] == "line3"
        line3 = report.queue("line3")
        assert line3 is not None
        assert (line3.params.strategy, line3.params.calls) == ("ringall", 1)
        [member] = line3.members
        assert (member.name, member.interface, member.paused) == (
            "Operator 102",
            "Local/102@agents/n",
            False,
        )
        assert member.status == MemberStatus.NOT_INUSE
        [caller] = line3.callers
        assert (caller.position, caller.wait_seconds, caller.caller_id_num) == (
            1,
            10,
            "+79267770000",
        )
        assert caller.channel == "Local/longwait@callers2-0000001b;1"


async def test_queue_status_shows_a_paused_member_with_reason() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        ami.queue_status_reply = (S4, "qs-paused")
        line1 = (await client.queue_status("line1")).queue("line1")
        assert line1 is not None
        [member] = line1.members
        assert (member.paused, member.paused_reason, member.calls_taken) == (True, "lunch", 1)
        assert line1.callers == ()
        assert line1.params.service_level_perf2 == 50.0


async def test_queue_summary_rows() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        rows = await client.queue_summary()
        assert [(r.queue, r.logged_in, r.available, r.talk_time) for r in rows] == [
            ("line2", 0, 0, 0),
            ("line1", 1, 1, 3),
        ]


async def test_core_show_channels_and_status_list_channels() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        assert await client.core_show_channels() == ()
        ami.add_channel("11111111-2222-3333-4444-555555555555")
        [row] = await client.core_show_channels()
        assert row.uniqueid == row.linkedid == "11111111-2222-3333-4444-555555555555"
        assert (row.state, row.state_desc, row.application) == (6, "Up", "Queue")
        assert (row.duration_seconds, row.bridge_id) == (
            18,
            "cd0343e3-2309-49a4-ad6e-e4cb6cc19c07",
        )

        status = await client.status()
        assert [s.channel for s in status] == [
            "Local/script1@callers-00000005;1",
            "Local/script1@callers-00000005;2",
            "Local/103@agents-00000006;2",
            "Local/103@agents-00000006;1",
        ]
        assert {s.linkedid for s in status} == {"11111111-2222-3333-4444-555555555555"}
        assert (status[0].duration_seconds, status[0].application_data) == (18, "line1,t,,,60")


async def test_redirect_transfers_and_hangup_address_the_channel_id() -> None:
    call = "11111111-2222-3333-4444-555555555555"
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        redirected = await client.redirect(call, "agents", "201")
        assert redirected.message == "Redirect successful"
        sent = ami.actions("Redirect")[-1]
        assert (sent["Channel"], sent["Context"], sent["Exten"], sent["Priority"]) == (
            call,
            "agents",
            "201",
            "1",
        )
        assert (await client.blind_transfer(call, "agents", "201")).message == "Transfer succeeded"
        atx = await client.atxfer("Local/104@agents-00000026;2", "201", "agents")
        assert atx.message == "Atxfer successfully queued"
        assert (await client.hangup(call, cause=16)).message == "Channel Hungup"
        assert ami.actions("Hangup")[-1]["Cause"] == "16"


async def test_mixmonitor_and_confbridge() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        started = await client.mix_monitor("Local/103@agents-00000006;1", "/rec/a.wav", options="b")
        assert started.mixmonitor_id == "0x7f7f38004a10"
        assert ami.actions("MixMonitor")[-1]["Options"] == "b"
        stopped = await client.stop_mix_monitor("aaaaaaaa-0000-0000-0000-000000000001")
        assert stopped.action == "StopMixMonitor"

        people = await client.confbridge_list("900")
        assert [(p.channel, p.muted, p.admin) for p in people] == [
            ("Local/900@conf-0000000e;2", False, False),
            ("Local/900@conf-0000000f;2", False, False),
        ]
        with pytest.raises(AmiActionError, match="No Conference by that name found"):
            await client.confbridge_list("901")
        assert (await client.confbridge_mute("900", people[0].channel)).message == "User muted"
        assert (await client.confbridge_unmute("900", people[0].channel)).message == "User unmuted"
        assert (await client.confbridge_kick("900", people[1].channel)).message == "User kicked"


async def test_ping_and_core_status() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        assert (await client.ping()).timestamp > 1_700_000_000
        status = await client.core_status()
        assert status.started is not None
        assert (status.startup_date, status.reload_time) == ("2026-11-23", "11:19:42")
        assert status.processed_calls == 8


async def test_async_originate_sets_channel_id_and_the_outcome_arrives_as_event() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            queued = await client.originate(
                "Local/script1@callers",
                context="ivr",
                exten="88001000000",
                channel_id="11111111-2222-3333-4444-555555555555",
                caller_id_name="Kuznetsov",
                caller_id_number="+79269998877",
                ring_timeout=20,
                variables={"CAMPAIGN_ID": 7, "NOTE": "a,b=c"},
            )
            sent = ami.actions("Originate")[-1]
            assert sent["ChannelId"] == queued.channel_id
            assert (sent["Async"], sent["Priority"], sent["Timeout"]) == ("true", "1", "20000")
            assert sent["CallerID"] == '"Kuznetsov" <+79269998877>'
            # a comma in a value must not create a second variable
            assert sent.get_all("Variable") == ["CAMPAIGN_ID=7", "NOTE=a\\,b=c"]
            assert queued.already_running is False

            await listener.wait_for(lambda: bool(listener.named("OriginateResponse")))
            outcome = OriginateOutcome.from_frame(listener.named("OriginateResponse")[0])
            assert outcome is not None
            assert outcome.channel_id == queued.channel_id
            assert (outcome.success, outcome.reason) == (True, OriginateReason.ANSWERED)


def test_failed_originate_response_maps_back_to_our_channel_id() -> None:
    busy = first_event("ami-s6-originate-outcomes-amd.log", "OriginateResponse", "ob-busy")
    ours = OriginateOutcome.from_frame(restamp(busy, ActionID="orig-c-1"))
    assert ours is not None
    assert ours.channel_id == "c-1"
    raw = OriginateOutcome.from_frame(busy)
    assert raw is not None
    assert (raw.success, raw.reason_name, raw.channel_id) == (False, "BUSY", None)


async def test_header_injection_in_caller_name_stays_inside_one_originate() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        await client.originate(
            "Local/script1@callers",
            context="ivr",
            exten="88001000000",
            caller_id_name="x\r\n\r\nAction: Originate",
            caller_id_number="+79161234567",
            variables={"NOTE": "y\r\nAction: Hangup\nChannel: all\x00"},
        )
        [originate] = ami.actions("Originate")
        assert originate["CallerID"] == '"xAction: Originate" <+79161234567>'
        assert originate.get_all("Variable") == ["NOTE=yAction: HangupChannel: all"]
        assert ami.actions("Hangup") == []
        # the raw bytes hold exactly one frame with an Action header after login/resync
        frames = list(FrameDecoder().feed(bytes(ami.sessions[0].raw)))
        assert [f["Action"] for f in frames].count("Originate") == 1


async def test_action_timeout_and_the_link_survives_it() -> None:
    async with FakeAmiServer() as ami, running_client(ami, RecordingListener()) as client:
        ami.ignored_actions.add("QueueSummary")
        with pytest.raises(AmiTimeoutError) as error:
            await client.queue_summary(reply_timeout=0.05)
        assert error.value.action == "QueueSummary"
        assert client.connected
        assert (await client.ping()).timestamp > 0


async def test_actions_without_a_link_raise_not_connected() -> None:
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        client: AmiClient = fast_client(ami, listener)
        with pytest.raises(AmiNotConnectedError):
            await client.ping()
        await client.start()
        await client.wait_connected(5)
        await client.close()
        with pytest.raises(AmiNotConnectedError):
            await client.queue_add("line1", "Local/101@agents/n")
        assert ami.actions("QueueAdd") == []
        assert ami.actions("Logoff"), "close() logs off politely"
        assert listener.disconnects == 1
        assert len(ami.sessions) == 1, "a closed client does not reconnect"


async def test_list_reply_with_unrelated_events_interleaved() -> None:
    """Asterisk interleaves events with list rows (s4): rows go to the reply, events onward."""
    async with FakeAmiServer() as ami:
        listener = RecordingListener()
        async with running_client(ami, listener) as client:
            start, *rows = reply_frames(S4, "qs-paused")
            pause = first_event(S4, "QueueMemberPause")

            async def interleaved(session: Session, frame: AmiFrame) -> None:
                stamp = {"ActionID": frame.action_id or ""}
                session.send([restamp(start, **stamp), pause])
                session.send([restamp(row, **stamp) for row in rows])

            ami.handlers["queuestatus"] = interleaved
            report = await client.queue_status("line1")
            await client.drain()
            line1 = report.queue("line1")
            assert line1 is not None
            assert len(line1.members) == 1
            assert listener.named("QueueMemberPause") == [pause]


async def test_client_built_from_settings_connects() -> None:
    async with FakeAmiServer(username="callcenter", secret="s3cret") as ami:
        settings = load_settings(
            ami_host="127.0.0.1", ami_port=ami.port, ami_username="callcenter", ami_secret="s3cret"
        )
        listener = RecordingListener()
        async with AmiClient.from_settings(settings, listener) as client:
            await client.wait_connected(5)
            assert client.ping_interval == settings.ami_ping_interval
        assert len(listener.snapshots) == 1
