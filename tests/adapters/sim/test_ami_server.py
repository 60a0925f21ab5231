"""The simulator's AMI server, driven through a raw socket: session rules, Asterisk's reply
texts (compared with transcript s4), originate outcomes (s6), and the test hooks."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callcenter.sim.clock import VirtualClock
from callcenter.sim.simulator import Simulator
from tests.adapters.sim.raw_ami import RawAmi
from tests.adapters.sim.replay import compare_frames, replay_ami
from tests.support.eventually import free_running
from tests.support.transcripts import timed_ami_frames


async def test_banner_then_login_then_fully_booted_and_successful_auth(ami: RawAmi) -> None:
    reply = await ami.login()
    assert ami.banner == "Asterisk Call Manager/11.0.0"
    assert reply.pairs[0] == ("Response", "Success")
    assert reply.get("Message") == "Authentication accepted"
    booted = await ami.event("FullyBooted")
    assert [k for k, _ in booted.pairs] == ["Event", "Privilege", "Uptime", "LastReload", "Status"]
    auth = await ami.event("SuccessfulAuth")
    assert auth.get("AccountID") == "lab"
    assert auth.get("Service") == "AMI"


async def test_a_wrong_secret_is_refused_and_the_connection_closed(ami: RawAmi) -> None:
    reply = await ami.login(secret="wrong")
    assert (reply.response, reply.get("Message")) == ("Error", "Authentication failed")
    await ami.wait_closed()


async def test_nothing_but_login_works_before_logging_in(ami: RawAmi) -> None:
    reply = await ami.action("Ping")
    assert (reply.response, reply.get("Message")) == ("Error", "Permission denied")


async def test_events_off_still_answers_actions_but_sends_no_events(
    lab_sim: Simulator, ami: RawAmi
) -> None:
    await ami.login(events="off")
    lab_sim.pbx.queues.add_member("line1", "Local/101@agents/n")  # would send QueueMemberAdded
    ping = await ami.action("Ping")
    assert ping.get("Ping") == "Pong"
    assert [f.event for f in ami.frames if f.event] == []


async def test_ping_echoes_the_action_id_and_unknown_actions_get_asterisks_error(
    ami: RawAmi,
) -> None:
    await ami.login()
    ping = await ami.action("Ping", ActionID="ping-1")
    assert [k for k, _ in ping.pairs] == ["Response", "ActionID", "Ping", "Timestamp"]
    bad = await ami.action("NoSuchAction", ActionID="bad-1")
    assert bad.get("Message") == (
        "Invalid/unknown command: NoSuchAction. "
        "Use Action: ListCommands to show available commands."
    )
    report = await ami.event("RequestBadFormat")
    assert report.get("RequestType") == "Action: NoSuchAction"


async def test_agent_states_and_error_replies_match_transcript_s4(
    lab_sim: Simulator, transcripts_dir: Path
) -> None:
    # the lab state when s4 was captured: operator 101 logged in since s1, statistics of s1+s2
    queues = lab_sim.pbx.queues
    queues.add_member(
        "line1", "Local/101@agents/n", membername="Operator 101", state_interface="Local/101@agents"
    )
    line1 = queues.get("line1")
    assert line1 is not None
    line1.members["Local/101@agents/n"].calls = 1
    line1.members["Local/101@agents/n"].lastcall = int(lab_sim.clock.epoch()) - 120
    line1.talktime, line1.completed, line1.abandoned, line1.completed_in_sl = 3, 1, 1, 1
    path = transcripts_dir / "ami-s4-agent-states-and-errors.log"
    replay = await replay_ami(lab_sim.ami_port, path)
    # CoreProcessedCalls counts the calls of the earlier captures in that Asterisk
    result = compare_frames(
        timed_ami_frames(path), replay.frames, racy=["Response.CoreProcessedCalls"]
    )
    assert not result, result.report()


async def test_originate_outcomes_match_transcript_s6(
    tmp_path: Path, transcripts_dir: Path
) -> None:
    from callcenter.sim.dialplans import lab_dialplan
    from tests.adapters.sim.replay import ScriptedAgiServer, agi_commands

    agi = ScriptedAgiServer(agi_commands(transcripts_dir / "agi-s6-dialer-human.log"))
    await agi.start()
    sim = Simulator(
        agi_port=agi.port,
        recordings_dir=tmp_path,
        clock=(clock := VirtualClock()),
        ami_users={"lab": "labsecret"},
        dialplan=lab_dialplan(f"agi://127.0.0.1:{agi.port}"),
    )
    path = transcripts_dir / "ami-s6-originate-outcomes-amd.log"
    async with sim, free_running(clock):
        replay = await replay_ami(sim.ami_port, path)
    await agi.stop()
    result = compare_frames(timed_ami_frames(path), replay.frames)
    assert not result, result.report()
    reasons = {
        f.action_id: f.get("Reason") for f in replay.frames if f.event == "OriginateResponse"
    }
    assert reasons == {
        "ob-human": "4",
        "ob-machine": "4",
        "ob-busy": "5",
        "ob-noanswer": "3",
        "ob-congestion": "8",
        "ob-badchan": "0",
    }
    amd = {
        f.get("Value")
        for f in replay.frames
        if f.event == "VarSet" and f.get("Variable") == "AMDSTATUS"
    }
    assert amd == {"HUMAN", "MACHINE"}
    assert agi.sessions == 2  # both answered calls ran agi://.../dialer


async def test_originate_validates_like_asterisk(ami: RawAmi) -> None:
    await ami.login()
    cases = [
        ({}, "Channel not specified"),
        ({"Channel": "Local/x@callers", "Timeout": "soon"}, "Invalid timeout"),
        ({"Channel": "nochanneltech"}, "Invalid channel"),
        (
            {"Channel": "Local/x@callers", "Context": "ivr", "Exten": "999", "Priority": "1"},
            "Extension does not exist.",
        ),
        (
            {"Channel": "Local/x@callers", "Exten": "88001000000"},
            "Originate with 'Exten' requires 'Context' and 'Priority'",
        ),
    ]
    for fields, message in cases:
        reply = await ami.action_with("Originate", fields)
        assert (reply.response, reply.get("Message")) == ("Error", message)


async def test_channel_id_becomes_the_uniqueid_and_status_finds_the_call(ami: RawAmi) -> None:
    await ami.login()
    reply = await ami.action(
        "Originate",
        Channel="Local/silent@callers",
        Context="ivr",
        Exten="88001000000",
        Priority="1",
        CallerID='"Test" <+79160000000>',
        Async="true",
        ChannelId="11111111-2222-3333-4444-555555555555",
    )
    assert reply.get("Message") == "Originate successfully queued"
    answered = await ami.event("OriginateResponse")
    assert answered.get("Uniqueid") == "11111111-2222-3333-4444-555555555555"
    second = await ami.event("Newchannel", Uniqueid="11111111-2222-3333-4444-555555555555;2")
    assert second.get("Linkedid") == "11111111-2222-3333-4444-555555555555"
    status = await ami.action("Status", Channel="11111111-2222-3333-4444-555555555555")
    assert status.get("EventList") == "start"
    row = await ami.event("Status")
    assert (row.get("Channel") or "").endswith(";1")
    hangup = await ami.action("Hangup", Channel="11111111-2222-3333-4444-555555555555")
    assert hangup.get("Message") == "Channel Hungup"
    gone = await ami.event("Hangup", Uniqueid="11111111-2222-3333-4444-555555555555")
    assert gone.get("Cause") == "0"


async def test_drop_all_clients_closes_every_connection(lab_sim: Simulator, ami: RawAmi) -> None:
    await ami.login()
    other = await RawAmi.connect(lab_sim.ami_port)
    await other.login()
    lab_sim.drop_all_clients()
    await ami.wait_closed()
    await other.wait_closed()
    await other.close()
    again = await RawAmi.connect(lab_sim.ami_port)
    assert (await again.login()).get("Message") == "Authentication accepted"
    await again.close()


async def test_silent_keeps_the_socket_open_but_answers_nothing(
    lab_sim: Simulator, ami: RawAmi
) -> None:
    await ami.login()
    lab_sim.silent = True
    ami.send("Ping", ActionID="lost")
    with pytest.raises(TimeoutError):
        await ami.wait_for(lambda f: f.action_id == "lost", within=0.3)
    assert not ami.closed
    lab_sim.silent = False
    assert (await ami.action("Ping")).get("Ping") == "Pong"


async def test_restart_drops_clients_calls_and_changes_the_startup_time(
    lab_sim: Simulator, ami: RawAmi
) -> None:
    await ami.login()
    before = await ami.action("CoreStatus")
    await ami.action(
        "Originate",
        Channel="Local/silent@callers",
        Context="ivr",
        Exten="88001000000",
        Priority="1",
        Async="true",
    )
    await ami.event("OriginateResponse")
    await lab_sim.clock.sleep(5.0)
    await lab_sim.restart()
    await ami.wait_closed()
    fresh = await RawAmi.connect(lab_sim.ami_port)
    await fresh.login()
    after = await fresh.action("CoreStatus")
    assert after.get("CoreCurrentCalls") == "0"
    assert after.get("CoreProcessedCalls") == "0"
    assert (after.get("CoreStartupDate"), after.get("CoreStartupTime")) != (
        before.get("CoreStartupDate"),
        before.get("CoreStartupTime"),
    )
    listing = await fresh.action("CoreShowChannels")
    assert listing.get("EventList") == "start"
    done = await fresh.event("CoreShowChannelsComplete")
    assert done.get("ListItems") == "0"
    booted = await fresh.event("FullyBooted")
    assert int(booted.get("Uptime") or 99) < 5
    await fresh.close()


async def test_logoff_says_goodbye_and_closes(ami: RawAmi) -> None:
    await ami.login()
    reply = await ami.action("Logoff")
    assert (reply.response, reply.get("Message")) == ("Goodbye", "Thanks for all the fish.")
    await ami.wait_closed()


async def test_queue_actions_reject_unknown_queues_and_interfaces(ami: RawAmi) -> None:
    await ami.login()
    add = await ami.action("QueueAdd", Queue="nosuchqueue", Interface="Local/1@agents/n")
    assert add.get("Message") == "Unable to add interface to queue: No such queue"
    remove = await ami.action("QueueRemove", Queue="nosuchqueue", Interface="Local/1@agents/n")
    assert remove.get("Message") == "Unable to remove interface from queue: No such queue"
    missing = await ami.action("QueueAdd", Queue="line1")
    assert missing.get("Message") == "'Interface' not specified."
    penalty = await ami.action("QueuePenalty", Interface="Local/9@agents/n", Penalty="1")
    assert penalty.get("Message") == "Invalid interface, queuename or penalty"


async def test_frames_sent_are_counted(lab_sim: Simulator, ami: RawAmi) -> None:
    await ami.login()
    await ami.action("Ping")
    await asyncio.sleep(0)
    assert lab_sim.frames_sent >= 4  # login reply, FullyBooted, SuccessfulAuth, ping reply


async def test_conference_list_mute_and_kick(ami: RawAmi) -> None:
    await ami.login()
    empty = await ami.action("ConfbridgeList", Conference="900")
    assert empty.get("Message") == "No active conferences."
    for action_id in ("conf-a", "conf-b"):
        ami.send(
            "Originate",
            ActionID=action_id,
            Channel="Local/900@conf",
            Application="Wait",
            Data="60",
            Async="true",
        )
    second = await ami.wait_for(
        lambda f: f.event == "ConfbridgeJoin" and f.get("BridgeNumChannels") == "3", within=10
    )
    listing = await ami.action("ConfbridgeList", Conference="900")
    assert listing.get("Message") == "Confbridge user list will follow"
    done = await ami.event("ConfbridgeListComplete")
    assert done.get("ListItems") == "2"
    unknown = await ami.action("ConfbridgeMute", Conference="901", Channel="x")
    assert unknown.get("Message") == "No Conference by that name found."
    muted = await ami.action(
        "ConfbridgeMute", Conference="900", Channel=second.get("Channel") or ""
    )
    assert muted.get("Message") == "User muted"
    nobody = await ami.action("ConfbridgeKick", Conference="900", Channel="Local/none")
    assert nobody.get("Message") == "No Channel by that name found in Conference."
    kicked = await ami.action(
        "ConfbridgeKick", Conference="900", Channel=second.get("Channel") or ""
    )
    assert kicked.get("Message") == "User kicked"
    left = await ami.event("ConfbridgeLeave", Channel=second.get("Channel") or "")
    assert left.get("Conference") == "900"
    result = await ami.wait_for(
        lambda f: f.event == "VarSet" and f.get("Variable") == "CONFBRIDGE_RESULT"
    )
    assert result.get("Value") == "KICKED"


async def test_music_on_hold_starts_and_stops(ami: RawAmi) -> None:
    await ami.login()
    await ami.action(
        "Originate", Channel="Local/hold@moh-hold", Application="Wait", Data="8", Async="true"
    )
    start = await ami.event("MusicOnHoldStart")
    assert start.get("Class") == "default"
    stop = await ami.event("MusicOnHoldStop", within=10)
    assert stop.get("Channel") == start.get("Channel")
    failed = await ami.event("OriginateResponse")  # the held leg never answered (as in s11)
    assert (failed.get("Response"), failed.get("Reason")) == ("Failure", "0")
