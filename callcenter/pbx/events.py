"""AMI event frames -> typed telephony events, plus idempotency keys for the event journal.

`parse_frame` is total: whatever a frame holds (missing fields, garbage or huge numbers,
megabyte values, control characters) it returns an event or None and never raises. Frames
that are not events (action replies) give None; events we do not interpret give `Unhandled`;
a VarSet of a variable outside `TrackedVariable` gives None (VarSet is a third of all traffic).
An event missing a field it cannot do without (a channel event without Uniqueid/Linkedid, a
queue event without Queue, a DTMF event whose Digit is not a key) is *malformed*: None, and
`EventParser` counts it by name.

Idempotency keys (`event_key`, `EventKeyer`). The frames carry no event id and, with
Asterisk's default `timestampevents = no`, no timestamp. Two facts from the transcripts shape
the key:
- the same event delivered twice has the same bytes, so the key must be a function of the
  frame's full content (every header, in order; Uniqueid and Event included);
- two genuinely different events can also have the same bytes: in s15 the agent leg sends
  `DTMFEnd Digit: 2` twice in a row (feature code *2 then extension 201), in s2 `DialEnd
  CANCEL` arrives twice, and `VarSet PLAYBACKSTATUS=SUCCESS` or `DeviceStateChange` repeat
  all the time.
So the key is sha256(content digest, occurrence), where `occurrence` counts the earlier frames
with the very same content in this stream (0 for the first). `EventKeyer` does the counting;
compute the key once, when the frame comes off the socket, and keep it with the event: a retry
of the same received frame then reuses its key. Consequences, chosen on purpose:
- the same stream fed twice (a replay through a fresh keyer, or a second AMI connection
  delivering the same call) gives the same keys: stored once;
- repeats inside one stream get occurrence 1, 2, ...: all stored;
- frames without any channel or action identity (DeviceStateChange, QueueMemberStatus) are
  also scoped by the keyer's `session`, since their content repeats across days and a replay
  of them cannot be told from a new one; give each process (or connection) its own session;
- the one blind spot: a channel that lives across a reconnect and, after it, sends a frame
  byte-identical to one it sent before, while the keyer was recreated in between (occurrence
  restarts at 0). Keep one keyer per process, not per connection, to avoid it. Turning on
  `timestampevents = yes` in manager.conf removes every ambiguity: the Timestamp header is
  part of the content.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from callcenter.domain.recent import DEDUP_WINDOW, RecentCache
from callcenter.domain.telephony import (
    AgentCalled,
    AgentCompleted,
    AgentCompleteReason,
    AgentConnected,
    AgentDumped,
    AgentRingNoAnswer,
    AgiCommandFinished,
    AgiCommandStarted,
    AttendedTransferred,
    BlindTransferred,
    BridgeEntered,
    BridgeLeft,
    CallerIdChanged,
    ChannelCreated,
    ChannelHungUp,
    ChannelState,
    ChannelStateChanged,
    ChannelVariableSet,
    ConferenceJoined,
    ConferenceLeft,
    DialplanStep,
    DtmfDirection,
    DtmfReceived,
    FullyBooted,
    MemberStatus,
    MessageWaiting,
    MusicOnHoldStarted,
    MusicOnHoldStopped,
    OriginateResult,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberAdded,
    QueueMemberEvent,
    QueueMemberPaused,
    QueueMemberPenaltyChanged,
    QueueMemberRemoved,
    QueueMemberStatusChanged,
    RecordingStarted,
    RecordingStopped,
    SpyStarted,
    SpyStopped,
    TelephonyEvent,
    TrackedVariable,
    Unhandled,
)
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.results import ORIGINATE_ACTION_PREFIX

log = logging.getLogger(__name__)

KEY_VERSION = "v1"
MAX_NAME = 64  # event names, as counted and stored (telephony_events.name is 64 wide)
MAX_ID = 64  # Uniqueid / Linkedid: telephony_events and calls store them 64 wide
MAX_CHANNEL = 128
MAX_TEXT = 256
MAX_DATA = 1024  # AppData, AGI commands, variable values
MAX_INT = 2**31 - 1
MAX_COUNTED_NAMES = 500  # distinct names kept in the unknown/malformed counters

_UNKNOWN = "<unknown>"
_INT = re.compile(r"-?[0-9]{1,12}")
_IDENT = re.compile(r"[!-~]+")  # printable ASCII, no spaces
_DIGITS = frozenset("0123456789*#ABCDabcd")
_TRUE = frozenset({"1", "yes", "true", "on", "y"})

# Events we know and deliberately pass through as Unhandled (not counted as unknown).
KNOWN_UNINTERPRETED = frozenset(
    name.lower()
    for name in (
        "DeviceStateChange",
        "SuccessfulAuth",
        "RequestBadFormat",
        "FailedACL",
        "InvalidPassword",
        "ChallengeSent",
        "NewConnectedLine",
        "NewAccountCode",
        "Rename",
        "LocalBridge",
        "LocalOptimizationBegin",
        "LocalOptimizationEnd",
        "SoftHangupRequest",
        "HangupRequest",
        "DialBegin",
        "DialEnd",
        "DialState",
        "BridgeCreate",
        "BridgeDestroy",
        "BridgeMerge",
        "BridgeInfoChannel",
        "BridgeInfoComplete",
        "DTMFBegin",
        "Hold",
        "Unhold",
        "Status",
        "StatusComplete",
        "CoreShowChannel",
        "CoreShowChannelsComplete",
        "QueueParams",
        "QueueMember",
        "QueueEntry",
        "QueueStatusComplete",
        "QueueSummary",
        "QueueSummaryComplete",
        "QueueMemberRinginuse",
        "ConfbridgeStart",
        "ConfbridgeEnd",
        "ConfbridgeList",
        "ConfbridgeListComplete",
        "ConfbridgeTalking",
        "ConfbridgeMute",
        "ConfbridgeUnmute",
        "MusicOnHold",
        "Reload",
        "Shutdown",
        "Cdr",
        "Cel",
        "Registry",
        "PeerStatus",
        "ContactStatus",
        "DeviceStateListComplete",
        "ExtensionStatus",
        "PresenceStateChange",
        "MailboxStatus",
        "RTCPSent",
        "RTCPReceived",
        "AgentLogin",
        "AgentLogoff",
        "Pickup",
        "MonitorStart",
        "MonitorStop",
        "MixMonitorMute",
        "UserEvent",
    )
)


class _Malformed(Exception):
    """A required field is missing or unreadable; aborts building one event."""


# --- field readers ------------------------------------------------------------------------


def _text(value: str | None, limit: int = MAX_TEXT) -> str:
    return (value or "")[:limit]


def _opt_text(value: str | None, limit: int = MAX_TEXT) -> str | None:
    if value is None or value == "" or value == _UNKNOWN:
        return None
    return value[:limit]


def _ident(value: str | None) -> str | None:
    """Uniqueid/Linkedid: None when absent; malformed unless it looks like a real one.

    Asterisk makes them from `[A-Za-z0-9._-]` (`1795432716.0`, a ChannelId UUID, `...;2` for a
    Local channel's second half): printable ASCII without spaces, at most MAX_ID long.
    """
    if value is None:
        return None
    value = value.strip()
    if value in ("", _UNKNOWN):
        return None
    if len(value) > MAX_ID or not _IDENT.fullmatch(value):
        raise _Malformed("not an identifier")
    return value


def _int(value: str | None, lo: int = 0, hi: int = MAX_INT) -> int | None:
    """Strict ASCII integer in [lo, hi]; anything else (garbage, huge, Unicode digits) is None."""
    if value is None:
        return None
    value = value.strip()
    if not _INT.fullmatch(value):
        return None
    number = int(value)
    return number if lo <= number <= hi else None


def _required_int(value: str | None, lo: int = 0, hi: int = MAX_INT) -> int:
    number = _int(value, lo, hi)
    if number is None:
        raise _Malformed("bad number")
    return number


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def _required(frame: AmiFrame, key: str, limit: int = MAX_TEXT) -> str:
    value = frame.get(key)
    if value is None or value.strip() == "":
        raise _Malformed(f"missing {key}")
    return value[:limit]


def _state(value: str | None) -> ChannelState | None:
    number = _int(value, 0, 255)
    if number is None:
        return None
    try:
        return ChannelState(number)
    except ValueError:
        return None


def _member_status(value: str | None) -> MemberStatus | None:
    number = _int(value, 0, 255)
    if number is None:
        return None
    try:
        return MemberStatus(number)
    except ValueError:
        return None


def _base(
    frame: AmiFrame, name: str, at: datetime, prefix: str = "", *, need_channel: bool = False
) -> dict[str, Any]:
    """The channel snapshot fields (optionally under a prefix such as `Transferer`)."""
    uniqueid = _ident(frame.get(prefix + "Uniqueid"))
    linkedid = _ident(frame.get(prefix + "Linkedid"))
    if need_channel and (uniqueid is None or linkedid is None):
        raise _Malformed("channel event without Uniqueid/Linkedid")
    return {
        "name": name,
        "at": at,
        "linkedid": linkedid,
        "uniqueid": uniqueid,
        "channel": _opt_text(frame.get(prefix + "Channel"), MAX_CHANNEL),
        "caller_id_num": _opt_text(frame.get(prefix + "CallerIDNum")),
        "caller_id_name": _opt_text(frame.get(prefix + "CallerIDName")),
        "context": _opt_text(frame.get(prefix + "Context")),
        "exten": _opt_text(frame.get(prefix + "Exten")),
        "state": _state(frame.get(prefix + "ChannelState")),
    }


def _channel(frame: AmiFrame, name: str, at: datetime) -> dict[str, Any]:
    return _base(frame, name, at, need_channel=True)


# --- builders, one per event name ---------------------------------------------------------

_Builder = Callable[[AmiFrame, str, datetime], TelephonyEvent | None]


def _fully_booted(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return FullyBooted(
        **_base(f, n, at),
        uptime=_int(f.get("Uptime")),
        last_reload=_int(f.get("LastReload")),
        status=_text(f.get("Status")),
    )


def _simple(cls: type[TelephonyEvent]) -> _Builder:
    def build(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
        return cls(**_channel(f, n, at))

    return build


def _hangup(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return ChannelHungUp(
        **_channel(f, n, at),
        cause=_int(f.get("Cause"), 0, 255),
        cause_text=_text(f.get("Cause-txt")),
    )


def _newexten(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    fields = _channel(f, n, at)
    # Newexten has both Exten and Extension; they agree, Extension is the documented one
    fields["exten"] = _opt_text(f.get("Extension")) or fields["exten"]
    return DialplanStep(
        **fields,
        application=_text(f.get("Application")),
        app_data=_text(f.get("AppData"), MAX_DATA),
    )


def _varset(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent | None:
    # `__NAME` / `_NAME` mark inheritance; the variable is the same
    raw = (f.get("Variable") or "").strip().lstrip("_")
    try:
        variable = TrackedVariable(raw)
    except ValueError:
        return None
    return ChannelVariableSet(
        **_channel(f, n, at), variable=variable, value=_text(f.get("Value"), MAX_DATA)
    )


_TRACKED_NAMES = frozenset(v.value for v in TrackedVariable)


def untracked_varset(pairs: list[tuple[str, str]]) -> bool:
    """A raw frame that `_varset` would drop: a VarSet of a variable nobody tracks.

    Asterisk sends one VarSet per Set() and per variable its applications set (a few dozen
    per call, most of them of no interest); the AMI reader drops these before it builds a
    frame, so they cost no dispatch, parsing or journal work. Same decision as `_varset`.
    """
    if not pairs or pairs[0][1].lower() != "varset" or pairs[0][0].lower() != "event":
        return False
    for key, value in pairs:
        if key == "Variable" or key.lower() == "variable":
            return value.strip().lstrip("_") not in _TRACKED_NAMES
    return True  # no Variable header: `_varset` would drop it as well


def _agi_start(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return AgiCommandStarted(
        **_channel(f, n, at),
        command_id=_text(f.get("CommandId"), 32),
        command=_text(f.get("Command"), MAX_DATA),
    )


def _agi_end(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return AgiCommandFinished(
        **_channel(f, n, at),
        command_id=_text(f.get("CommandId"), 32),
        command=_text(f.get("Command"), MAX_DATA),
        result_code=_int(f.get("ResultCode"), 0, 999),
        result=_text(f.get("Result")),
    )


def _dtmf_end(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    digit = (f.get("Digit") or "").strip()
    if len(digit) != 1 or digit not in _DIGITS:
        raise _Malformed("Digit is not a DTMF key")
    raw_direction = (f.get("Direction") or "").strip().capitalize()
    direction = DtmfDirection(raw_direction) if raw_direction in ("Received", "Sent") else None
    return DtmfReceived(
        **_channel(f, n, at),
        digit=digit.upper(),
        duration_ms=_int(f.get("DurationMs")),
        direction=direction,
    )


def _queue_join(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return QueueCallerJoined(
        **_channel(f, n, at),
        queue=_required(f, "Queue"),
        position=_int(f.get("Position")),
        count=_int(f.get("Count")),
    )


def _queue_leave(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return QueueCallerLeft(
        **_channel(f, n, at),
        queue=_required(f, "Queue"),
        position=_int(f.get("Position")),
        count=_int(f.get("Count")),
    )


def _queue_abandon(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return QueueCallerAbandoned(
        **_channel(f, n, at),
        queue=_required(f, "Queue"),
        position=_int(f.get("Position")),
        original_position=_int(f.get("OriginalPosition")),
        hold_time=_int(f.get("HoldTime")),
    )


def _agent_fields(f: AmiFrame, n: str, at: datetime) -> dict[str, Any]:
    return {
        **_channel(f, n, at),
        "queue": _required(f, "Queue"),
        "interface": _text(f.get("Interface")),
        "member_name": _text(f.get("MemberName")),
        "dest_channel": _opt_text(f.get("DestChannel"), MAX_CHANNEL),
        "dest_uniqueid": _ident(f.get("DestUniqueid")),
    }


def _agent_called(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return AgentCalled(**_agent_fields(f, n, at))


def _agent_connect(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return AgentConnected(
        **_agent_fields(f, n, at),
        hold_time=_int(f.get("HoldTime")),
        ring_time=_int(f.get("RingTime")),
    )


def _agent_complete(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    raw_reason = (f.get("Reason") or "").strip().lower()
    reason = (
        AgentCompleteReason(raw_reason) if raw_reason in ("caller", "agent", "transfer") else None
    )
    return AgentCompleted(
        **_agent_fields(f, n, at),
        hold_time=_int(f.get("HoldTime")),
        talk_time=_int(f.get("TalkTime")),
        reason=reason,
    )


def _agent_rna(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return AgentRingNoAnswer(**_agent_fields(f, n, at), ring_time_ms=_int(f.get("RingTime")))


def _agent_dump(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return AgentDumped(**_agent_fields(f, n, at))


def _member(cls: type[QueueMemberEvent]) -> _Builder:
    def build(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
        return cls(
            **_base(f, n, at),
            queue=_required(f, "Queue"),
            interface=_required(f, "Interface"),
            member_name=_text(f.get("MemberName")),
            state_interface=_text(f.get("StateInterface")),
            membership=_text(f.get("Membership"), 32),
            penalty=_int(f.get("Penalty")),
            calls_taken=_int(f.get("CallsTaken")),
            last_call=_int(f.get("LastCall"), 0, 2**40),
            login_time=_int(f.get("LoginTime"), 0, 2**40),
            in_call=_bool(f.get("InCall")),
            status=_member_status(f.get("Status")),
            paused=_bool(f.get("Paused")),
            paused_reason=_text(f.get("PausedReason")),
        )

    return build


def _bridge(cls: type[BridgeEntered] | type[BridgeLeft]) -> _Builder:
    def build(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
        return cls(
            **_channel(f, n, at),
            bridge_id=_required(f, "BridgeUniqueid", MAX_ID),
            bridge_type=_text(f.get("BridgeType"), 32),
            num_channels=_int(f.get("BridgeNumChannels")),
        )

    return build


def _blind_transfer(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    fields = _base(f, n, at, "Transferer")
    if fields["linkedid"] is None:
        fields["linkedid"] = _ident(f.get("TransfereeLinkedid"))
    if fields["linkedid"] is None:
        raise _Malformed("BlindTransfer names no call")
    return BlindTransferred(
        **fields,
        result=_text(f.get("Result"), 32),
        transferee_channel=_opt_text(f.get("TransfereeChannel"), MAX_CHANNEL),
        transferee_uniqueid=_ident(f.get("TransfereeUniqueid")),
        transferee_linkedid=_ident(f.get("TransfereeLinkedid")),
        target_context=_text(f.get("Context")),
        target_exten=_text(f.get("Extension")),
        is_external=_bool(f.get("IsExternal")),
        bridge_id=_ident(f.get("BridgeUniqueid")),
    )


def _attended_transfer(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    fields = _base(f, n, at, "OrigTransferer")
    if fields["linkedid"] is None:
        fields["linkedid"] = _ident(f.get("SecondTransfererLinkedid"))
    if fields["linkedid"] is None:
        raise _Malformed("AttendedTransfer names no call")
    return AttendedTransferred(
        **fields,
        result=_text(f.get("Result"), 32),
        dest_type=_text(f.get("DestType"), 32),
        dest_app=_text(f.get("DestApp")),
        dest_bridge_id=_ident(f.get("DestBridgeUniqueid")),
        second_transferer_channel=_opt_text(f.get("SecondTransfererChannel"), MAX_CHANNEL),
        second_transferer_uniqueid=_ident(f.get("SecondTransfererUniqueid")),
        second_transferer_linkedid=_ident(f.get("SecondTransfererLinkedid")),
        target_channel=_opt_text(f.get("TransferTargetChannel"), MAX_CHANNEL),
        target_uniqueid=_ident(f.get("TransferTargetUniqueid")),
        target_exten=_text(f.get("TransferTargetExten")),
        is_external=_bool(f.get("IsExternal")),
    )


def _moh_start(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return MusicOnHoldStarted(**_channel(f, n, at), moh_class=_text(f.get("Class")))


def _spy(cls: type[SpyStarted] | type[SpyStopped]) -> _Builder:
    def build(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
        fields = _base(f, n, at, "Spyer", need_channel=True)
        return cls(
            **fields,
            spyee_channel=_opt_text(f.get("SpyeeChannel"), MAX_CHANNEL),
            spyee_uniqueid=_ident(f.get("SpyeeUniqueid")),
            spyee_linkedid=_ident(f.get("SpyeeLinkedid")),
        )

    return build


def _conf_join(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return ConferenceJoined(
        **_channel(f, n, at),
        conference=_required(f, "Conference"),
        bridge_id=_ident(f.get("BridgeUniqueid")),
        admin=_bool(f.get("Admin")),
        muted=_bool(f.get("Muted")),
    )


def _conf_leave(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    return ConferenceLeft(
        **_channel(f, n, at),
        conference=_required(f, "Conference"),
        bridge_id=_ident(f.get("BridgeUniqueid")),
        admin=_bool(f.get("Admin")),
    )


def _message_waiting(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    waiting = f.get("Waiting")
    return MessageWaiting(
        **_base(f, n, at),
        mailbox=_required(f, "Mailbox"),
        # `Waiting` is 0/1 here, but some versions send the message count
        waiting=_bool(waiting) or (_int(waiting) or 0) > 0,
        new_messages=_int(f.get("New")),
        old_messages=_int(f.get("Old")),
    )


def _originate(f: AmiFrame, n: str, at: datetime) -> TelephonyEvent:
    fields = _base(f, n, at)
    action_id = _opt_text(f.get("ActionID"), MAX_TEXT)
    channel_id: str | None = None
    if action_id is not None and action_id.startswith(ORIGINATE_ACTION_PREFIX):
        # the AMI client names every Originate `orig-<ChannelId>`; a failure has no Uniqueid
        try:
            channel_id = _ident(action_id.removeprefix(ORIGINATE_ACTION_PREFIX))
        except _Malformed:
            channel_id = None
    if channel_id is None:
        channel_id = fields["uniqueid"]
    return OriginateResult(
        **fields,
        action_id=action_id,
        success=(f.get("Response") or "").strip().lower() == "success",
        reason=_required_int(f.get("Reason"), 0, 255),
        channel_id=channel_id,
        application=_text(f.get("Application")),
        data=_text(f.get("Data"), MAX_DATA),
    )


_BUILDERS: dict[str, _Builder] = {
    "fullybooted": _fully_booted,
    "newchannel": _simple(ChannelCreated),
    "newstate": _simple(ChannelStateChanged),
    "newcallerid": _simple(CallerIdChanged),
    "hangup": _hangup,
    "newexten": _newexten,
    "varset": _varset,
    "agiexecstart": _agi_start,
    "agiexecend": _agi_end,
    "dtmfend": _dtmf_end,
    "queuecallerjoin": _queue_join,
    "queuecallerleave": _queue_leave,
    "queuecallerabandon": _queue_abandon,
    "agentcalled": _agent_called,
    "agentconnect": _agent_connect,
    "agentcomplete": _agent_complete,
    "agentringnoanswer": _agent_rna,
    "agentdump": _agent_dump,
    "queuememberadded": _member(QueueMemberAdded),
    "queuememberremoved": _member(QueueMemberRemoved),
    "queuememberstatus": _member(QueueMemberStatusChanged),
    "queuememberpause": _member(QueueMemberPaused),
    "queuememberpenalty": _member(QueueMemberPenaltyChanged),
    "bridgeenter": _bridge(BridgeEntered),
    "bridgeleave": _bridge(BridgeLeft),
    "blindtransfer": _blind_transfer,
    "attendedtransfer": _attended_transfer,
    "mixmonitorstart": _simple(RecordingStarted),
    "mixmonitorstop": _simple(RecordingStopped),
    "musiconholdstart": _moh_start,
    "musiconholdstop": _simple(MusicOnHoldStopped),
    "chanspystart": _spy(SpyStarted),
    "chanspystop": _spy(SpyStopped),
    "confbridgejoin": _conf_join,
    "confbridgeleave": _conf_leave,
    "messagewaiting": _message_waiting,
    "originateresponse": _originate,
}


# --- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    event: TelephonyEvent | None
    kind: str  # "event", "not_event", "ignored", "unknown", "malformed"
    name: str


def _classify(frame: AmiFrame, received_at: datetime) -> _Outcome:
    raw_name = frame.event
    # Event first: OriginateResponse carries a Response header too, but it is an event
    if raw_name is None:
        return _Outcome(None, "not_event", "")
    name = raw_name.strip()[:MAX_NAME]
    if not name:
        return _Outcome(None, "malformed", "<empty>")
    lowered = name.lower()
    builder = _BUILDERS.get(lowered)
    if builder is None:
        kind = "ignored" if lowered in KNOWN_UNINTERPRETED else "unknown"
        try:
            fields = _base(frame, name, received_at)
        except _Malformed:
            fields = {"name": name, "at": received_at}
        return _Outcome(Unhandled(**fields), kind, name)
    try:
        event = builder(frame, name, received_at)
    except _Malformed:
        return _Outcome(None, "malformed", name)
    if event is None:
        return _Outcome(None, "ignored", name)
    return _Outcome(event, "event", name)


_CALL_KEY_HEADERS = (
    "Linkedid",
    "TransfererLinkedid",  # BlindTransfer
    "OrigTransfererLinkedid",  # AttendedTransfer
    "SpyerLinkedid",  # ChanSpyStart/Stop
)


def frame_call_key(frame: AmiFrame) -> str:
    """The call a raw frame belongs to, for keeping one call's frames in order.

    Like `ami_dispatch.call_key`, but it also finds the call of frames that name it under
    another header: BlindTransfer, AttendedTransfer and ChanSpy have no `Linkedid`, and a
    failed OriginateResponse says `Uniqueid: <unknown>` while its ActionID `orig-<ChannelId>`
    names the call (an originated channel's Linkedid is its ChannelId). Then Uniqueid, else "".
    """
    for header in _CALL_KEY_HEADERS:
        value = (frame.get(header) or "").strip()
        if value and value != _UNKNOWN:
            return value
    action_id = frame.get("ActionID") or ""
    if (frame.event or "").lower() == "originateresponse" and action_id.startswith(
        ORIGINATE_ACTION_PREFIX
    ):
        return action_id.removeprefix(ORIGINATE_ACTION_PREFIX)
    uniqueid = (frame.get("Uniqueid") or "").strip()
    return uniqueid if uniqueid != _UNKNOWN else ""


def parse_frame(frame: AmiFrame, received_at: datetime) -> TelephonyEvent | None:
    """The typed event in `frame`, `Unhandled` for events we do not interpret, else None.

    None for action replies, for VarSet of untracked variables and for malformed events.
    Never raises.
    """
    try:
        return _classify(frame, received_at).event
    except Exception:  # last resort: hostile input must not take the event loop down
        log.exception("AMI: cannot parse event frame %.200r", frame.pairs)
        return None


# --- idempotency keys ---------------------------------------------------------------------


def _feed(h: Any, text: str) -> None:
    data = text.encode("utf-8", "surrogatepass")
    h.update(len(data).to_bytes(8, "big"))
    h.update(data)


def frame_digest(frame: AmiFrame) -> bytes:
    """sha256 of the frame's full content: every header and value, in wire order, each
    prefixed by its length (the same bytes `_feed` would hash, in one update)."""
    parts: list[bytes] = []
    append = parts.append
    for key, value in frame.pairs:
        prefixed = _PREFIXED_KEYS.get(key)
        if prefixed is None:
            prefixed = _prefixed(key)
            if len(_PREFIXED_KEYS) < _MAX_PREFIXED_KEYS:
                _PREFIXED_KEYS[key] = prefixed
        append(prefixed)
        data = value.encode("utf-8", "surrogatepass")
        append(len(data).to_bytes(8, "big"))
        append(data)
    return hashlib.sha256(b"".join(parts)).digest()


def _prefixed(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return len(data).to_bytes(8, "big") + data


# header names repeat on every frame: their length-prefixed bytes are made once (bounded,
# so a hostile stream inventing names cannot grow it)
_MAX_PREFIXED_KEYS = 2048
_PREFIXED_KEYS: dict[str, bytes] = {}


def _has_identity(frame: AmiFrame) -> bool:
    """Does the content name a channel, bridge or action, which never repeats across days?"""
    for key, value in frame.pairs:
        lowered = key.lower()
        if (lowered.endswith("uniqueid") or lowered == "actionid") and value.strip() not in (
            "",
            _UNKNOWN,
        ):
            return True
    return False


def event_key(frame: AmiFrame, *, occurrence: int = 0, session: str = "") -> str:
    """Idempotency key of the `occurrence`-th frame with this exact content (see module doc).

    `session` only counts for frames that name no channel, bridge or action.
    """
    return _key(frame_digest(frame), occurrence, "" if _has_identity(frame) else session)


def _key(digest: bytes, occurrence: int, scope: str) -> str:
    h = hashlib.sha256()
    h.update(digest)
    h.update(occurrence.to_bytes(8, "big"))
    _feed(h, scope)
    return f"{KEY_VERSION}:{h.hexdigest()}"


class EventKeyer:
    """Keys for one stream of frames, counting repeats of identical content.

    Remembers each distinct content for `window` after it was last seen (duplicates come
    from AMI reconnects and second connections, within seconds or minutes), and at most
    `max_tracked` contents, the oldest forgotten first. A content seen again after it was
    forgotten starts counting from 0 again: for a frame with a channel or action identity its
    key then equals its first occurrence's (the blind spot of the module doc, now limited to a
    channel repeating a byte-identical frame after `window` of silence); a frame without
    identity is re-scoped by the moment it was re-learned, so it keeps a key of its own. At
    2 calls/s (~100 frames a call) the default window holds ~60,000 contents, about 16 MB,
    reached after 5 minutes and stable from then on.
    """

    def __init__(
        self,
        session: str = "",
        *,
        max_tracked: int = 100_000,
        window: timedelta = DEDUP_WINDOW,
    ) -> None:
        if max_tracked < 1:
            raise ValueError("max_tracked must be positive")
        self.session = session
        self._seen: RecentCache[bytes, int] = RecentCache(window, max_tracked)
        self._keyed = 0  # frames keyed so far: names the re-learning of a forgotten content

    def __len__(self) -> int:
        return len(self._seen)

    def key(self, frame: AmiFrame, now: datetime | None = None) -> str:
        """The frame's key; `now` is when it was received (default: the clock)."""
        digest = frame_digest(frame)
        self._keyed += 1
        known = self._seen.get(digest)
        occurrence = known if known is not None else 0
        relearned = known is None and self._seen.evicted > 0
        self._seen.put(digest, occurrence + 1, now if now is not None else datetime.now(UTC))
        if _has_identity(frame):
            return _key(digest, occurrence, "")
        scope = f"{self.session}#{self._keyed}" if relearned else self.session
        return _key(digest, occurrence, scope)


# --- the stateful parser ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    key: str  # idempotency key for the journal (telephony_events.event_key)
    event: TelephonyEvent


@dataclass(frozen=True, slots=True)
class ParserStats:
    frames: int  # every frame seen
    events: int  # typed events and Unhandled returned
    ignored: int  # known events we pass as Unhandled or drop (untracked VarSet)
    unknown: dict[str, int]  # event names we have never heard of
    malformed: dict[str, int]  # known events missing a field they cannot do without
    errors: int  # parser bugs caught by the last-resort handler (should stay 0)


class EventParser:
    """Parses one stream of AMI frames into keyed events and counts what it could not use.

    Keep one per process (see the module doc on keys); `session` should differ between
    processes, e.g. a UUID made at start-up.
    """

    def __init__(
        self,
        session: str = "",
        *,
        max_tracked: int = 100_000,
        window: timedelta = DEDUP_WINDOW,
    ) -> None:
        self._keyer = EventKeyer(session, max_tracked=max_tracked, window=window)
        self._frames = 0
        self._events = 0
        self._ignored = 0
        self._errors = 0
        self._unknown: Counter[str] = Counter()
        self._malformed: Counter[str] = Counter()

    def parse(self, frame: AmiFrame, received_at: datetime) -> ParsedEvent | None:
        self._frames += 1
        try:
            outcome = _classify(frame, received_at)
        except Exception:
            self._errors += 1
            log.exception("AMI: cannot parse event frame %.200r", frame.pairs)
            return None
        if outcome.kind == "malformed":
            self._count(self._malformed, outcome.name)
            log.debug("AMI: malformed %s event dropped", outcome.name or "<nameless>")
        elif outcome.kind == "unknown":
            self._count(self._unknown, outcome.name)
        elif outcome.kind == "ignored":
            self._ignored += 1
        if outcome.event is None:
            return None
        self._events += 1
        return ParsedEvent(self._keyer.key(frame, received_at), outcome.event)

    @staticmethod
    def _count(counter: Counter[str], name: str) -> None:
        # hostile streams could invent endless names; keep the counter small
        if name in counter or len(counter) < MAX_COUNTED_NAMES:
            counter[name] += 1
        else:
            counter["<other>"] += 1

    @property
    def stats(self) -> ParserStats:
        return ParserStats(
            frames=self._frames,
            events=self._events,
            ignored=self._ignored,
            unknown=dict(self._unknown),
            malformed=dict(self._malformed),
            errors=self._errors,
        )
