"""AMI frames -> typed events: real frames from the transcripts, hostile ones, and the keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callcenter.domain.telephony import (
    AgentCompleted,
    AgentCompleteReason,
    AgentConnected,
    AttendedTransferred,
    BlindTransferred,
    ChannelHungUp,
    ChannelState,
    ChannelVariableSet,
    DialplanStep,
    DtmfDirection,
    DtmfReceived,
    FullyBooted,
    MemberStatus,
    MessageWaiting,
    OriginateReason,
    OriginateResult,
    QueueCallerAbandoned,
    QueueMemberPaused,
    SpyStarted,
    TrackedVariable,
    Unhandled,
)
from callcenter.pbx import channel_vars
from callcenter.pbx.events import (
    EventKeyer,
    EventParser,
    event_key,
    frame_call_key,
    parse_frame,
    untracked_varset,
)
from callcenter.pbx.frames import AmiFrame
from tests.support.transcripts import ami_frames

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def frames_of(transcripts_dir: Path, scenario: str, event: str) -> list[AmiFrame]:
    (path,) = transcripts_dir.glob(f"ami-{scenario}-*.log")
    return [f for f in ami_frames(path) if f.event == event]


def first(transcripts_dir: Path, scenario: str, event: str) -> AmiFrame:
    return frames_of(transcripts_dir, scenario, event)[0]


def channel_frame(event: str, **fields: str) -> AmiFrame:
    base = {
        "Channel": "PJSIP/trunk-00000001",
        "ChannelState": "6",
        "CallerIDNum": "+79161234567",
        "Context": "ivr",
        "Exten": "88001000000",
        "Uniqueid": "1795432716.0",
        "Linkedid": "1795432716.0",
    }
    base.update(fields)
    return AmiFrame.of(("Event", event), *base.items())


# --- typed events from real frames ----------------------------------------------------------


def test_hangup_carries_cause_and_channel_identity(transcripts_dir: Path) -> None:
    event = parse_frame(first(transcripts_dir, "s1", "Hangup"), NOW)

    assert isinstance(event, ChannelHungUp)
    assert event.at == NOW
    assert (event.cause, event.cause_text) == (16, "Normal Clearing")
    assert event.linkedid == "1795432716.0"
    assert event.uniqueid == "1795432728.3"
    assert event.channel == "Local/101@agents-00000001;2"
    assert event.state is ChannelState.UP


def test_agent_events_name_queue_operator_and_times(transcripts_dir: Path) -> None:
    connect = parse_frame(first(transcripts_dir, "s5", "AgentConnect"), NOW)
    complete = parse_frame(first(transcripts_dir, "s5", "AgentComplete"), NOW)

    assert isinstance(connect, AgentConnected)
    assert (connect.queue, connect.interface, connect.member_name) == (
        "line1",
        "Local/103@agents/n",
        "Operator 103",
    )
    assert connect.dest_uniqueid == "1795432872.12"
    assert (connect.hold_time, connect.ring_time) == (0, 0)
    assert isinstance(complete, AgentCompleted)
    assert (complete.talk_time, complete.reason) == (10, AgentCompleteReason.CALLER)


def test_failed_originate_has_no_uniqueid_but_keeps_reason(transcripts_dir: Path) -> None:
    outcomes = {
        f["ActionID"]: parse_frame(f, NOW)
        for f in frames_of(transcripts_dir, "s6", "OriginateResponse")
    }

    busy = outcomes["ob-busy"]
    assert isinstance(busy, OriginateResult)
    assert busy.success is False
    assert busy.outcome is OriginateReason.BUSY
    assert busy.uniqueid is None  # `Uniqueid: <unknown>`
    assert busy.linkedid is None
    assert busy.channel == "Local/busy@outbound-sim"  # the dial string, not a channel
    assert busy.channel_id is None
    human = outcomes["ob-human"]
    assert isinstance(human, OriginateResult)
    assert (human.success, human.reason, human.uniqueid) == (True, 4, "1795432889.14")
    assert human.channel_id == "1795432889.14"
    reasons = {k: v.reason for k, v in outcomes.items() if isinstance(v, OriginateResult)}
    assert reasons == {
        "ob-human": 4,
        "ob-machine": 4,
        "ob-busy": 5,
        "ob-noanswer": 3,
        "ob-congestion": 8,
        "ob-badchan": 0,
    }


def test_failed_originate_of_the_platform_names_its_channel_id() -> None:
    frame = AmiFrame.of(
        ("Event", "OriginateResponse"),
        ("ActionID", "orig-0f0e0d0c-0b0a-4908-8706-050403020100"),
        ("Response", "Failure"),
        ("Channel", "PJSIP/89161234567@trunk"),
        ("Reason", "3"),
        ("Uniqueid", "<unknown>"),
    )

    event = parse_frame(frame, NOW)

    assert isinstance(event, OriginateResult)
    assert event.channel_id == "0f0e0d0c-0b0a-4908-8706-050403020100"
    assert event.outcome is OriginateReason.NO_ANSWER


def test_blind_transfer_belongs_to_the_transferer_call(transcripts_dir: Path) -> None:
    event = parse_frame(first(transcripts_dir, "s10", "BlindTransfer"), NOW)

    assert isinstance(event, BlindTransferred)
    assert event.succeeded
    assert event.linkedid == "aaaaaaaa-0000-0000-0000-000000000001"
    assert event.channel == "Local/script1@callers-00000013;1"
    assert event.transferee_uniqueid == "1795433071.40"
    assert (event.target_exten, event.target_context) == ("201", "agents")
    assert event.is_external


def test_chanspy_belongs_to_the_supervisor_call(transcripts_dir: Path) -> None:
    event = parse_frame(first(transcripts_dir, "s12", "ChanSpyStart"), NOW)

    assert isinstance(event, SpyStarted)
    assert event.linkedid == "1795433732.50"
    assert event.spyee_linkedid == "1795433718.46"
    assert event.spyee_channel == "Local/104@agents-00000018;2"


def test_dtmf_newexten_abandon_and_member_events(transcripts_dir: Path) -> None:
    dtmf = parse_frame(first(transcripts_dir, "s1", "DTMFEnd"), NOW)
    assert isinstance(dtmf, DtmfReceived)
    assert (dtmf.digit, dtmf.duration_ms, dtmf.direction) == ("1", 100, DtmfDirection.RECEIVED)

    step = parse_frame(first(transcripts_dir, "s13", "Newexten"), NOW)
    assert isinstance(step, DialplanStep)
    assert (step.application, step.app_data) == ("AppDial2", "(Outgoing Line)")

    abandon = parse_frame(first(transcripts_dir, "s2", "QueueCallerAbandon"), NOW)
    assert isinstance(abandon, QueueCallerAbandoned)
    assert (abandon.queue, abandon.hold_time, abandon.original_position) == ("line1", 9, 1)

    pause = parse_frame(first(transcripts_dir, "s4", "QueueMemberPause"), NOW)
    assert isinstance(pause, QueueMemberPaused)
    assert (pause.paused, pause.paused_reason) == (True, "lunch")
    assert pause.status is MemberStatus.NOT_INUSE
    assert pause.linkedid is None

    waiting = parse_frame(first(transcripts_dir, "s13", "MessageWaiting"), NOW)
    assert isinstance(waiting, MessageWaiting)
    assert (waiting.mailbox, waiting.waiting, waiting.new_messages) == ("100@default", True, 1)
    assert waiting.linkedid == "1795433754.52"

    booted = parse_frame(first(transcripts_dir, "s1", "FullyBooted"), NOW)
    assert isinstance(booted, FullyBooted)
    assert booted.uptime == 28


def test_only_tracked_variables_become_events(transcripts_dir: Path) -> None:
    parser = EventParser()
    varsets = frames_of(transcripts_dir, "s6", "VarSet")

    events = [p.event for f in varsets if (p := parser.parse(f, NOW)) is not None]

    assert {e.variable for e in events if isinstance(e, ChannelVariableSet)} == {
        TrackedVariable.AMDSTATUS,
        TrackedVariable.AMDCAUSE,
        TrackedVariable.AGISTATUS,
    }
    assert parser.stats.ignored == len(varsets) - len(events)  # CONTACT_ID, PLAYBACKSTATUS...


def test_platform_channel_variables_are_all_tracked() -> None:
    assert set(channel_vars.ALL) <= {v.value for v in TrackedVariable}


def test_replies_are_not_events_and_unknown_names_are_counted() -> None:
    parser = EventParser()

    assert parser.parse(AmiFrame.of(("Response", "Success"), ("ActionID", "x")), NOW) is None
    noise = parser.parse(AmiFrame.of(("Event", "DeviceStateChange"), ("State", "INUSE")), NOW)
    novel = parser.parse(channel_frame("SomethingNew"), NOW)

    assert noise is not None
    assert isinstance(noise.event, Unhandled)
    assert novel is not None
    assert isinstance(novel.event, Unhandled)
    assert novel.event.name == "SomethingNew"
    assert novel.event.linkedid == "1795432716.0"
    stats = parser.stats
    assert stats.unknown == {"SomethingNew": 1}  # DeviceStateChange is known noise
    assert stats.malformed == {}


# --- hostile input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "name"),
    [
        (AmiFrame.of(("Event", "Hangup"), ("Channel", "x"), ("Cause", "16")), "Hangup"),
        (channel_frame("DTMFEnd", Digit="12"), "DTMFEnd"),
        (channel_frame("DTMFEnd", Digit="\x00"), "DTMFEnd"),
        (channel_frame("QueueCallerJoin", Queue=""), "QueueCallerJoin"),
        (channel_frame("Newchannel", Uniqueid="9" * 10_000), "Newchannel"),
        (channel_frame("OriginateResponse", Reason="lots"), "OriginateResponse"),
        (AmiFrame.of(("Event", "BlindTransfer"), ("Result", "Success")), "BlindTransfer"),
        (AmiFrame.of(("Event", "  ")), "<empty>"),
    ],
)
def test_malformed_events_are_dropped_and_counted(frame: AmiFrame, name: str) -> None:
    parser = EventParser()

    assert parser.parse(frame, NOW) is None
    assert parser.stats.malformed == {name: 1}
    assert parser.stats.errors == 0


@pytest.mark.parametrize("cause", ["abc", "99999999999999999999999", "١٦", "-1", "1e3", "", " 16x"])
def test_garbage_numbers_become_none_not_errors(cause: str) -> None:
    event = parse_frame(channel_frame("Hangup", Cause=cause), NOW)

    assert isinstance(event, ChannelHungUp)
    assert event.cause is None


def test_huge_values_are_truncated() -> None:
    event = parse_frame(channel_frame("Newexten", AppData="x" * 200_000, Channel="C" * 5000), NOW)

    assert isinstance(event, DialplanStep)
    assert len(event.app_data) <= 1024
    assert event.channel is not None
    assert len(event.channel) <= 128


def test_lone_surrogates_do_not_break_keys_or_parsing() -> None:
    frame = channel_frame("Hangup", CallerIDNum="\ud800+7916", Cause="16")

    assert isinstance(parse_frame(frame, NOW), ChannelHungUp)
    assert event_key(frame).startswith("v1:")


# --- idempotency keys -----------------------------------------------------------------------


def test_byte_identical_events_get_different_keys(transcripts_dir: Path) -> None:
    # s15: the operator leg sends `DTMFEnd Digit: 2` twice in a row (*2, then 201)
    twos = [
        f
        for f in frames_of(transcripts_dir, "s15", "DTMFEnd")
        if f["Digit"] == "2" and f["Channel"] == "Local/104@agents-00000026;2"
    ]
    assert len(twos) == 2
    assert twos[0].pairs == twos[1].pairs

    keyer = EventKeyer("a")
    assert keyer.key(twos[0]) != keyer.key(twos[1])


def test_same_stream_gets_same_keys_in_any_session(transcripts_dir: Path) -> None:
    (path,) = transcripts_dir.glob("ami-s15-*.log")
    frames = [f for f in ami_frames(path) if f.event]

    keyer_a, keyer_b = EventKeyer("process-1"), EventKeyer("process-2")
    keys_a = [keyer_a.key(f) for f in frames]
    keys_b = [keyer_b.key(f) for f in frames]

    identified = [
        a for a, b, f in zip(keys_a, keys_b, frames, strict=True) if a == b and f.get("Uniqueid")
    ]
    assert len(identified) == sum(1 for f in frames if f.get("Uniqueid"))
    # frames naming no channel (DeviceStateChange...) are scoped by session
    device = [
        (a, b)
        for a, b, f in zip(keys_a, keys_b, frames, strict=True)
        if f.event == "DeviceStateChange"
    ]
    assert device
    assert all(a != b for a, b in device)


def test_event_key_is_pure_and_content_sensitive() -> None:
    frame = channel_frame("Hangup", Cause="16")
    same = channel_frame("Hangup", Cause="16")
    other = channel_frame("Hangup", Cause="17")
    reordered = AmiFrame(tuple(reversed(frame.pairs)))

    assert event_key(frame) == event_key(same)
    assert event_key(frame) != event_key(other)
    assert event_key(frame) != event_key(reordered)
    assert event_key(frame) != event_key(frame, occurrence=1)
    assert len(event_key(frame)) <= 128  # telephony_events.event_key width


def test_keyer_counts_repeats_within_the_window_and_then_forgets() -> None:
    keyer = EventKeyer("a", window=timedelta(minutes=5))
    frame = channel_frame("DTMFEnd", Digit="2")

    first = keyer.key(frame, NOW)
    second = keyer.key(frame, NOW + timedelta(minutes=4))
    assert first != second  # a second key press within minutes: a new event

    keyer.key(channel_frame("Hangup", Cause="16"), NOW + timedelta(minutes=10))
    assert len(keyer) == 1  # the DTMF content was forgotten


def test_keyer_memory_stays_bounded_under_steady_traffic() -> None:
    keyer = EventKeyer("a", max_tracked=100_000, window=timedelta(minutes=5))
    sizes = []
    for second in range(1_800):  # half an hour, 20 distinct frames a second
        for n in range(20):
            frame = channel_frame("Newexten", Uniqueid=f"{second}.{n}")
            keyer.key(frame, NOW + timedelta(seconds=second))
        sizes.append(len(keyer))

    assert max(sizes) <= 20 * 301
    assert sizes[600] == sizes[-1]

    capped = EventKeyer("b", max_tracked=50)
    for n in range(200):
        capped.key(channel_frame("Newexten", Uniqueid=f"x.{n}"), NOW)
    assert len(capped) == 50


def test_a_forgotten_frame_without_identity_keeps_a_key_of_its_own() -> None:
    """DeviceStateChange repeats all day; once the keyer forgot its content, the next one
    must not take the first one's key (the journal would drop it as a duplicate)."""
    keyer = EventKeyer("a", window=timedelta(minutes=5))
    device = AmiFrame.of(
        ("Event", "DeviceStateChange"), ("Device", "PJSIP/101"), ("State", "INUSE")
    )

    first = keyer.key(device, NOW)
    keyer.key(channel_frame("Hangup"), NOW + timedelta(minutes=6))  # `device` is forgotten
    again = keyer.key(device, NOW + timedelta(minutes=7))

    assert again != first


