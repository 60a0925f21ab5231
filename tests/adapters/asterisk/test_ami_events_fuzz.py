"""Property: no frame, however hostile, makes the parser, the keyer or the tracker raise."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callcenter.domain.calls import CallTracker
from callcenter.domain.telephony import TelephonyEvent
from callcenter.pbx.events import EventParser, event_key, parse_frame
from callcenter.pbx.frames import AmiFrame, FrameDecoder

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

EVENT_NAMES = [
    "Newchannel", "Newstate", "NewCallerid", "Hangup", "Newexten", "VarSet", "AGIExecStart",
    "AGIExecEnd", "DTMFEnd", "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon",
    "AgentCalled", "AgentConnect", "AgentComplete", "AgentRingNoAnswer", "AgentDump",
    "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberStatus", "QueueMemberPause",
    "QueueMemberPenalty", "BridgeEnter", "BridgeLeave", "BlindTransfer", "AttendedTransfer",
    "MixMonitorStart", "MixMonitorStop", "MusicOnHoldStart", "MusicOnHoldStop", "ChanSpyStart",
    "ChanSpyStop", "ConfbridgeJoin", "ConfbridgeLeave", "MessageWaiting", "OriginateResponse",
    "FullyBooted", "DeviceStateChange", "hangup", "HANGUP",
]  # fmt: skip
FIELD_NAMES = [
    "Channel", "Uniqueid", "Linkedid", "ChannelState", "CallerIDNum", "CallerIDName",
    "Context", "Exten", "Extension", "Application", "AppData", "Cause", "Cause-txt", "Digit",
    "Direction", "DurationMs", "Variable", "Value", "Queue", "Position", "Count", "HoldTime",
    "TalkTime", "RingTime", "Reason", "Interface", "MemberName", "DestUniqueid", "Status",
    "Paused", "InCall", "BridgeUniqueid", "BridgeNumChannels", "Result", "ActionID",
    "Response", "TransfererLinkedid", "TransfererUniqueid", "TransfereeLinkedid",
    "OrigTransfererLinkedid", "SpyerUniqueid", "SpyerLinkedid", "Mailbox", "Waiting",
    "Conference", "CommandId", "Command", "ResultCode", "Uptime", "Extension",
]  # fmt: skip
IDS = ["1795432716.0", "1795432716.1", "<unknown>", "", "orig-1", "x" * 80]
VARIABLES = ["CALL_UUID", "IVR_PATH", "IVR_CLOSED", "AMDSTATUS", "CUSTOMER_ID", "__CALL_UUID"]

values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(IDS + VARIABLES),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["6", "16", "4", "1", "Received", "Success", "caller", "0", " 7 "]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.text(alphabet="\x00\r\n\t\x1b\u202e\ud800 ", max_size=10),
)
pairs = st.tuples(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12)), values)
frames = st.builds(
    lambda name, rest: AmiFrame((("Event", name), *rest)),
    st.one_of(st.sampled_from(EVENT_NAMES), st.text(max_size=20)),
    st.lists(pairs, max_size=25),
)

# Frames of one call (shared Linkedid, a few channels) with random fields on top, so the
# tracker sees long, mutilated but plausible sequences rather than mostly malformed frames.
call_frames = st.builds(
    lambda name, uniqueid, rest: AmiFrame(
        (
            ("Event", name),
            ("Channel", f"PJSIP/trunk-{uniqueid}"),
            ("Uniqueid", uniqueid),
            ("Linkedid", "1795432716.0"),
            *rest,
        )
    ),
    st.sampled_from(EVENT_NAMES),
    st.sampled_from(["1795432716.0", "1795432716.1", "1795432716.2"]),
    st.lists(pairs, max_size=12),
)

fuzz = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.slow
@fuzz
@given(st.lists(frames, max_size=30))
def test_random_frames_never_raise(batch: list[AmiFrame]) -> None:
    parser = EventParser(session="fuzz")
    tracker = CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})
    for i, frame in enumerate(batch):
        at = NOW + timedelta(seconds=i)
        event = parse_frame(frame, at)
        assert event is None or isinstance(event, TelephonyEvent)
        event_key(frame, occurrence=i, session="s")
        parsed = parser.parse(frame, at)
        if parsed is not None:
            tracker.apply(parsed.event, parsed.key)
    for linkedid in tracker.open_linkedids():
        record = tracker.close_interrupted(linkedid, NOW + timedelta(hours=1))
        assert record is not None
        assert record.ended_at is not None
    assert parser.stats.errors == 0


@pytest.mark.slow
@fuzz
@given(st.lists(call_frames, min_size=1, max_size=60))
def test_mutilated_call_sequences_never_raise(batch: list[AmiFrame]) -> None:
    parser = EventParser(session="fuzz")
    tracker = CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})
    typed = 0
    for i, frame in enumerate(batch):
        parsed = parser.parse(frame, NOW + timedelta(seconds=i))
        if parsed is None:
            continue
        typed += 1
        update = tracker.apply(parsed.event, parsed.key)
        if update is not None:
            record = update.record
            assert record == tracker.get(record.linkedid)
            assert record.transfer_count == len(record.transfers)
            if record.ended_at is not None:
                assert record.started_at <= record.ended_at
                for seconds in (record.wait_seconds, record.talk_seconds, record.ivr_seconds):
                    assert seconds is None or seconds >= 0
    assert parser.stats.errors == 0
    assert typed == parser.stats.events


@fuzz
@given(st.binary(max_size=2000))
def test_random_bytes_through_the_real_decoder_never_raise(data: bytes) -> None:
    parser = EventParser()
    tracker = CallTracker()
    for frame in FrameDecoder().feed(data + b"\r\n\r\n"):
        parsed = parser.parse(frame, NOW)
        if parsed is not None:
            tracker.apply(parsed.event, parsed.key)
    assert parser.stats.errors == 0
