"""Typed telephony events: what the platform learns from Asterisk, independent of the wire.

The AMI adapter (`callcenter.pbx.events`) turns raw frames into these; the call
tracker (`callcenter.domain.calls`) consumes them. Every event carries the identity of the
channel it is about (`channel`, `uniqueid`, `linkedid`: the call) and `at`, the time the
platform received it: Asterisk 22's AMI frames carry no timestamp unless `timestampevents`
is switched on, so the receive time is the only clock there is.

Field values are already bounded and typed by the parser: numbers are ints (None when absent
or unreadable), closed vocabularies are enums (None when Asterisk sent something we do not
know), free text is truncated. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class ChannelState(IntEnum):
    """Asterisk's `ChannelState` numbers (`ChannelStateDesc` in words)."""

    DOWN = 0
    RESERVED = 1
    OFFHOOK = 2
    DIALING = 3
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7
    DIALING_OFFHOOK = 8
    PRERING = 9
    MUTE = 10


class OriginateReason(IntEnum):
    """OriginateResponse `Reason`: the control frame that ended the dial (transcript s6)."""

    FAILED = 0  # no such channel/extension, or it could not be created
    HANGUP = 1
    RING = 2
    NO_ANSWER = 3  # rang until the Originate timeout
    ANSWERED = 4
    BUSY = 5
    TAKEOFFHOOK = 6
    OFFHOOK = 7
    CONGESTION = 8


class MemberStatus(IntEnum):
    """Device state of a queue member (`Status` of QueueMember* events)."""

    UNKNOWN = 0
    NOT_INUSE = 1
    INUSE = 2
    BUSY = 3
    INVALID = 4
    UNAVAILABLE = 5
    RINGING = 6
    RINGINUSE = 7
    ONHOLD = 8


class DtmfDirection(StrEnum):
    RECEIVED = "Received"  # from the channel's far end (the caller pressed a key)
    SENT = "Sent"


class AgentCompleteReason(StrEnum):
    """Who ended an operator's conversation (AgentComplete `Reason`)."""

    CALLER = "caller"
    AGENT = "agent"
    TRANSFER = "transfer"


class TrackedVariable(StrEnum):
    """Channel variables whose VarSet the platform cares about; every other VarSet is dropped.

    The platform's own names match `callcenter.pbx.channel_vars` (a test keeps them in
    step); the rest are set by Asterisk itself.
    """

    # set by the platform (FastAGI handlers, dialplan, Originate `Variable:` headers)
    CALL_UUID = "CALL_UUID"
    CUSTOMER_ID = "CUSTOMER_ID"
    IVR_TARGET = "IVR_TARGET"
    IVR_PATH = "IVR_PATH"
    IVR_CLOSED = "IVR_CLOSED"
    IVR_FAILOVER = "IVR_FAILOVER"
    IVR_PRIORITY = "IVR_PRIORITY"
    QUEUED_CALLBACK = "QUEUED_CALLBACK"
    RECORDING_NOTICE = "RECORDING_NOTICE"
    DIAL_OPERATOR = "DIAL_OPERATOR"
    DIAL_NUMBER = "DIAL_NUMBER"
    # set by Asterisk applications
    AGISTATUS = "AGISTATUS"  # AGI(): SUCCESS, FAILURE, NOTFOUND, HANGUP
    AMDSTATUS = "AMDSTATUS"  # AMD(): HUMAN, MACHINE, NOTSURE, HANGUP
    AMDCAUSE = "AMDCAUSE"  # AMD(): e.g. HUMAN-800-800, LONGGREETING-1500-1500
    QUEUESTATUS = "QUEUESTATUS"  # Queue(): TIMEOUT, FULL, JOINEMPTY, LEAVEEMPTY, ...
    VMSTATUS = "VMSTATUS"  # VoiceMail(): SUCCESS, USEREXIT, FAILED
    MIXMONITOR_FILENAME = "MIXMONITOR_FILENAME"  # MixMonitor(): the recording's path


@dataclass(frozen=True, slots=True, kw_only=True)
class TelephonyEvent:
    """Common part of every event: its AMI name, when it arrived, and whose channel it is.

    `linkedid` identifies the call (shared by all its channels); `uniqueid` the channel.
    The caller-id/context/exten/state fields are the channel snapshot Asterisk attaches to
    channel events; None where the event has no channel.
    """

    name: str
    at: datetime
    linkedid: str | None = None
    uniqueid: str | None = None
    channel: str | None = None
    caller_id_num: str | None = None
    caller_id_name: str | None = None
    context: str | None = None
    exten: str | None = None
    state: ChannelState | None = None


# --- system -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FullyBooted(TelephonyEvent):
    """Sent on every AMI login; a small `uptime` means Asterisk (re)started recently."""

    uptime: int | None = None
    last_reload: int | None = None
    status: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Unhandled(TelephonyEvent):
    """An event the platform does not interpret (DeviceStateChange, DialBegin, ...)."""