# --- ordering key -----------------------------------------------------------------------------


def test_frame_call_key_finds_the_call_of_every_event(transcripts_dir: Path) -> None:
    assert frame_call_key(first(transcripts_dir, "s10", "BlindTransfer")) == (
        "aaaaaaaa-0000-0000-0000-000000000001"
    )
    assert frame_call_key(first(transcripts_dir, "s12", "ChanSpyStart")) == "1795433732.50"
    assert frame_call_key(first(transcripts_dir, "s1", "Hangup")) == "1795432716.0"
    ours = "0f0e0d0c-0b0a-4908-8706-050403020100"
    failed = AmiFrame.of(
        ("Event", "OriginateResponse"),
        ("ActionID", f"orig-{ours}"),
        ("Response", "Failure"),
        ("Reason", "5"),
        ("Uniqueid", "<unknown>"),
    )
    assert frame_call_key(failed) == ours
    assert frame_call_key(first(transcripts_dir, "s1", "DeviceStateChange")) == ""


def test_attended_transfer_as_documented_belongs_to_the_original_transferer() -> None:
    # No transcript completes an attended transfer (s15 only starts one); header layout from
    # Asterisk's AttendedTransfer documentation: OrigTransferer*, SecondTransferer*, DestType.
    frame = AmiFrame.of(
        ("Event", "AttendedTransfer"),
        ("Result", "Success"),
        ("OrigTransfererChannel", "PJSIP/op101-00000002"),
        ("OrigTransfererUniqueid", "1795440000.11"),
        ("OrigTransfererLinkedid", "1795440000.10"),
        ("OrigBridgeUniqueid", "b-1"),
        ("SecondTransfererChannel", "PJSIP/op101-00000003"),
        ("SecondTransfererUniqueid", "1795440000.12"),
        ("SecondTransfererLinkedid", "1795440000.12"),
        ("DestType", "Bridge"),
        ("DestBridgeUniqueid", "b-1"),
        ("TransferTargetChannel", "PJSIP/spec201-00000004"),
        ("TransferTargetUniqueid", "1795440000.13"),
        ("TransferTargetExten", "201"),
        ("IsExternal", "No"),
    )

    event = parse_frame(frame, NOW)

    assert isinstance(event, AttendedTransferred)
    assert event.succeeded
    assert (event.linkedid, event.uniqueid) == ("1795440000.10", "1795440000.11")
    assert event.second_transferer_linkedid == "1795440000.12"
    assert (event.dest_type, event.target_exten) == ("Bridge", "201")
    assert not event.is_external
    assert frame_call_key(frame) == "1795440000.10"


