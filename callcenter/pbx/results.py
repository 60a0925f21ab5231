"""Typed results of AMI actions, parsed from the reply frames Asterisk 22 really sends.

Field names follow the transcripts in tests/fixtures/asterisk (s1, s4, s5, s8, s14).
Every parser is tolerant: a missing or garbled number becomes 0 rather than an exception, because
a reply we cannot fully read is still better than no reply for the service layer. Each row keeps
its raw frame (`raw`, excluded from comparison) for the journal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import IntEnum

from callcenter.pbx.frames import AmiFrame

# The client gives every Originate this ActionID prefix + the ChannelId, so an OriginateResponse
# (which says `Uniqueid: <unknown>` on failure) can always be tied back to our call UUID.
ORIGINATE_ACTION_PREFIX = "orig-"


def _text(frame: AmiFrame, key: str) -> str:
    return frame.get(key) or ""


def _int(frame: AmiFrame, key: str) -> int:
    try:
        return int((frame.get(key) or "0").strip())
    except ValueError:
        return 0


def _float(frame: AmiFrame, key: str) -> float:
    try:
        return float((frame.get(key) or "0").strip())
    except ValueError:
        return 0.0


def _flag(frame: AmiFrame, key: str) -> bool:
    return (frame.get(key) or "").strip().lower() in {"1", "yes", "true", "on"}


def _hms_seconds(value: str) -> int:
    """CoreShowChannel's Duration is `HH:MM:SS`."""
    try:
        parts = [int(p) for p in value.split(":")]
    except ValueError:
        return 0
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@dataclass(frozen=True, slots=True)
class ActionAck:
    """A plain `Response: Success` (QueueAdd, Redirect, Hangup, ...)."""

    action: str
    action_id: str
    message: str
    raw: AmiFrame = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ActionReply:
    """The raw reply to any action: the response frame, then the list rows if it was a list."""

    response: AmiFrame
    items: tuple[AmiFrame, ...] = ()
    complete: AmiFrame | None = None

    @property
    def message(self) -> str:
        return self.response.get("Message") or ""


@dataclass(frozen=True, slots=True)
class OriginateQueued:
    """Asterisk accepted an async Originate (or a lost one was found already running).

    `channel_id` is the Uniqueid the new channel has (our call UUID); `action_id` is what the
    later OriginateResponse event carries, on success and on failure alike.
    """

    channel_id: str
    action_id: str
    already_running: bool = False


class OriginateReason(IntEnum):
    """OriginateResponse `Reason` (Asterisk control frame codes; transcript s6)."""

    FAILED = 0  # no such channel / extension, or the channel could not be created
    HANGUP = 1
    RING = 2
    NO_ANSWER = 3  # rang until Timeout
    ANSWERED = 4
    BUSY = 5
    CONGESTION = 8


@dataclass(frozen=True, slots=True)
class OriginateOutcome:
    """An OriginateResponse event, tied back to the ChannelId we gave the Originate."""

    channel_id: str | None
    action_id: str
    success: bool
    reason: int
    channel: str
    raw: AmiFrame = field(compare=False, repr=False)

    @property
    def reason_name(self) -> str:
        try:
            return OriginateReason(self.reason).name
        except ValueError:
            return f"REASON_{self.reason}"

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> OriginateOutcome | None:
        """Parse an OriginateResponse; None for any other frame.

        On failure Asterisk reports `Uniqueid: <unknown>`, so the channel id is recovered from the
        ActionID the client gives every Originate (`orig-<channel id>`).
        """
        if (frame.event or "").lower() != "originateresponse":
            return None
        action_id = _text(frame, "ActionID")
        uniqueid = _text(frame, "Uniqueid")
        channel_id: str | None = None
        if action_id.startswith(ORIGINATE_ACTION_PREFIX):
            channel_id = action_id.removeprefix(ORIGINATE_ACTION_PREFIX)
        elif uniqueid and uniqueid != "<unknown>":
            channel_id = uniqueid
        return cls(
            channel_id=channel_id,
            action_id=action_id,
            success=_text(frame, "Response").lower() == "success",
            reason=_int(frame, "Reason"),
            channel=_text(frame, "Channel"),
            raw=frame,
        )


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """One channel from CoreShowChannels (`CoreShowChannel`) or Status (`Status`) rows."""

    channel: str
    uniqueid: str
    linkedid: str
    state: int
    state_desc: str
    caller_id_num: str
    caller_id_name: str
    connected_line_num: str
    connected_line_name: str
    account_code: str
    context: str
    exten: str
    priority: int
    application: str
    application_data: str
    duration_seconds: int
    bridge_id: str
    raw: AmiFrame = field(compare=False, repr=False)

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> ChannelInfo:
        status_row = (frame.event or "").lower() == "status"
        return cls(
            channel=_text(frame, "Channel"),
            uniqueid=_text(frame, "Uniqueid"),
            linkedid=_text(frame, "Linkedid"),
            state=_int(frame, "ChannelState"),
            state_desc=_text(frame, "ChannelStateDesc"),
            caller_id_num=_text(frame, "CallerIDNum"),
            caller_id_name=_text(frame, "CallerIDName"),
            connected_line_num=_text(frame, "ConnectedLineNum"),
            connected_line_name=_text(frame, "ConnectedLineName"),
            account_code=_text(frame, "AccountCode"),
            context=_text(frame, "Context"),
            exten=_text(frame, "Exten"),
            priority=_int(frame, "Priority"),
            application=_text(frame, "Application"),
            # Status says Data / Seconds, CoreShowChannel says ApplicationData / Duration
            application_data=_text(frame, "Data" if status_row else "ApplicationData"),
            duration_seconds=(
                _int(frame, "Seconds") if status_row else _hms_seconds(_text(frame, "Duration"))
            ),
            bridge_id=_text(frame, "BridgeId"),
            raw=frame,
        )


