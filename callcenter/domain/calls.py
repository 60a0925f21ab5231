"""Call records: the vocabulary of a call's life, and the state machine that builds them.

`CallTracker` follows every call (one Asterisk Linkedid) through the telephony events of
`callcenter.domain.telephony` and keeps a `CallRecord` for it: who called, what they pressed
in the IVR, how long they waited in which queue, which operator answered, transfers, how it
ended. Events of one Linkedid must be applied in the order they arrived; calls may interleave.

Rules worth knowing (all visible in tests/fixtures/asterisk):
- A call ends when every channel seen for it has hung up (the caller's own leg often goes
  before the operator's, s1/s2). A call first seen in the middle (the tracker started late,
  `partial`) ends only once its primary channel (Uniqueid == Linkedid) was also seen hanging
  up, since legs that came and went before we looked are unknown; otherwise it waits for
  `close_interrupted` from reconciliation.
- Events arriving after the end (Asterisk emits some out of order, and the AMI dispatcher puts
  BlindTransfer/ChanSpy/failed OriginateResponse, which carry no Linkedid header, on another
  worker than the call's own events) are still applied, with their times clamped to the
  end: an AgentComplete after the last Hangup changes nothing (the talk segment was already
  closed at the hangup), a late QueueCallerAbandon or IVR_CLOSED fixes the disposition. A late
  event never reopens a call or adds a channel to it.
- `apply` takes each event's idempotency key; a key seen before is ignored, so a duplicate
  never changes a record twice.
- Direction: inbound when the primary channel enters an inbound number/context (the 8-800
  IVR), else outbound when the call was Originate'd (its first channel runs the `AppDial2`
  placeholder, or an OriginateResponse names it), else internal. The lab places its test
  callers with Originate too: inbound wins.
- Id: the Linkedid itself when it is a UUID (the AMI client gives every Originate a ChannelId,
  which becomes Uniqueid and Linkedid, s5/s10); else a CALL_UUID variable set during the call's
  setup (Originate `Variable:` headers arrive right after Newchannel; the record is held back
  until the first event past that setup, so nobody sees another id first); else uuid5 of the
  Linkedid (`call_id_for_linkedid`). A published id never changes (the calls table keeps it).
- Disposition, first rule that holds: interrupted (reconciliation); in progress; voicemail
  (the VoiceMail application ran, or a message was left); answered (an operator connected);
  queued but never connected: failed when Queue() itself gave up (QUEUESTATUS TIMEOUT, FULL,
  JOINEMPTY, ...) and the caller did not abandon first, else abandoned; inbound that never
  reached a queue: closed by IVR (IVR_CLOSED), failed (AGISTATUS FAILURE/NOTFOUND or
  IVR_FAILOVER), else hung up in IVR; originated: answered when OriginateResponse said 4,
  failed for any other reason code; otherwise answered if two channels were bridged or one
  went Up, else failed.
- Times: wait = first QueueCallerJoin to the first of AgentConnect, QueueCallerLeave,
  QueueCallerAbandon or the end; answered = first AgentConnect (queue calls), the originate
  answer or first bridge (others), never the IVR picking up; talk = the sum of operator
  segments (AgentConnect to AgentComplete or the end, which matches Asterisk's TalkTime), or
  answer to end for answered calls without a queue; IVR = the primary channel entering the
  inbound number to the queue join, operator connect, voicemail or end. A transfer is a
  successful BlindTransfer/AttendedTransfer, or the caller's channel running dialplan while an
  operator still holds it in Queue() (an AMI Redirect, s5: Asterisk sends no event for it).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from callcenter.domain import phones
from callcenter.domain.recent import DEDUP_WINDOW, RecentCache
from callcenter.domain.telephony import (
    AgentCalled,
    AgentCompleted,
    AgentConnected,
    AgentRingNoAnswer,
    AttendedTransferred,
    BlindTransferred,
    BridgeEntered,
    CallerIdChanged,
    ChannelCreated,
    ChannelHungUp,
    ChannelState,
    ChannelStateChanged,
    ChannelVariableSet,
    DialplanStep,
    DtmfDirection,
    DtmfReceived,
    FullyBooted,
    MessageWaiting,
    OriginateReason,
    OriginateResult,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberEvent,
    TelephonyEvent,
    TrackedVariable,
    Unhandled,
)
from callcenter.domain.transfers import TransferKind


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Disposition(StrEnum):
    IN_PROGRESS = "in_progress"
    CLOSED_BY_IVR = "closed_by_ivr"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    FAILED = "failed"
    # the caller hung up in the IVR without completing self-service
    HUNG_UP_IN_IVR = "hung_up_in_ivr"
    # the platform lost track (Asterisk restarted, call vanished): closed on reconciliation
    INTERRUPTED = "interrupted"


# Fixed forever: call ids derived from Linkedids must stay the same across releases.
CALL_ID_NAMESPACE = uuid.UUID("5b0e7a8c-2f41-5c3d-9e6a-7d1f0b4c8a21")

# Field widths of the calls table (callcenter/db/models/calls.py).
MAX_NUMBER = 32
MAX_NAME = 128
MAX_QUEUE = 64
MAX_TARGET = 128
MAX_IVR_NODES = 64
MAX_IVR_NODE = 32
MAX_AMD = 64
# A REDIRECT guessed from the dialplan and a BlindTransfer event for the same move can arrive
# in either order (different dispatcher workers); within this many seconds they are one transfer.
TRANSFER_MERGE_SECONDS = 5.0

_CANONICAL_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_PRINTABLE_ASCII = re.compile(r"[!-~]+")
_IVR_PATH_SPLIT = re.compile(r"[\s,/;>|]+")
_TRUTHY = frozenset({"1", "yes", "true", "on", "y"})
# QUEUESTATUS values meaning the queue, not the caller, ended the wait
_QUEUE_FAILURES = frozenset(
    {"TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY", "JOINUNAVAIL", "LEAVEUNAVAIL"}
)
_AGI_FAILURES = frozenset({"FAILURE", "NOTFOUND"})
# Newexten apps Asterisk shows on a channel it is still dialling (Originate, Queue member)
# Also the dialplan's bookkeeping before Answer: the shipped dialplan gives an inbound call its
# CALL_UUID first thing (Gosub sub-call-uuid), so the record is published under that id, the
# one the recording file is named by.
_SETUP_APPS = frozenset(
    {"appdial2", "appdial", "appqueue", "noop", "set", "gosub", "gotoif", "return"}
)


def call_id_for_linkedid(linkedid: str) -> uuid.UUID:
    """The platform's id for the call with this Linkedid when nobody chose one.

    A Linkedid that is itself a UUID (Originate with ChannelId, which the AMI client always
    uses) is taken as is; any other (`1795432716.0`) maps to a stable uuid5.
    """
    if _CANONICAL_UUID.fullmatch(linkedid):
        return uuid.UUID(linkedid)
    # the parser only lets ASCII identifiers through; stay total for anything else anyway
    name = linkedid.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return uuid.uuid5(CALL_ID_NAMESPACE, name)


def clean_text(value: str | None, limit: int) -> str | None:
    """Untrusted text (caller id, variables) made safe to show and store.

    Drops control and format characters (NUL, CR/LF, bidi overrides, ...), folds runs of
    whitespace, truncates to `limit`. None when nothing is left.
    """
    if value is None:
        return None
    kept = "".join(_clean_char(ch) for ch in value[: limit * 4])
    cleaned = " ".join(kept.split())[:limit].strip()
    return cleaned or None


def clean_number(value: str | None) -> str | None:
    """A telephone number from untrusted caller id: clean_text without any whitespace."""
    cleaned = clean_text(value, MAX_NUMBER * 4)
    if cleaned is None:
        return None
    return cleaned.replace(" ", "")[:MAX_NUMBER]


_NUMBER_SPELLING = re.compile(r"\+?[\d()\-.]+")


def stored_number(value: str | None) -> str | None:
    """The one form a number is stored in: E.164 when it is a public number in any usual
    spelling ('8 916 123-45-67', '+79161234567'); extensions and names ('101', 'busy') as
    they are. Searches accept any spelling (`phones.search_forms`)."""
    cleaned = clean_number(value)
    if not cleaned or not _NUMBER_SPELLING.fullmatch(cleaned):
        return cleaned
    return phones.normalise_or_keep(cleaned)


def _clean_char(ch: str) -> str:
    if ch.isspace():
        return " "
    return "" if unicodedata.category(ch).startswith(("C", "Z")) else ch


@dataclass(frozen=True, slots=True)
class OperatorLeg:
    """One time the queue rang an operator's phone (AgentCalled) and how that leg went."""

    uniqueid: str
    channel: str
    interface: str  # the queue member interface; the service maps it to an operator
    rang_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    kind: TransferKind
    at: datetime
    to_target: str  # e.g. "201@agents" (exten@context) or the transfer target's channel
    from_operator: str | None = None  # interface of the operator who had the call


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call as the platform reports it; mirrors the `calls` table.

    Times are event receive times. Seconds are floats (millisecond precision). While the call
    is in progress, `ended_at`, `talk_seconds` (and `wait_seconds`/`ivr_seconds` of a phase not
    yet over) are None and `disposition` is IN_PROGRESS.
    """

    id: uuid.UUID
    linkedid: str
    direction: Direction
    caller_number: str  # "" when unknown (the column is NOT NULL)
    caller_name: str | None
    dialled_number: str | None
    customer_id: int | None
    started_at: datetime
    answered_at: datetime | None  # operator connect for queue calls; answer otherwise
    ended_at: datetime | None
    ivr_path: tuple[str, ...]
    ivr_seconds: float | None
    ivr_closed: bool
    queue_name: str | None  # the first queue the call joined
    operator_interface: str | None  # AgentConnect Interface, e.g. Local/101@agents/n
    operator_name: str | None  # AgentConnect MemberName
    wait_seconds: float | None  # first QueueCallerJoin -> connect, abandon or leaving
    talk_seconds: float | None
    disposition: Disposition
    hangup_cause: int | None  # Q.850
    hangup_cause_text: str | None
    transfer_count: int
    transfers: tuple[Transfer, ...]
    is_queued_callback: bool
    priority: int
    originate_action_id: str | None
    originate_reason: int | None  # see OriginateReason (0, 3, 4, 5, 8 ...)
    amd_status: str | None  # HUMAN, MACHINE, NOTSURE, HANGUP
    amd_cause: str | None
    ring_no_answer_count: int  # operators rung in vain (AgentRingNoAnswer)
    recording_file: str | None  # MIXMONITOR_FILENAME as Asterisk sees it
    recording_notice_version: str | None  # which "this call is recorded" notice played
    partial: bool  # first seen in the middle of the call: early facts may be missing
    operator_legs: tuple[OperatorLeg, ...] = ()  # every ring of an operator's phone

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True, slots=True)
class CallUpdate:
    record: CallRecord
    ended_now: bool  # this event ended the call (every channel hung up)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0), 3)


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


@dataclass(slots=True)
class _Channel:
    uniqueid: str
    name: str | None
    hung_up: bool = False
    cause: int | None = None
    cause_text: str = ""


@dataclass(slots=True)
class _Call:
    linkedid: str
    started_at: datetime
    partial: bool
    last_event_at: datetime
    id: uuid.UUID | None = None  # pinned when the call is first published
    call_uuid: uuid.UUID | None = None
    published: bool = False
    last_record: CallRecord | None = None
    channels: dict[str, _Channel] = field(default_factory=dict)
    hangup_order: list[str] = field(default_factory=list)
    primary: str | None = None
    ended_at: datetime | None = None
    interrupted: bool = False
    inbound: bool = False
    originated: bool = False
    caller_number: str | None = None
    caller_name: str | None = None
    dialled_number: str | None = None
    first_exten: str | None = None
    customer_id: int | None = None
    priority: int = 0
    queued_callback: bool = False
    ivr_started_at: datetime | None = None
    ivr_ended_at: datetime | None = None
    ivr_uniqueid: str | None = None
    dtmf_path: list[str] = field(default_factory=list)
    ivr_path_var: tuple[str, ...] | None = None
    ivr_closed: bool = False
    agi_failed: bool = False
    ivr_failover: bool = False
    queue_name: str | None = None
    queue_joined_at: datetime | None = None
    queue_resolved_at: datetime | None = None
    queue_caller: str | None = None
    in_queue: bool = False
    abandoned: bool = False
    queue_status: str | None = None
    connected_at: datetime | None = None
    operator_interface: str | None = None
    operator_name: str | None = None
    current_operator: str | None = None  # who holds the call now (changes after a re-queue)
    segment_start: datetime | None = None
    talk_total: float = 0.0
    any_segment: bool = False
    transfer_since_connect: bool = False
    transfers: list[Transfer] = field(default_factory=list)
    operator_legs: dict[str, OperatorLeg] = field(default_factory=dict)
    voicemail: bool = False
    originate_action_id: str | None = None
    originate_reason: int | None = None
    originate_answered_at: datetime | None = None
    amd_status: str | None = None
    amd_cause: str | None = None
    bridged_at: datetime | None = None
    any_up: bool = False
    ring_no_answer: int = 0
    recording_file: str | None = None
    recording_notice: str | None = None

    def clamp(self, at: datetime) -> datetime:
        """Times of late events never go past the end of the call."""
        return at if self.ended_at is None or at <= self.ended_at else self.ended_at

    @property
    def direction(self) -> Direction:
        if self.inbound:
            return Direction.INBOUND
        if self.originated:
            return Direction.OUTBOUND
        return Direction.INTERNAL

    @property
    def answered_at(self) -> datetime | None:
        if self.connected_at is not None:
            return self.connected_at
        if self.inbound or self.queue_joined_at is not None:
            return None  # the IVR or a queue picking up is not the call being answered
        return self.originate_answered_at or self.bridged_at

    def disposition(self) -> Disposition:
        if self.interrupted:
            return Disposition.INTERRUPTED
        if self.ended_at is None:
            return Disposition.IN_PROGRESS
        if self.voicemail:
            return Disposition.VOICEMAIL
        if self.connected_at is not None:
            return Disposition.ANSWERED
        if self.queue_joined_at is not None:
            if not self.abandoned and self.queue_status in _QUEUE_FAILURES:
                return Disposition.FAILED
            return Disposition.ABANDONED
        if self.inbound:
            if self.ivr_closed:
                return Disposition.CLOSED_BY_IVR
            if self.agi_failed or self.ivr_failover:
                return Disposition.FAILED
            return Disposition.HUNG_UP_IN_IVR
        if self.originate_reason is not None:
            if self.originate_reason == OriginateReason.ANSWERED:
                return Disposition.ANSWERED
            return Disposition.FAILED
        if self.bridged_at is not None or self.any_up:
            return Disposition.ANSWERED
        return Disposition.FAILED

    def hangup_cause(self) -> tuple[int | None, str | None]:
        if self.ended_at is None:
            return None, None
        primary = self.channels.get(self.primary) if self.primary else None
        if primary is not None and primary.cause:
            return primary.cause, primary.cause_text or None
        for uniqueid in self.hangup_order:
            channel = self.channels[uniqueid]
            if channel.cause:
                return channel.cause, channel.cause_text or None
        if self.hangup_order:
            channel = self.channels[self.hangup_order[0]]
            return channel.cause, channel.cause_text or None
        return None, None

    def talk_seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        if self.any_segment:
            # open segments were closed at the end (`_finish`)
            return round(max(self.talk_total, 0.0), 3)
        if self.disposition() is Disposition.ANSWERED:
            return _seconds(self.answered_at, self.ended_at)
        return None

    def snapshot(self) -> CallRecord:
        wait_end = self.queue_resolved_at or self.ended_at
        ivr_end = self.ivr_ended_at or self.ended_at
        cause, cause_text = self.hangup_cause()
        ivr_path = self.ivr_path_var if self.ivr_path_var is not None else tuple(self.dtmf_path)
        return CallRecord(
            id=self.id or self.call_uuid or call_id_for_linkedid(self.linkedid),
            linkedid=self.linkedid,
            direction=self.direction,
            caller_number=self.caller_number or "",
            caller_name=self.caller_name,
            dialled_number=self.dialled_number or self._fallback_dialled(),
            customer_id=self.customer_id,
            started_at=self.started_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            ivr_path=ivr_path,
            ivr_seconds=_seconds(self.ivr_started_at, ivr_end),
            ivr_closed=self.ivr_closed,
            queue_name=self.queue_name,
            operator_interface=self.operator_interface,
            operator_name=self.operator_name,
            wait_seconds=_seconds(self.queue_joined_at, wait_end),
            talk_seconds=self.talk_seconds(),
            disposition=self.disposition(),
            hangup_cause=cause,
            hangup_cause_text=cause_text,
            transfer_count=len(self.transfers),
            transfers=tuple(self.transfers),
            operator_legs=tuple(sorted(self.operator_legs.values(), key=lambda leg: leg.rang_at)),
            is_queued_callback=self.queued_callback,
            priority=self.priority,
            originate_action_id=self.originate_action_id,
            originate_reason=self.originate_reason,
            amd_status=self.amd_status,
            amd_cause=self.amd_cause,
            ring_no_answer_count=self.ring_no_answer,
            recording_file=self.recording_file,
            recording_notice_version=self.recording_notice,
            partial=self.partial,
        )

    def _fallback_dialled(self) -> str | None:
        if self.inbound or self.first_exten in (None, "s"):
            return None
        # the dialer's Local/89161234567@outbound: the trunk's spelling, stored in E.164
        return stored_number(self.first_exten)


# Events a call's setup is made of: the tracker holds the record back until something else
# happens, so that a CALL_UUID given in the Originate's `Variable:` headers (VarSet right after
# Newchannel) can still name the call before anyone has seen it.
def _is_setup(event: TelephonyEvent) -> bool:
    if isinstance(event, ChannelCreated | CallerIdChanged | ChannelVariableSet):
        return True
    return isinstance(event, DialplanStep) and event.application.lower() in _SETUP_APPS


class CallTracker:
    """Per-Linkedid state machine producing CallRecords from telephony events.

    `inbound_numbers` / `inbound_contexts`: a call is inbound when its primary channel (the
    first one; Uniqueid == Linkedid) enters one of these extensions or dialplan contexts,
    e.g. {"88001000000"} / {"ivr"}. Ended calls are remembered for late events for
    `closed_window` after they end, event keys for de-duplication for `key_window` after they
    were seen (times are the events' own); `max_closed` and `max_keys` cap both in case traffic
    runs far above plan. At 2 calls/s (~100 events a call) that is ~600 ended calls and
    ~60,000 keys, reached 5 minutes after start.
    """

    def __init__(
        self,
        *,
        inbound_numbers: Iterable[str] = (),
        inbound_contexts: Iterable[str] = (),
        max_closed: int = 5_000,
        max_keys: int = 200_000,
        closed_window: timedelta = DEDUP_WINDOW,
        key_window: timedelta = DEDUP_WINDOW,
    ) -> None:
        if max_closed < 1 or max_keys < 1:
            raise ValueError("max_closed and max_keys must be positive")
        self._inbound_numbers = frozenset(inbound_numbers)
        self._inbound_contexts = frozenset(inbound_contexts)
        self._open: dict[str, _Call] = {}
        self._closed: RecentCache[str, _Call] = RecentCache(closed_window, max_closed)
        self._by_uniqueid: dict[str, str] = {}
        self._keys: RecentCache[str, None] = RecentCache(key_window, max_keys)

    # --- public API ---------------------------------------------------------------------

    def apply(self, event: TelephonyEvent, key: str | None = None) -> CallUpdate | None:
        """Feed one event; the call's new record if it changed, else None.

        `key` is the event's idempotency key (`ParsedEvent.key`): an event whose key was
        already applied is ignored. Events that are about no call (queue members, system
        events, Unhandled) return None.
        """
        if key is not None:
            if key in self._keys:
                return None
            self._keys.put(key, None, event.at)
        self._forget_closed(self._closed.expire(event.at))
        if isinstance(event, Unhandled | FullyBooted | QueueMemberEvent):
            return None
        if isinstance(event, OriginateResult):
            return self._apply_originate(event)
        call = self._call_for(event)
        if call is None:
            return None
        was_open = call.ended_at is None
        self._dispatch(call, event)
        call.last_event_at = _later(call.last_event_at, event.at)
        if was_open and self._all_hung_up(call):
            self._finish(call, event.at)
        return self._emit(call, ended_now=was_open and call.ended_at is not None, event=event)

    def close_interrupted(self, linkedid: str, now: datetime) -> CallRecord | None:
        """Close an open call Asterisk no longer has (reconciliation after a restart).

        `ended_at` is `now`; an operator conversation or queue wait still running is counted
        only up to the last event seen, the last moment it was known to be going on. None if
        the call is unknown or already ended.
        """
        call = self._open.get(linkedid)
        if call is None:
            return None
        last = call.last_event_at
        if call.segment_start is not None:
            call.talk_total += max((last - call.segment_start).total_seconds(), 0.0)
            call.segment_start = None
        if call.queue_joined_at is not None and call.queue_resolved_at is None:
            call.queue_resolved_at = last
        if call.ivr_started_at is not None and call.ivr_ended_at is None:
            call.ivr_ended_at = last
        call.interrupted = True
        self._finish(call, now)
        update = self._emit(call, ended_now=True, event=None)
        return update.record if update is not None else None

    def restore(self, record: CallRecord) -> None:
        """Take over an open call from storage (after our own restart), keeping its id.

        Only what a CallRecord holds comes back (no per-channel state): the call ends when its
        primary channel and every channel seen from now on have hung up, or on
        `close_interrupted`.
        """
        if not record.is_open or record.linkedid in self._open:
            return
        known = [record.started_at, record.answered_at, *(x.at for x in record.transfers)]
        call = _Call(
            linkedid=record.linkedid,
            started_at=record.started_at,
            partial=True,
            last_event_at=max(time for time in known if time is not None),
            id=record.id,
            published=True,
            primary=record.linkedid,
            inbound=record.direction is Direction.INBOUND,
            originated=record.direction is Direction.OUTBOUND,
            caller_number=record.caller_number or None,
            caller_name=record.caller_name,
            dialled_number=record.dialled_number,
            customer_id=record.customer_id,
            priority=record.priority,
            queued_callback=record.is_queued_callback,
            ivr_path_var=record.ivr_path or None,
            ivr_closed=record.ivr_closed,
            queue_name=record.queue_name,
            connected_at=record.answered_at if record.operator_interface else None,
            operator_interface=record.operator_interface,
            operator_name=record.operator_name,
            current_operator=record.operator_interface,
            transfers=list(record.transfers),
            originate_action_id=record.originate_action_id,
            originate_reason=record.originate_reason,
            amd_status=record.amd_status,
            amd_cause=record.amd_cause,
            ring_no_answer=record.ring_no_answer_count,
            recording_file=record.recording_file,
            recording_notice=record.recording_notice_version,
        )
        # the phases already over come back with their lengths, so later updates keep them
        if record.ivr_seconds is not None:
            call.ivr_started_at = record.started_at
            call.ivr_ended_at = record.started_at + timedelta(seconds=record.ivr_seconds)
        if call.connected_at is not None:
            call.segment_start = call.connected_at
            call.any_segment = True
            if record.wait_seconds is not None:
                call.queue_resolved_at = call.connected_at
                call.queue_joined_at = call.connected_at - timedelta(seconds=record.wait_seconds)
        call.last_record = call.snapshot()
        self._open[record.linkedid] = call

    def get(self, linkedid: str) -> CallRecord | None:
        call = self._open.get(linkedid) or self._closed.get(linkedid)
        return call.snapshot() if call else None

    def open_calls(self) -> list[CallRecord]:
        return [call.snapshot() for call in self._open.values()]

    def open_linkedids(self) -> frozenset[str]:
        return frozenset(self._open)

    def open_channels(self) -> frozenset[str]:
        """The names and uniqueids of the live channels of the calls in progress: what call
        control may name, so a cluster knows whose Asterisk has a channel."""
        found: set[str] = set()
        for call in self._open.values():
            for channel in call.channels.values():
                if channel.hung_up:
                    continue
                found.add(channel.uniqueid)
                if channel.name:
                    found.add(channel.name)
        return frozenset(found)

    # --- finding the call -----------------------------------------------------------------

    def _lookup(self, linkedid: str) -> _Call | None:
        return self._open.get(linkedid) or self._closed.get(linkedid)

    def _call_for(self, event: TelephonyEvent) -> _Call | None:
        linkedid = event.linkedid
        if linkedid is None and event.uniqueid is not None:
            linkedid = self._by_uniqueid.get(event.uniqueid)
        if linkedid is None:
            return None
        call = self._lookup(linkedid)
        if call is None:
            call = self._new_call(
                linkedid,
                event.at,
                partial=not (isinstance(event, ChannelCreated) and event.uniqueid == linkedid),
            )
        return call

    def _new_call(self, linkedid: str, at: datetime, *, partial: bool) -> _Call:
        call = _Call(linkedid=linkedid, started_at=at, partial=partial, last_event_at=at)
        self._open[linkedid] = call
        return call

    # --- applying events --------------------------------------------------------------------

    def _dispatch(self, call: _Call, event: TelephonyEvent) -> None:
        self._track_channel(call, event)
        at = call.clamp(event.at)
        match event:
            case ChannelHungUp():
                self._hangup(call, event)
            case DialplanStep():
                self._dialplan(call, event, at)
            case ChannelVariableSet():
                self._variable(call, event)
            case DtmfReceived():
                self._dtmf(call, event)
            case QueueCallerJoined():
                if call.queue_joined_at is None:
                    call.queue_joined_at = at
                    call.queue_name = clean_text(event.queue, MAX_QUEUE)
                    call.queue_caller = event.uniqueid
                elif call.connected_at is None and not call.abandoned:
                    # back in a queue with no operator yet (after a wait announcement, or an
                    # overflow): the wait goes on from the first join
                    call.queue_resolved_at = None
                call.in_queue = call.ended_at is None
                self._end_ivr(call, at)
            case QueueCallerLeft():
                call.in_queue = False
                self._resolve_wait(call, at)
            case QueueCallerAbandoned():
                call.abandoned = True
                call.in_queue = False
                self._resolve_wait(call, at)
            case AgentConnected():
                self._connect(call, event, at)
                leg = call.operator_legs.get(event.dest_uniqueid or "")
                if leg is not None and leg.answered_at is None:
                    call.operator_legs[leg.uniqueid] = replace(leg, answered_at=at)
            case AgentCompleted():
                if call.connected_at is None:
                    self._reconstruct_connect(call, event, at)
                self._close_segment(call, at)
                self._end_leg(call, event.dest_uniqueid, at)
            case AgentCalled():
                if event.dest_uniqueid and event.dest_uniqueid not in call.operator_legs:
                    call.operator_legs[event.dest_uniqueid] = OperatorLeg(
                        uniqueid=clean_text(event.dest_uniqueid, 64) or "",
                        channel=clean_text(event.dest_channel or "", 128) or "",
                        interface=clean_text(event.interface, 128) or "",
                        rang_at=at,
                    )
            case AgentRingNoAnswer():
                call.ring_no_answer += 1
                self._end_leg(call, event.dest_uniqueid, at)
            case BridgeEntered():
                if (event.num_channels or 0) >= 2 and call.bridged_at is None:
                    call.bridged_at = at
            case ChannelStateChanged():
                if event.state is ChannelState.UP:
                    call.any_up = True
            case BlindTransferred():
                if event.succeeded:
                    target = _target(event.target_exten, event.target_context)
                    self._transfer(call, TransferKind.BLIND, at, target)
            case AttendedTransferred():
                if event.succeeded:
                    target = event.target_exten or event.target_channel or event.dest_app
                    self._transfer(call, TransferKind.ATTENDED, at, target or "")
            case MessageWaiting():
                call.voicemail = True
                self._end_ivr(call, at)
            case _:
                pass

    def _track_channel(self, call: _Call, event: TelephonyEvent) -> None:
        uniqueid = event.uniqueid
        if uniqueid is None or isinstance(
            event, BlindTransferred | AttendedTransferred | MessageWaiting
        ):
            return
        if uniqueid not in call.channels:
            if call.ended_at is not None:
                return  # a late event never adds a channel to an ended call
            call.channels[uniqueid] = _Channel(uniqueid, event.channel)
            self._by_uniqueid[uniqueid] = call.linkedid
        if call.primary is None or (uniqueid == call.linkedid and call.primary != uniqueid):
            call.primary = uniqueid
        if uniqueid != call.primary:
            return
        if call.caller_number is None:
            call.caller_number = stored_number(event.caller_id_num)
        if call.caller_name is None:
            call.caller_name = clean_text(event.caller_id_name, MAX_NAME)
        if call.first_exten is None and isinstance(event, ChannelCreated):
            call.first_exten = clean_number(event.exten)
        if not call.inbound and call.ended_at is None and self._is_inbound_entry(event):
            call.inbound = True
            call.dialled_number = stored_number(event.exten)
            if not call.partial:
                # seen from the middle, we cannot tell when (or whether) the IVR began
                call.ivr_started_at = event.at
                call.ivr_uniqueid = uniqueid

    def _is_inbound_entry(self, event: TelephonyEvent) -> bool:
        return (event.exten is not None and event.exten in self._inbound_numbers) or (
            event.context is not None and event.context in self._inbound_contexts
        )

    def _end_leg(self, call: _Call, uniqueid: str | None, at: datetime) -> None:
        leg = call.operator_legs.get(uniqueid or "")
        if leg is not None and leg.ended_at is None:
            call.operator_legs[leg.uniqueid] = replace(leg, ended_at=at)

    def _hangup(self, call: _Call, event: ChannelHungUp) -> None:
        self._end_leg(call, event.uniqueid, event.at)
        channel = call.channels.get(event.uniqueid or "")
        if channel is None or channel.hung_up:
            return
        channel.hung_up = True
        channel.cause = event.cause
        channel.cause_text = event.cause_text
        call.hangup_order.append(channel.uniqueid)

    def _dialplan(self, call: _Call, event: DialplanStep, at: datetime) -> None:
        app = event.application.lower()
        if event.uniqueid == call.primary and app in ("appdial2", "appdial"):
            call.originated = True  # Originate dials its channel through this placeholder app
        if app == "voicemail":
            call.voicemail = True
            self._end_ivr(call, at)
        # The caller's channel runs dialplan while an operator holds it in Queue(): only an
        # AMI Redirect (or AsyncGoto) takes a bridged channel out like that (s5).
        if (
            call.ended_at is None
            and event.uniqueid is not None
            and event.uniqueid == call.queue_caller
            and call.segment_start is not None
            and not call.transfer_since_connect
        ):
            target = _target(event.exten or "", event.context or "")
            self._transfer(call, TransferKind.REDIRECT, at, target)

    def _variable(self, call: _Call, event: ChannelVariableSet) -> None:
        value = event.value.strip()
        match event.variable:
            case TrackedVariable.CALL_UUID:
                if not call.published and _CANONICAL_UUID.fullmatch(value):
                    call.call_uuid = uuid.UUID(value)
            case TrackedVariable.CUSTOMER_ID:
                if value.isascii() and value.isdigit() and len(value) <= 18:
                    call.customer_id = int(value)
            case TrackedVariable.IVR_PATH:
                call.ivr_path_var = _parse_ivr_path(value)
            case TrackedVariable.IVR_CLOSED:
                call.ivr_closed = value.lower() in _TRUTHY
            case TrackedVariable.IVR_FAILOVER:
                call.ivr_failover = value.lower() in _TRUTHY
            case TrackedVariable.IVR_PRIORITY:
                if value.isascii() and value.lstrip("-").isdigit() and len(value) <= 6:
                    call.priority = int(value)
            case TrackedVariable.QUEUED_CALLBACK:
                call.queued_callback = value.lower() in _TRUTHY
            case TrackedVariable.AGISTATUS:
                if value.upper() in _AGI_FAILURES:
                    call.agi_failed = True
            case TrackedVariable.AMDSTATUS:
                call.amd_status = clean_text(value.upper(), MAX_AMD)
            case TrackedVariable.AMDCAUSE:
                call.amd_cause = clean_text(value, MAX_AMD)
            case TrackedVariable.QUEUESTATUS:
                call.queue_status = clean_text(value.upper(), MAX_AMD)
            case TrackedVariable.VMSTATUS:
                if value.upper() == "SUCCESS":
                    call.voicemail = True
            case TrackedVariable.MIXMONITOR_FILENAME:
                if call.recording_file is None:
                    call.recording_file = clean_text(value, 1024)
            case TrackedVariable.RECORDING_NOTICE:
                call.recording_notice = clean_text(value, 32) or None
            case TrackedVariable.IVR_TARGET:
                pass  # where the IVR sent the caller shows up as QueueCallerJoin anyway
            case TrackedVariable.DIAL_OPERATOR:
                # an operator's own call: theirs from the start, their extension the caller
                interface = clean_text(value, MAX_TARGET)
                if interface and call.operator_interface is None:
                    call.operator_interface = interface
                    call.current_operator = interface
                    # PJSIP/101 or Local/101@agents: the caller is extension 101
                    extension = interface.rsplit("/", 1)[-1].split("@", 1)[0]
                    call.caller_number = stored_number(extension)
            case TrackedVariable.DIAL_NUMBER:
                number = stored_number(value)
                if number:
                    call.dialled_number = number
                    # a public number is an outbound call; an extension stays internal
                    call.originated = call.originated or number.startswith("+")

    def _dtmf(self, call: _Call, event: DtmfReceived) -> None:
        in_ivr = (
            call.ended_at is None
            and call.ivr_started_at is not None
            and call.ivr_ended_at is None
            and event.uniqueid == call.ivr_uniqueid
        )
        # Sent digits and digits on other legs (an operator's *2 feature code, s15) are not
        # the caller's menu choices.
        wanted = in_ivr and event.direction is not DtmfDirection.SENT
        if wanted and len(call.dtmf_path) < MAX_IVR_NODES:
            call.dtmf_path.append(event.digit)

    def _connect(self, call: _Call, event: AgentConnected, at: datetime) -> None:
        self._resolve_wait(call, at)
        self._end_ivr(call, at)
        call.in_queue = False
        if call.queue_name is None:
            call.queue_name = clean_text(event.queue, MAX_QUEUE)
        if call.queue_caller is None:
            call.queue_caller = event.uniqueid
        interface = clean_text(event.interface, MAX_TARGET)
        if call.connected_at is None:
            call.connected_at = at
            call.operator_interface = interface
            call.operator_name = clean_text(event.member_name, MAX_NAME)
        call.current_operator = interface
        self._close_segment(call, at)
        if call.ended_at is None:
            call.segment_start = at
            call.any_segment = True
        call.transfer_since_connect = False

    def _reconstruct_connect(self, call: _Call, event: AgentCompleted, at: datetime) -> None:
        """An AgentComplete without the AgentConnect (a call first seen mid-conversation):
        Asterisk's own TalkTime and HoldTime say when the operator answered and how long
        the caller had waited."""
        talk = timedelta(seconds=event.talk_time or 0)
        hold = timedelta(seconds=event.hold_time or 0)
        connected = at - talk
        call.connected_at = connected
        call.operator_interface = clean_text(event.interface, MAX_TARGET)
        call.operator_name = clean_text(event.member_name, MAX_NAME)
        call.current_operator = call.operator_interface
        if call.queue_name is None:
            call.queue_name = clean_text(event.queue, MAX_QUEUE)
        if call.queue_joined_at is None:
            call.queue_joined_at = connected - hold
            call.queue_resolved_at = connected
        call.started_at = min(call.started_at, call.queue_joined_at)
        call.segment_start = connected
        call.any_segment = True

    def _close_segment(self, call: _Call, at: datetime) -> None:
        if call.segment_start is not None:
            call.talk_total += max((at - call.segment_start).total_seconds(), 0.0)
            call.segment_start = None

    def _resolve_wait(self, call: _Call, at: datetime) -> None:
        if call.queue_joined_at is not None and call.queue_resolved_at is None:
            call.queue_resolved_at = at

    def _end_ivr(self, call: _Call, at: datetime) -> None:
        if call.ivr_started_at is not None and call.ivr_ended_at is None:
            call.ivr_ended_at = at

    def _transfer(self, call: _Call, kind: TransferKind, at: datetime, target: str) -> None:
        target = clean_text(target, MAX_TARGET) or ""
        last = call.transfers[-1] if call.transfers else None
        if (
            last is not None
            and {last.kind, kind} == {TransferKind.REDIRECT, TransferKind.BLIND}
            and last.to_target == target
            and abs((at - last.at).total_seconds()) <= TRANSFER_MERGE_SECONDS
        ):
            # the same move seen twice: the dialplan jump and the BlindTransfer event
            if kind is TransferKind.BLIND:
                call.transfers[-1] = Transfer(kind, last.at, target, last.from_operator)
            return
        call.transfers.append(Transfer(kind, at, target, call.current_operator))
        call.transfer_since_connect = True

    # --- originate ------------------------------------------------------------------------

    def _apply_originate(self, event: OriginateResult) -> CallUpdate | None:
        call = self._originated_call(event)
        if call is None:
            return None
        was_open = call.ended_at is None
        call.originated = True
        if call.originate_reason is None or call.originate_reason != event.reason:
            call.originate_reason = event.reason
            call.originate_action_id = clean_text(event.action_id, MAX_TARGET)
            if event.reason == OriginateReason.ANSWERED and call.originate_answered_at is None:
                call.originate_answered_at = call.clamp(event.at)
        if call.dialled_number is None and not call.inbound and not event.success:
            call.dialled_number = _dialled_from(event.channel)
        call.last_event_at = _later(call.last_event_at, event.at)
        if was_open and not call.channels and event.reason != OriginateReason.ANSWERED:
            # nothing was ever created for it: the response is all there is
            self._finish(call, event.at)
        return self._emit(call, ended_now=was_open and call.ended_at is not None, event=event)

    def _originated_call(self, event: OriginateResult) -> _Call | None:
        for ident in (event.channel_id, event.uniqueid):
            if ident is not None:
                call = self._lookup(self._by_uniqueid.get(ident, ident))
                if call is not None:
                    return call
        if event.uniqueid is None and event.channel:
            call = self._by_dial_string(event.channel)
            if call is not None:
                return call
        if event.channel_id is not None:
            return self._new_call(event.channel_id, event.at, partial=True)
        if event.action_id is None:
            return None
        # No channel, no id: keep the outcome anyway, under a name of its own.
        linkedid = f"originate:{event.action_id}"
        if len(linkedid) > 64 or not _PRINTABLE_ASCII.fullmatch(linkedid):
            linkedid = "originate:" + call_id_for_linkedid(event.action_id).hex
        return self._lookup(linkedid) or self._new_call(linkedid, event.at, partial=False)

    def _by_dial_string(self, dial: str) -> _Call | None:
        """A failed Originate names the dial string (`Local/busy@outbound-sim`) and no
        channel; its channel, if one was made, is `<dial string>-<sequence>;1` (s6, s11).
        Oldest candidate first, as Asterisk answers Originates in order."""
        prefix = dial + "-"
        candidates = [
            call
            for call in (*self._open.values(), *reversed(list(self._closed.values())))
            if call.originate_reason is None
            and not call.inbound
            and call.primary is not None
            and (getattr(call.channels.get(call.primary), "name", None) or "").startswith(prefix)
        ]
        return min(candidates, key=lambda c: c.started_at) if candidates else None

    # --- ending and publishing ------------------------------------------------------------

    def _all_hung_up(self, call: _Call) -> bool:
        if not call.channels or not all(ch.hung_up for ch in call.channels.values()):
            return False
        if call.partial:
            primary = call.channels.get(call.linkedid)
            return primary is not None and primary.hung_up
        return True

    def _finish(self, call: _Call, at: datetime) -> None:
        call.ended_at = at
        for uniqueid in list(call.operator_legs):
            self._end_leg(call, uniqueid, at)
        call.in_queue = False
        self._close_segment(call, at)
        del self._open[call.linkedid]
        self._forget_closed(self._closed.put(call.linkedid, call, at))

    def _forget_closed(self, dropped: list[tuple[str, _Call]]) -> None:
        for _, old in dropped:
            for uniqueid in old.channels:
                if self._by_uniqueid.get(uniqueid) == old.linkedid:
                    del self._by_uniqueid[uniqueid]

    def memory_sizes(self) -> dict[str, int]:
        """Entries in each cache the tracker keeps (for /metrics and tests)."""
        return {
            "open_calls": len(self._open),
            "closed_calls": len(self._closed),
            "event_keys": len(self._keys),
            "channels": len(self._by_uniqueid),
        }

    def _emit(
        self, call: _Call, *, ended_now: bool, event: TelephonyEvent | None
    ) -> CallUpdate | None:
        if not call.published:
            if event is not None and _is_setup(event) and not ended_now:
                return None
            call.published = True
        if call.id is None:
            call.id = call.call_uuid or call_id_for_linkedid(call.linkedid)
        record = call.snapshot()
        if record == call.last_record and not ended_now:
            return None
        call.last_record = record
        return CallUpdate(record, ended_now)


def _target(exten: str, context: str) -> str:
    return f"{exten}@{context}" if exten and context else exten or context


def _dialled_from(dial: str | None) -> str | None:
    """`PJSIP/89161234567@trunk` -> `89161234567`; `Local/busy@outbound-sim` -> `busy`."""
    if not dial:
        return None
    resource = dial.split("/", 1)[-1]
    return stored_number(resource.split("@", 1)[0])


def _parse_ivr_path(value: str) -> tuple[str, ...]:
    nodes = (clean_text(part, MAX_IVR_NODE) for part in _IVR_PATH_SPLIT.split(value))
    return tuple(node for node in nodes if node)[:MAX_IVR_NODES]