@pytest.mark.parametrize(
    "pairs",
    [
        [("Event", "VarSet"), ("Channel", "PJSIP/trunk-1"), ("Variable", "CALL_UUID")],
        [("Event", "VarSet"), ("Channel", "PJSIP/trunk-1"), ("Variable", "__IVR_PATH")],
        [("Event", "VarSet"), ("Channel", "PJSIP/trunk-1"), ("variable", " QUEUESTATUS ")],
        [("Event", "VarSet"), ("Channel", "PJSIP/trunk-1"), ("Variable", "BRIDGEPEER")],
        [("Event", "VarSet"), ("Channel", "PJSIP/trunk-1"), ("Variable", "call_uuid")],
        [("Event", "VarSet"), ("Channel", "PJSIP/trunk-1")],
        [("event", "varset"), ("Channel", "PJSIP/trunk-1"), ("Variable", "DIALSTATUS")],
        [("Event", "Newexten"), ("Channel", "PJSIP/trunk-1"), ("Variable", "BRIDGEPEER")],
    ],
)
def test_the_readers_skip_drops_exactly_the_varsets_the_parser_drops(
    pairs: list[tuple[str, str]],
) -> None:
    full = [*pairs, ("Uniqueid", "1795440000.1"), ("Linkedid", "1795440000.1"), ("Value", "x")]
    frame = AmiFrame(tuple(full))
    parsed = parse_frame(frame, datetime(2026, 12, 7, tzinfo=UTC))

    assert untracked_varset(full) == (parsed is None)