class MemberStatus(IntEnum):
    """QueueMember `Status`: the device state of the member's interface."""

    UNKNOWN = 0
    NOT_INUSE = 1
    INUSE = 2
    BUSY = 3
    INVALID = 4
    UNAVAILABLE = 5
    RINGING = 6
    RINGINUSE = 7
    ONHOLD = 8


@dataclass(frozen=True, slots=True)
class QueueParams:
    name: str
    max_callers: int
    strategy: str
    calls: int
    holdtime: int
    talktime: int
    completed: int
    abandoned: int
    service_level: int
    service_level_perf: float
    service_level_perf2: float
    weight: int
    raw: AmiFrame = field(compare=False, repr=False)

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> QueueParams:
        return cls(
            name=_text(frame, "Queue"),
            max_callers=_int(frame, "Max"),
            strategy=_text(frame, "Strategy"),
            calls=_int(frame, "Calls"),
            holdtime=_int(frame, "Holdtime"),
            talktime=_int(frame, "TalkTime"),
            completed=_int(frame, "Completed"),
            abandoned=_int(frame, "Abandoned"),
            service_level=_int(frame, "ServiceLevel"),
            service_level_perf=_float(frame, "ServicelevelPerf"),
            service_level_perf2=_float(frame, "ServicelevelPerf2"),
            weight=_int(frame, "Weight"),
            raw=frame,
        )


@dataclass(frozen=True, slots=True)
class QueueMemberState:
    queue: str
    name: str
    interface: str
    state_interface: str
    membership: str
    penalty: int
    calls_taken: int
    last_call: int
    last_pause: int
    login_time: int
    in_call: bool
    status: int
    paused: bool
    paused_reason: str
    wrapup_time: int
    raw: AmiFrame = field(compare=False, repr=False)

    @property
    def status_name(self) -> str:
        try:
            return MemberStatus(self.status).name
        except ValueError:
            return f"STATUS_{self.status}"

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> QueueMemberState:
        return cls(
            queue=_text(frame, "Queue"),
            name=_text(frame, "Name"),
            interface=_text(frame, "Location"),
            state_interface=_text(frame, "StateInterface"),
            membership=_text(frame, "Membership"),
            penalty=_int(frame, "Penalty"),
            calls_taken=_int(frame, "CallsTaken"),
            last_call=_int(frame, "LastCall"),
            last_pause=_int(frame, "LastPause"),
            login_time=_int(frame, "LoginTime"),
            in_call=_flag(frame, "InCall"),
            status=_int(frame, "Status"),
            paused=_flag(frame, "Paused"),
            paused_reason=_text(frame, "PausedReason"),
            wrapup_time=_int(frame, "Wrapuptime"),
            raw=frame,
        )


@dataclass(frozen=True, slots=True)
class QueueCaller:
    """A caller waiting in a queue (`QueueEntry`)."""

    queue: str
    position: int
    channel: str
    uniqueid: str
    caller_id_num: str
    caller_id_name: str
    wait_seconds: int
    priority: int
    raw: AmiFrame = field(compare=False, repr=False)

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> QueueCaller:
        return cls(
            queue=_text(frame, "Queue"),
            position=_int(frame, "Position"),
            channel=_text(frame, "Channel"),
            uniqueid=_text(frame, "Uniqueid"),
            caller_id_num=_text(frame, "CallerIDNum"),
            caller_id_name=_text(frame, "CallerIDName"),
            wait_seconds=_int(frame, "Wait"),
            priority=_int(frame, "Priority"),
            raw=frame,
        )


@dataclass(frozen=True, slots=True)
class QueueState:
    """One queue from QueueStatus: its parameters, members and waiting callers."""

    params: QueueParams
    members: tuple[QueueMemberState, ...]
    callers: tuple[QueueCaller, ...]

    @property
    def name(self) -> str:
        return self.params.name


