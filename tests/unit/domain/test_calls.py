"""CallTracker edge cases: duplicates, hostile caller id, reordering, interruption, ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callcenter.domain.calls import (
    CallRecord,
    CallTracker,
    CallUpdate,
    Direction,
    Disposition,
    call_id_for_linkedid,
    clean_text,
)
from callcenter.domain.telephony import (
    AgentCalled,
    AgentCompleted,
    AgentConnected,
    AgentRingNoAnswer,
    AttendedTransferred,
    BlindTransferred,
    BridgeEntered,
    ChannelCreated,
    ChannelHungUp,
    ChannelState,
    ChannelStateChanged,
    ChannelVariableSet,
    DialplanStep,
    DtmfDirection,
    DtmfReceived,
    OriginateResult,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberAdded,
    TelephonyEvent,
    TrackedVariable,
    Unhandled,
)
from callcenter.domain.transfers import TransferKind

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LID = "1795440000.10"
CALLER = LID  # the first channel's Uniqueid is the Linkedid
AGENT = "1795440000.11"
OPERATOR = "PJSIP/op101"


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def on(uniqueid: str = CALLER, linkedid: str = LID, **fields: Any) -> dict[str, Any]:
    """Channel snapshot fields of an event on `uniqueid`."""
    caller = uniqueid == CALLER
    base: dict[str, Any] = {
        "linkedid": linkedid,
        "uniqueid": uniqueid,
        "channel": "PJSIP/trunk-00000001" if caller else "PJSIP/op101-00000002",
        "caller_id_num": "+79161234567",
        "caller_id_name": "Ivanov Ivan",
        "context": "ivr" if caller else "agents",
        "exten": "88001000000" if caller else "101",
        "state": ChannelState.UP,
    }
    base.update(fields)
    return base


def created(s: float, uniqueid: str = CALLER, **fields: Any) -> ChannelCreated:
    return ChannelCreated(name="Newchannel", at=t(s), **on(uniqueid, **fields))


def hangup(s: float, uniqueid: str = CALLER, cause: int = 16, **fields: Any) -> ChannelHungUp:
    return ChannelHungUp(name="Hangup", at=t(s), cause=cause, **on(uniqueid, **fields))


def dtmf(s: float, digit: str, uniqueid: str = CALLER, **fields: Any) -> DtmfReceived:
    direction = fields.pop("direction", DtmfDirection.RECEIVED)
    return DtmfReceived(
        name="DTMFEnd", at=t(s), digit=digit, direction=direction, **on(uniqueid, **fields)
    )


def joined(s: float, queue: str = "line1") -> QueueCallerJoined:
    return QueueCallerJoined(name="QueueCallerJoin", at=t(s), queue=queue, **on())


def left(s: float) -> QueueCallerLeft:
    return QueueCallerLeft(name="QueueCallerLeave", at=t(s), queue="line1", **on())


def connected(s: float) -> AgentConnected:
    return AgentConnected(
        name="AgentConnect",
        at=t(s),
        queue="line1",
        interface=OPERATOR,
        member_name="Operator 101",
        dest_uniqueid=AGENT,
        **on(),
    )


def completed(s: float) -> AgentCompleted:
    return AgentCompleted(
        name="AgentComplete", at=t(s), queue="line1", interface=OPERATOR, **on(), talk_time=8
    )


def variable(s: float, name: TrackedVariable, value: str, **fields: Any) -> ChannelVariableSet:
    return ChannelVariableSet(name="VarSet", at=t(s), variable=name, value=value, **on(**fields))


def step(s: float, application: str, uniqueid: str = CALLER, **fields: Any) -> DialplanStep:
    return DialplanStep(name="Newexten", at=t(s), application=application, **on(uniqueid, **fields))


def feed(tracker: CallTracker, *events: TelephonyEvent) -> list[CallUpdate]:
    updates = [tracker.apply(event) for event in events]
    return [u for u in updates if u is not None]


def record(tracker: CallTracker, linkedid: str = LID) -> CallRecord:
    found = tracker.get(linkedid)
    assert found is not None
    return found


@pytest.fixture
def tracker() -> CallTracker:
    return CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})


def answered_until_talk(tracker: CallTracker) -> None:
    """Caller presses 1, waits 2 s in line1, operator 101 answers at t=12."""
    feed(
        tracker,
        created(0),
        dtmf(3, "1"),
        joined(10),
        created(10, AGENT),
        left(12),
        connected(12),
    )


def test_answered_inbound_call_record(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    updates = feed(tracker, completed(20), hangup(20, AGENT), hangup(20.1))

    call = updates[-1].record
    assert updates[-1].ended_now
    assert call.id == call_id_for_linkedid(LID)
    assert call.direction is Direction.INBOUND
    assert call.disposition is Disposition.ANSWERED
    assert (call.caller_number, call.dialled_number) == (
        "+79161234567",
        "+78001000000",
    )  # stored in E.164
    assert call.ivr_path == ("1",)
    assert call.ivr_seconds == 10.0
    assert call.wait_seconds == 2.0
    assert call.answered_at == t(12)
    assert call.talk_seconds == 8.0
    assert call.ended_at == t(20.1)


# --- duplicates -------------------------------------------------------------------------------


def test_a_duplicate_event_changes_the_record_once(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    ring = AgentRingNoAnswer(name="AgentRingNoAnswer", at=t(11), queue="line1", **on())
    key = dtmf(4, "2")

    assert tracker.apply(ring, "k-ring") is not None
    assert tracker.apply(ring, "k-ring") is None
    assert tracker.apply(key, "k-dtmf") is None  # after the queue join: not an IVR key
    assert tracker.apply(hangup(30, AGENT), "k-hup-agent") is None  # nothing visible changed
    assert tracker.apply(hangup(31), "k-hup") is not None
    assert tracker.apply(hangup(31), "k-hup") is None

    call = record(tracker)
    assert call.ring_no_answer_count == 1
    assert call.ended_at == t(31)


def test_duplicate_keys_do_not_double_ivr_digits(tracker: CallTracker) -> None:
    feed(tracker, created(0))
    tracker.apply(dtmf(2, "7"), "same")
    tracker.apply(dtmf(2, "7"), "same")
    tracker.apply(dtmf(3, "7"), "repeat")  # the caller really pressed 7 again

    assert record(tracker).ivr_path == ("7", "7")


# --- hostile input ----------------------------------------------------------------------------


def test_hostile_caller_id_is_cleaned_and_bounded(tracker: CallTracker) -> None:
    feed(
        tracker,
        created(
            0,
            caller_id_num="+7 916\x00123\r\n45\u202e67" + "9" * 5000,
            caller_id_name="Иван\x1b[2J\u200b\tПетров\n" + "я" * 5000,
        ),
    )

    call = record(tracker)
    assert call.caller_number.startswith("+79161234567")
    assert len(call.caller_number) == 32
    assert call.caller_name is not None
    assert call.caller_name.startswith("Иван[2J Петров я")
    assert len(call.caller_name) <= 128
    assert all(ch.isprintable() for ch in call.caller_number + call.caller_name)


@pytest.mark.parametrize("value", ["", "\x00\x01", "\u202e\u200b", None, "   "])
def test_empty_or_invisible_text_becomes_none(value: str | None) -> None:
    assert clean_text(value, 32) is None


def test_hostile_ivr_path_variable_is_bounded(tracker: CallTracker) -> None:
    feed(tracker, created(0), variable(1, TrackedVariable.IVR_PATH, "main/1/" + "x" * 10_000))
    feed(tracker, variable(2, TrackedVariable.IVR_PATH, "/".join(["1"] * 1000)))

    path = record(tracker).ivr_path
    assert len(path) == 64
    assert all(node == "1" for node in path)


def test_ivr_path_variable_wins_over_digits(tracker: CallTracker) -> None:
    feed(tracker, created(0), dtmf(2, "1"), variable(3, TrackedVariable.IVR_PATH, "main/outages"))

    assert record(tracker).ivr_path == ("main", "outages")


# --- reordering and late events ---------------------------------------------------------------


def test_hangup_before_agent_complete(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    (ending,) = feed(tracker, hangup(20, AGENT), hangup(20.1))
    assert ending.ended_now
    assert ending.record.talk_seconds == pytest.approx(8.1)

    # Asterisk's AgentComplete arrives after the last Hangup: nothing left to change
    assert tracker.apply(completed(20.3)) is None
    call = record(tracker)
    assert call.talk_seconds == pytest.approx(8.1)
    assert call.ended_at == t(20.1)
    assert call.disposition is Disposition.ANSWERED


def test_abandon_reported_after_the_last_hangup(tracker: CallTracker) -> None:
    feed(tracker, created(0), joined(5))
    (ending,) = feed(tracker, hangup(14))
    assert ending.record.disposition is Disposition.ABANDONED
    assert ending.record.wait_seconds == 9.0

    abandon = QueueCallerAbandoned(
        name="QueueCallerAbandon", at=t(14.2), queue="line1", hold_time=9, **on()
    )
    tracker.apply(abandon)

    call = record(tracker)
    assert call.disposition is Disposition.ABANDONED
    assert call.wait_seconds == 9.0  # not stretched past the end of the call


def test_late_ivr_closed_fixes_the_disposition(tracker: CallTracker) -> None:
    (ending,) = feed(tracker, created(0), hangup(30))
    assert ending.record.disposition is Disposition.HUNG_UP_IN_IVR

    # the FastAGI side sets variables after the hangup too (s3 sets IVR_TARGET that way)
    update = tracker.apply(variable(30.1, TrackedVariable.IVR_CLOSED, "1"))

    assert update is not None
    assert not update.ended_now
    assert update.record.disposition is Disposition.CLOSED_BY_IVR
    assert update.record.ivr_closed


def test_late_event_never_reopens_a_call(tracker: CallTracker) -> None:
    feed(tracker, created(0), hangup(5))

    feed(tracker, created(6, "1795440000.99"), dtmf(6.5, "5"), hangup(7, "1795440000.99"))

    call = record(tracker)
    assert call.ended_at == t(5)
    assert call.ivr_path == ()
    assert tracker.open_linkedids() == frozenset()


def test_redirect_and_blind_transfer_event_for_one_move(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    blind = BlindTransferred(
        name="BlindTransfer",
        at=t(15),
        result="Success",
        target_context="agents",
        target_exten="201",
        **on(AGENT),
    )
    # the dispatcher may hand the BlindTransfer over after the caller's next dialplan step
    moved = step(15.01, "Wait", context="agents", exten="201")
    feed(tracker, moved, blind, step(16, "Hangup", context="agents", exten="201"))

    call = record(tracker)
    assert call.transfer_count == 1
    (transfer,) = call.transfers
    assert (transfer.kind, transfer.to_target) == (TransferKind.BLIND, "201@agents")
    assert transfer.from_operator == OPERATOR


def test_attended_transfer_counts_once_per_success(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    failed = AttendedTransferred(
        name="AttendedTransfer", at=t(14), result="Fail", dest_type="Fail", **on(AGENT)
    )
    done = AttendedTransferred(
        name="AttendedTransfer", at=t(18), result="Success", target_exten="201", **on(AGENT)
    )
    feed(tracker, failed, done)

    (transfer,) = record(tracker).transfers
    assert (transfer.kind, transfer.to_target, transfer.at) == (TransferKind.ATTENDED, "201", t(18))


def test_dialplan_after_agent_complete_is_not_a_transfer(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    feed(tracker, completed(20), step(20.1, "NoOp", context="ivr"))

    assert record(tracker).transfer_count == 0


# --- where the IVR ends -----------------------------------------------------------------------


def test_only_the_callers_received_digits_in_the_ivr_count(tracker: CallTracker) -> None:
    feed(
        tracker,
        created(0),
        dtmf(1, "1"),
        dtmf(2, "9", direction=DtmfDirection.SENT),
        dtmf(3, "*", uniqueid=AGENT),
        joined(4),
        dtmf(5, "2"),
    )

    assert record(tracker).ivr_path == ("1",)


@pytest.mark.parametrize(
    ("events", "disposition"),
    [
        ([variable(5, TrackedVariable.IVR_CLOSED, "1")], Disposition.CLOSED_BY_IVR),
        ([variable(5, TrackedVariable.AGISTATUS, "FAILURE")], Disposition.FAILED),
        ([joined(5), variable(65, TrackedVariable.QUEUESTATUS, "TIMEOUT")], Disposition.FAILED),
        (
            [
                joined(5),
                variable(65, TrackedVariable.QUEUESTATUS, "TIMEOUT"),
                step(65, "VoiceMail"),
            ],
            Disposition.VOICEMAIL,
        ),
        ([joined(5)], Disposition.ABANDONED),
        ([], Disposition.HUNG_UP_IN_IVR),
    ],
)
def test_how_an_inbound_call_ended(
    tracker: CallTracker, events: list[TelephonyEvent], disposition: Disposition
) -> None:
    feed(tracker, created(0), *events, hangup(70))

    assert record(tracker).disposition is disposition


# --- interruption and restart -----------------------------------------------------------------


def test_close_interrupted(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    feed(tracker, DialplanStep(name="Newexten", at=t(15), application="Wait", **on(AGENT)))

    call = tracker.close_interrupted(LID, t(100))

    assert call is not None
    assert call.disposition is Disposition.INTERRUPTED
    assert call.ended_at == t(100)
    assert call.talk_seconds == 3.0  # up to the last event seen, not up to the restart
    assert tracker.open_linkedids() == frozenset()
    assert tracker.close_interrupted(LID, t(101)) is None
    assert tracker.close_interrupted("no-such-call", t(101)) is None


def test_restored_call_keeps_its_id_and_ends_on_hangup(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    stored = record(tracker)
    fresh = CallTracker(inbound_numbers={"88001000000"})
    fresh.restore(stored)
    assert fresh.open_linkedids() == {LID}

    # after our restart Asterisk goes on: the operator's leg, then the caller, hang up
    fresh.apply(hangup(30, AGENT))
    assert record(fresh).is_open  # the caller's channel is still up
    (ending,) = feed(fresh, hangup(31))

    assert ending.ended_now
    assert ending.record.id == stored.id
    assert ending.record.disposition is Disposition.ANSWERED
    assert ending.record.operator_interface == OPERATOR
    # what was measured before the restart survives it
    assert (ending.record.wait_seconds, ending.record.ivr_seconds) == (2.0, 10.0)
    assert ending.record.ivr_path == ("1",)
    assert ending.record.talk_seconds == 19.0  # from the answer at t=12 to the end at t=31


def test_call_first_seen_mid_way_waits_for_its_primary_channel(tracker: CallTracker) -> None:
    feed(tracker, DialplanStep(name="Newexten", at=t(0), application="Wait", **on(AGENT)))
    feed(tracker, hangup(1, AGENT))
    assert record(tracker).is_open  # legs we never saw may still be up

    feed(tracker, hangup(2))
    call = record(tracker)
    assert call.partial
    assert call.ended_at == t(2)


# --- ids and originate ------------------------------------------------------------------------


def test_call_id_for_linkedid() -> None:
    assert call_id_for_linkedid("1795432716.0") == call_id_for_linkedid("1795432716.0")
    assert call_id_for_linkedid("1795432716.0") != call_id_for_linkedid("1795432716.1")
    chosen = "11111111-2222-3333-4444-555555555555"
    assert call_id_for_linkedid(chosen) == uuid.UUID(chosen)


def test_call_uuid_from_originate_variables_names_the_call(tracker: CallTracker) -> None:
    ours = uuid.UUID("0f0e0d0c-0b0a-4908-8706-050403020100")
    out = {"context": "outbound", "exten": "s"}
    setup = feed(
        tracker,
        created(0, **out),
        step(0, "AppDial2", **out),
        variable(0, TrackedVariable.CALL_UUID, str(ours), **out),
    )
    assert setup == []  # held back until the call is more than its setup

    (first,) = feed(tracker, ChannelStateChanged(name="Newstate", at=t(1), **on(**out)))
    assert first.record.id == ours
    assert first.record.direction is Direction.OUTBOUND

    feed(tracker, variable(2, TrackedVariable.CALL_UUID, str(uuid.uuid4()), **out))
    assert record(tracker).id == ours  # published ids never change


def test_failed_originate_that_made_no_channel(tracker: CallTracker) -> None:
    ours = "0f0e0d0c-0b0a-4908-8706-050403020100"
    response = OriginateResult(
        name="OriginateResponse",
        at=t(5),
        channel="PJSIP/89161234567@trunk",
        action_id=f"orig-{ours}",
        success=False,
        reason=5,
        channel_id=ours,
    )

    update = tracker.apply(response)

    assert update is not None
    assert update.ended_now
    call = update.record
    assert (call.id, call.linkedid) == (uuid.UUID(ours), ours)
    assert call.direction is Direction.OUTBOUND
    assert call.disposition is Disposition.FAILED
    assert call.originate_reason == 5
    assert call.dialled_number == "+79161234567"  # stored in E.164


def test_failed_originate_found_by_its_dial_string(tracker: CallTracker) -> None:
    dialled = {
        "channel": "Local/busy@outbound-sim-0000000a;1",
        "context": "outbound-sim",
        "exten": "busy",
    }
    other_half = "1795440000.12"  # a Local channel's ;2
    feed(tracker, created(0, **dialled), created(0, other_half), step(0, "AppDial2", **dialled))
    failure = OriginateResult(
        name="OriginateResponse",
        at=t(0.5),
        channel="Local/busy@outbound-sim",
        action_id="ob-busy",
        success=False,
        reason=5,
    )
    feed(
        tracker,
        failure,
        hangup(0.6, cause=0, **dialled),
        hangup(0.6, "1795440000.12", cause=17, **dialled),
    )

    call = record(tracker)
    assert call.originate_action_id == "ob-busy"
    assert call.disposition is Disposition.FAILED
    assert call.hangup_cause == 17  # the first channel said 0 (Unknown)
    assert len(tracker.open_calls()) == 0


def test_internal_call_answered_when_two_channels_are_bridged(tracker: CallTracker) -> None:
    ext = {"context": "internal", "exten": "201"}
    feed(tracker, created(0, **ext), created(0, AGENT))
    bridge = BridgeEntered(name="BridgeEnter", at=t(3), bridge_id="b1", num_channels=2, **on(**ext))
    feed(tracker, bridge, hangup(10, **ext), hangup(10, AGENT))

    call = record(tracker)
    assert call.direction is Direction.INTERNAL
    assert call.disposition is Disposition.ANSWERED
    assert call.answered_at == t(3)
    assert call.talk_seconds == 7.0


def test_events_about_no_call_are_ignored(tracker: CallTracker) -> None:
    member = QueueMemberAdded(name="QueueMemberAdded", at=t(0), queue="line1", interface="x")
    noise = Unhandled(name="DeviceStateChange", at=t(0))

    assert tracker.apply(member) is None
    assert tracker.apply(noise) is None
    assert tracker.open_calls() == []


def test_second_operator_after_a_requeue_is_who_transfers(tracker: CallTracker) -> None:
    answered_until_talk(tracker)
    second = AgentConnected(
        name="AgentConnect", at=t(30), queue="line2", interface="PJSIP/op201", **on()
    )
    blind = BlindTransferred(
        name="BlindTransfer",
        at=t(40),
        result="Success",
        target_context="ivr",
        target_exten="s",
        **on("1795440000.20"),
    )
    feed(tracker, completed(25), second, blind)

    call = record(tracker)
    assert call.operator_interface == OPERATOR  # who answered the call
    assert call.transfers[-1].from_operator == "PJSIP/op201"  # who handed it on
    assert call.queue_name == "line1"
    assert call.wait_seconds == 2.0  # the first wait is what the caller felt


def test_the_wait_goes_on_across_a_wait_announcement(tracker: CallTracker) -> None:
    # the ACD takes the caller out of Queue() to say the expected wait, then back in
    feed(tracker, created(0), joined(10), left(40), joined(45), created(70, AGENT))
    updates = feed(tracker, left(96), connected(96), completed(120), hangup(120, AGENT))
    updates += feed(tracker, hangup(120.1))
    call = updates[-1].record
    assert call.disposition is Disposition.ANSWERED
    assert call.wait_seconds == 86.0


def test_the_recording_notice_version_is_kept(tracker: CallTracker) -> None:
    feed(tracker, created(0), variable(2, TrackedVariable.RECORDING_NOTICE, "2025-01"))
    updates = feed(tracker, joined(10), hangup(11))
    assert updates[-1].record.recording_notice_version == "2025-01"


def test_every_ring_of_an_operator_is_a_leg(tracker: CallTracker) -> None:
    first = on()  # Agent* events are about the queued caller; dest_* is the operator leg
    feed(tracker, created(0), joined(10))
    feed(
        tracker,
        AgentCalled(name="AgentCalled", at=t(11), **first, queue="line1",
                    interface="PJSIP/102", dest_uniqueid="leg-102", dest_channel="PJSIP/102-1"),
        AgentRingNoAnswer(name="AgentRingNoAnswer", at=t(26), **first, queue="line1",
                          interface="PJSIP/102", dest_uniqueid="leg-102"),
    )  # fmt: skip
    updates = feed(tracker, hangup(30))
    (leg,) = updates[-1].record.operator_legs
    assert (leg.interface, leg.rang_at, leg.answered_at, leg.ended_at) == (
        "PJSIP/102",
        t(11),
        None,
        t(26),
    )


def test_an_operators_dial_out_is_their_outbound_call_to_the_number_dialled(
    tracker: CallTracker,
) -> None:
    """Issue 16, row 6: Originate rings the operator's phone (its caller ID shows the callee),
    then dials out; the record names the operator, the number and the direction."""
    phone = {
        "channel": "PJSIP/op101-00000007",
        "caller_id_num": "+79157001122",  # what the operator's display shows
        "caller_id_name": "",
        "context": "outbound",
        "exten": "89157001122",
    }
    tracker.apply(created(0, **phone))
    for variable, value in (
        (TrackedVariable.DIAL_OPERATOR, "PJSIP/op101"),
        (TrackedVariable.DIAL_NUMBER, "+79157001122"),
    ):
        tracker.apply(
            ChannelVariableSet(
                name="VarSet", at=t(0), variable=variable, value=value, **on(**phone)
            )
        )
    update = tracker.apply(hangup(30, **phone))
    assert update is not None
    call = update.record
    assert call.direction is Direction.OUTBOUND
    assert call.operator_interface == "PJSIP/op101"
    assert (call.caller_number, call.dialled_number) == ("op101", "+79157001122")


# --- bounded memory -------------------------------------------------------------------------


def test_a_replay_within_the_window_is_ignored_and_old_keys_are_forgotten() -> None:
    tracker = CallTracker(inbound_numbers={"88001000000"}, key_window=timedelta(minutes=5))
    feed(tracker, created(0))
    assert tracker.apply(dtmf(2, "7"), "k-7") is not None
    assert tracker.apply(dtmf(2, "7"), "k-7") is None  # an AMI reconnect replaying it

    tracker.apply(dtmf(400, "8"), "k-8")  # more than 5 minutes later
    assert tracker.memory_sizes()["event_keys"] == 1  # "k-7" is forgotten


def test_memory_levels_off_under_steady_traffic() -> None:
    """An hour of calls (one every 2 s, 30 s each, 10 events): the tracker's caches hold
    what the last few minutes brought, and from minute 10 on they no longer grow."""
    tracker = CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})
    sizes = []
    for n in range(1_800):
        lid = f"1795440000.{n}"
        begin = n * 2.0
        events: list[TelephonyEvent] = [
            created(begin, lid, linkedid=lid),
            *(dtmf(begin + 1 + i, "1", lid, linkedid=lid) for i in range(8)),
            hangup(begin + 30, lid, linkedid=lid),
        ]
        for i, event in enumerate(events):
            tracker.apply(event, f"{lid}:{i}")
        sizes.append(tracker.memory_sizes())

    last = sizes[-1]
    assert last["open_calls"] <= 16
    assert last["closed_calls"] <= 5 * 60 / 2 + 1  # ended in the last 5 minutes
    assert last["event_keys"] <= 10 * (5 * 60 / 2 + 16)
    assert last["channels"] <= last["open_calls"] + last["closed_calls"]
    assert sizes[300] == last  # minute 10: already the steady state


def test_a_campaign_call_is_numbered_in_e164_like_a_manual_one(tracker: CallTracker) -> None:
    """Issue 16, row 6: the dialer's `Local/89162220001@outbound` names the number in the
    trunk's 8-prefixed form; the record keeps it in E.164, the one form searches expect."""
    leg = {
        "channel": "Local/89162220001@outbound-0000000b;1",
        "caller_id_num": "88001000000",
        "context": "outbound",
        "exten": "89162220001",
    }
    feed(tracker, created(0, **leg), step(0, "AppDial2", **leg))
    update = tracker.apply(hangup(30, **leg))
    assert update is not None
    assert update.record.direction is Direction.OUTBOUND
    assert update.record.dialled_number == "+79162220001"