# --- channels -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCreated(TelephonyEvent):
    """Newchannel."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelStateChanged(TelephonyEvent):
    """Newstate: `state` holds the new state."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallerIdChanged(TelephonyEvent):
    """NewCallerid: an originated channel gets its caller id this way, after Newchannel."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHungUp(TelephonyEvent):
    """Hangup, with the Q.850 cause (16 normal clearing, 17 busy, 19 no answer, 34 congestion)."""

    cause: int | None = None
    cause_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DialplanStep(TelephonyEvent):
    """Newexten: the channel runs `application` at `context`/`exten`."""

    application: str = ""
    app_data: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelVariableSet(TelephonyEvent):
    """VarSet of a variable in TrackedVariable."""

    variable: TrackedVariable
    value: str


# --- AGI and DTMF -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AgiCommandStarted(TelephonyEvent):
    command_id: str
    command: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgiCommandFinished(TelephonyEvent):
    command_id: str
    command: str
    result_code: int | None = None  # 200, 510 unknown command, 511 dead channel
    result: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DtmfReceived(TelephonyEvent):
    """DTMFEnd: one key, once it is released."""

    digit: str
    duration_ms: int | None = None
    direction: DtmfDirection | None = None


# --- queues -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerJoined(TelephonyEvent):
    queue: str
    position: int | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerLeft(TelephonyEvent):
    """QueueCallerLeave: sent both when an operator answers and when the caller gives up."""

    queue: str
    position: int | None = None
    count: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCallerAbandoned(TelephonyEvent):
    queue: str
    position: int | None = None
    original_position: int | None = None
    hold_time: int | None = None  # seconds, as Asterisk counted them


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAgentEvent(TelephonyEvent):
    """Agent* events: the base channel is the queued caller, `dest_*` the operator's leg."""

    queue: str
    interface: str = ""  # e.g. Local/101@agents/n: the service maps it to an operator
    member_name: str = ""
    dest_channel: str | None = None
    dest_uniqueid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCalled(QueueAgentEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConnected(QueueAgentEvent):
    hold_time: int | None = None  # seconds the caller waited
    ring_time: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentCompleted(QueueAgentEvent):
    hold_time: int | None = None
    talk_time: int | None = None
    reason: AgentCompleteReason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRingNoAnswer(QueueAgentEvent):
    ring_time_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentDumped(QueueAgentEvent):
    """AgentDump: the operator hung up while the caller was being announced to them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberEvent(TelephonyEvent):
    """QueueMember* events: a member (operator interface) of a queue; no channel."""

    queue: str
    interface: str
    member_name: str = ""
    state_interface: str = ""
    membership: str = ""  # dynamic, static, realtime
    penalty: int | None = None
    calls_taken: int | None = None
    last_call: int | None = None  # epoch seconds
    login_time: int | None = None  # epoch seconds
    in_call: bool = False
    status: MemberStatus | None = None
    paused: bool = False
    paused_reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberAdded(QueueMemberEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberRemoved(QueueMemberEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberStatusChanged(QueueMemberEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberPaused(QueueMemberEvent):
    """QueueMemberPause: sent for pause and unpause alike; read `paused`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMemberPenaltyChanged(QueueMemberEvent):
    pass


# --- bridges, transfers, recording, hold, supervision ---------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeEntered(TelephonyEvent):
    bridge_id: str
    bridge_type: str = ""
    num_channels: int | None = None  # channels in the bridge after this one entered


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeLeft(TelephonyEvent):
    bridge_id: str
    bridge_type: str = ""
    num_channels: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BlindTransferred(TelephonyEvent):
    """BlindTransfer: the base channel is the transferer; the transferee goes to the target."""

    result: str  # "Success" or a failure word
    transferee_channel: str | None = None
    transferee_uniqueid: str | None = None
    transferee_linkedid: str | None = None
    target_context: str = ""
    target_exten: str = ""
    is_external: bool = False
    bridge_id: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.result.lower() == "success"


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendedTransferred(TelephonyEvent):
    """AttendedTransfer: the base channel is the original transferer."""

    result: str
    dest_type: str = ""  # Bridge, App, Link, Threeway, Local, Fail
    dest_app: str = ""
    dest_bridge_id: str | None = None
    second_transferer_channel: str | None = None
    second_transferer_uniqueid: str | None = None
    second_transferer_linkedid: str | None = None
    target_channel: str | None = None
    target_uniqueid: str | None = None
    target_exten: str = ""
    is_external: bool = False

    @property
    def succeeded(self) -> bool:
        return self.result.lower() == "success"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStarted(TelephonyEvent):
    """MixMonitorStart (the file name comes earlier, in VarSet MIXMONITOR_FILENAME)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingStopped(TelephonyEvent):
    """MixMonitorStop: only for StopMixMonitor, never when a call simply hangs up (s5, s10)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MusicOnHoldStarted(TelephonyEvent):
    moh_class: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class MusicOnHoldStopped(TelephonyEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SpyStarted(TelephonyEvent):
    """ChanSpyStart: the base channel is the supervisor's (spyer); `spyee_*` who is heard."""

    spyee_channel: str | None = None
    spyee_uniqueid: str | None = None
    spyee_linkedid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpyStopped(TelephonyEvent):
    spyee_channel: str | None = None
    spyee_uniqueid: str | None = None
    spyee_linkedid: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceJoined(TelephonyEvent):
    conference: str
    bridge_id: str | None = None
    admin: bool = False
    muted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceLeft(TelephonyEvent):
    conference: str
    bridge_id: str | None = None
    admin: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageWaiting(TelephonyEvent):
    """A mailbox changed; carries the leaving channel when a caller just left a message."""

    mailbox: str
    waiting: bool = False
    new_messages: int | None = None
    old_messages: int | None = None


# --- originate --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginateResult(TelephonyEvent):
    """OriginateResponse.

    On failure Asterisk sends `Uniqueid: <unknown>` (so `uniqueid` is None) and `Channel` is the
    dial string that was asked for (`Local/busy@outbound-sim`), not a channel name. The frame
    never has a Linkedid. `channel_id` is the ChannelId the platform gave the Originate when
    the parser can tell it (from the ActionID convention or the Uniqueid): an originated
    channel's Uniqueid and Linkedid both equal that ChannelId (s5).
    """

    action_id: str | None
    success: bool
    reason: int  # see OriginateReason; kept as int so an unknown code is not lost
    channel_id: str | None = None
    application: str = ""
    data: str = ""

    @property
    def outcome(self) -> OriginateReason | None:
        try:
            return OriginateReason(self.reason)
        except ValueError:
            return None