@dataclass(frozen=True, slots=True)
class QueueStatusReport:
    queues: tuple[QueueState, ...]

    def queue(self, name: str) -> QueueState | None:
        return next((q for q in self.queues if q.name == name), None)

    @classmethod
    def from_frames(cls, frames: Sequence[AmiFrame]) -> QueueStatusReport:
        params: dict[str, QueueParams] = {}
        members: dict[str, list[QueueMemberState]] = {}
        callers: dict[str, list[QueueCaller]] = {}
        for frame in frames:
            kind = (frame.event or "").lower()
            queue = _text(frame, "Queue")
            if kind == "queueparams":
                params[queue] = QueueParams.from_frame(frame)
            elif kind == "queuemember":
                members.setdefault(queue, []).append(QueueMemberState.from_frame(frame))
            elif kind == "queueentry":
                callers.setdefault(queue, []).append(QueueCaller.from_frame(frame))
        names = list(params) + [n for n in [*members, *callers] if n not in params]
        queues = []
        for name in dict.fromkeys(names):
            queue_params = params.get(name) or QueueParams.from_frame(AmiFrame.of(Queue=name))
            queue_callers = sorted(callers.get(name, []), key=lambda c: c.position)
            queues.append(
                QueueState(queue_params, tuple(members.get(name, [])), tuple(queue_callers))
            )
        return cls(tuple(queues))


@dataclass(frozen=True, slots=True)
class QueueSummaryRow:
    queue: str
    logged_in: int
    available: int
    callers: int
    hold_time: int
    talk_time: int
    longest_hold_time: int
    raw: AmiFrame = field(compare=False, repr=False)

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> QueueSummaryRow:
        return cls(
            queue=_text(frame, "Queue"),
            logged_in=_int(frame, "LoggedIn"),
            available=_int(frame, "Available"),
            callers=_int(frame, "Callers"),
            hold_time=_int(frame, "HoldTime"),
            talk_time=_int(frame, "TalkTime"),
            longest_hold_time=_int(frame, "LongestHoldTime"),
            raw=frame,
        )


@dataclass(frozen=True, slots=True)
class ConfbridgeParticipant:
    conference: str
    channel: str
    uniqueid: str
    linkedid: str
    caller_id_num: str
    caller_id_name: str
    admin: bool
    marked: bool
    muted: bool
    talking: bool
    waiting: bool
    answered_seconds: int
    raw: AmiFrame = field(compare=False, repr=False)

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> ConfbridgeParticipant:
        return cls(
            conference=_text(frame, "Conference"),
            channel=_text(frame, "Channel"),
            uniqueid=_text(frame, "Uniqueid"),
            linkedid=_text(frame, "Linkedid"),
            caller_id_num=_text(frame, "CallerIDNum"),
            caller_id_name=_text(frame, "CallerIDName"),
            admin=_flag(frame, "Admin"),
            marked=_flag(frame, "MarkedUser"),
            muted=_flag(frame, "Muted"),
            talking=_flag(frame, "Talking"),
            waiting=_flag(frame, "Waiting"),
            answered_seconds=_int(frame, "AnsweredTime"),
            raw=frame,
        )


@dataclass(frozen=True, slots=True)
class MixMonitorStarted:
    action_id: str
    mixmonitor_id: str  # empty when Asterisk does not report one


@dataclass(frozen=True, slots=True)
class PingReply:
    timestamp: float  # Asterisk's clock, seconds since the epoch


def _local_datetime(day: str, clock: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class CoreStatus:
    """CoreStatus: when Asterisk started and last reloaded, and its call counters.

    Start/reload times are Asterisk's local wall-clock time (the reply carries no zone): compare
    them with each other, never with our clock.
    """

    startup_date: str
    startup_time: str
    reload_date: str
    reload_time: str
    current_calls: int
    processed_calls: int
    raw: AmiFrame = field(compare=False, repr=False)

    @property
    def started(self) -> datetime | None:
        return _local_datetime(self.startup_date, self.startup_time)

    @property
    def reloaded(self) -> datetime | None:
        return _local_datetime(self.reload_date, self.reload_time)

    @property
    def startup_stamp(self) -> str:
        return f"{self.startup_date} {self.startup_time}"

    @property
    def reload_stamp(self) -> str:
        return f"{self.reload_date} {self.reload_time}"

    @classmethod
    def from_frame(cls, frame: AmiFrame) -> CoreStatus:
        return cls(
            startup_date=_text(frame, "CoreStartupDate"),
            startup_time=_text(frame, "CoreStartupTime"),
            reload_date=_text(frame, "CoreReloadDate"),
            reload_time=_text(frame, "CoreReloadTime"),
            current_calls=_int(frame, "CoreCurrentCalls"),
            processed_calls=_int(frame, "CoreProcessedCalls"),
            raw=frame,
        )
