"""Simulated channels: what Asterisk keeps per channel, and the AMI field block describing one.

Every channel-bearing AMI event carries the same 14 fields (Channel ... Linkedid), optionally
prefixed (`Dest`, `LocalOne`, `Transferee`...); `channel_fields` builds that block.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from callcenter.sim.clock import Clock
from callcenter.sim.dialplan import Extension

UNKNOWN = "<unknown>"


class ChannelState(IntEnum):
    DOWN = 0
    RESERVED = 1
    OFFHOOK = 2
    DIALING = 3
    RING = 4
    RINGING = 5
    UP = 6
    BUSY = 7

    @property
    def desc(self) -> str:
        return _STATE_DESC[self]


_STATE_DESC = {
    ChannelState.DOWN: "Down",
    ChannelState.RESERVED: "Rsrvd",
    ChannelState.OFFHOOK: "OffHook",
    ChannelState.DIALING: "Dialing",
    ChannelState.RING: "Ring",
    ChannelState.RINGING: "Ringing",
    ChannelState.UP: "Up",
    ChannelState.BUSY: "Busy",
}

# ISDN causes Asterisk reports in Hangup (ast_cause2str).
CAUSE_TEXT = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    27: "Destination out of order",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    127: "Interworking, unspecified",
}
CAUSE_NORMAL = 16
CAUSE_BUSY = 17
CAUSE_NO_ANSWER = 19
CAUSE_CONGESTION = 34

# SoftHangupRequest carries the soft-hangup flag, not an ISDN cause.
SOFTHANGUP_ASYNCGOTO = 2
SOFTHANGUP_APPUNLOAD = 16  # the channel's dialplan ended
SOFTHANGUP_EXPLICIT = 32  # AGI HANGUP, Hangup action


@dataclass
class Party:
    """A caller-id / connected-line party; None means Asterisk's `<unknown>`."""

    num: str | None = None
    name: str | None = None

    def copy(self) -> Party:
        return Party(self.num, self.name)


# Reasons a waiting application can be woken by. HANGUP and GOTO always wake it; DIGIT and
# MEDIA are conditions (digits buffered, audio flowing); the others are one-shot signals
# consumed by the wait that returns them.
HANGUP = "hangup"
GOTO = "goto"
DIGIT = "digit"
MEDIA = "media"
TIMEOUT = "timeout"
ANSWERED = "answered"  # the dialled channel answered
RINGING = "ringing"  # the dialled channel is ringing
BUSY = "busy"
CONGESTION = "congestion"
PEER = "peer"  # a channel this one watches was asked to hang up
QUEUE = "queue"  # something changed in the queue this caller waits in
SCRIPT = "script"  # the simulated caller decided to hang up
ALWAYS = frozenset({HANGUP, GOTO})


@dataclass(eq=False)
class Bridge:
    """A mixing room channels talk in (two-party calls, conferences); see `bridges`."""

    uniqueid: str
    type: str = "basic"
    technology: str = "simple_bridge"
    creator: str = UNKNOWN
    name: str = UNKNOWN
    channels: list[Channel] = field(default_factory=list)
    created: float = 0.0
    destroyed: bool = False
    phantoms: int = 0  # members without channels of their own (ConfBridge's announcer)


@dataclass(eq=False)
class Channel:
    name: str
    uniqueid: str
    linkedid: str
    tech: str
    device: str
    created: float  # simulated seconds
    created_epoch: float
    state: ChannelState = ChannelState.DOWN
    caller: Party = field(default_factory=Party)
    connected: Party = field(default_factory=Party)
    language: str = "en"
    accountcode: str = ""
    context: str = ""
    exten: str = ""
    priority: int = 1
    appl: str = ""
    data: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    bridge: Bridge | None = None
    local_peer: Channel | None = None
    local_half: int | None = None  # 1 or 2 for Local channels
    hangup_cause: int = 0
    soft_hangup: bool = False  # hangup requested: the running application must stop
    hungup: bool = False  # the Hangup event has been sent
    pbx_running: bool = False
    pending_goto: tuple[str, str, int] | None = None
    dtmf: deque[str] = field(default_factory=deque)
    media: bool = False  # the other side has started sending audio
    signals: set[str] = field(default_factory=set)
    watchers: list[Channel] = field(default_factory=list)  # told (PEER) when we must hang up
    script: object | None = None  # what drives a simulated caller / called party
    extension: Extension | None = None  # the Extension being run, resolved once per exten
    extension_key: str = ""
    moh_class: str | None = None
    on_hangup: list[Callable[[], None]] = field(default_factory=list)
    pbx_task: asyncio.Task[object] | None = field(default=None, repr=False)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    hangup_requested: asyncio.Event = field(default_factory=asyncio.Event)
    _waiter: asyncio.Future[str] | None = field(default=None, repr=False)
    _accept: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def is_local(self) -> bool:
        return self.local_half is not None

    def signal(self, reason: str) -> None:
        """Deliver `reason`; the current wait returns it if it listens, else it is kept."""
        if reason not in (DIGIT, MEDIA, HANGUP, GOTO):
            self.signals.add(reason)
        waiter = self._waiter
        if (
            waiter is not None
            and not waiter.done()
            and (reason in self._accept or reason in ALWAYS)
        ):
            self.signals.discard(reason)
            waiter.set_result(reason)

    def pending(self, accept: frozenset[str]) -> str | None:
        """A wake-up reason that already holds, so a new wait returns at once."""
        if self.soft_hangup:
            return HANGUP
        if self.pending_goto is not None:
            return GOTO
        if DIGIT in accept and self.dtmf:
            return DIGIT
        if MEDIA in accept and self.media:
            return MEDIA
        for reason in sorted(self.signals & accept):
            self.signals.discard(reason)
            return reason
        return None

    async def wait(
        self, clock: Clock, seconds: float | None, accept: frozenset[str] = frozenset()
    ) -> str:
        """Wait up to `seconds` (None: forever) for a reason in `accept`, hangup or goto.

        Returns the reason, or TIMEOUT.
        """
        ready = self.pending(accept)
        if ready is not None:
            return ready
        if seconds is not None and seconds <= 0:
            return TIMEOUT
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[str] = loop.create_future()
        self._waiter = waiter
        self._accept = accept
        timer = None
        if seconds is not None:

            def expire() -> None:
                if not waiter.done():
                    waiter.set_result(TIMEOUT)

            timer = clock.call_later(seconds, expire)
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if self._waiter is waiter:
                self._waiter = None
                self._accept = frozenset()

    def push_digit(self, digit: str) -> None:
        self.dtmf.append(digit)
        self.signal(DIGIT)

    def start_media(self) -> None:
        if not self.media:
            self.media = True
            self.signal(MEDIA)


def channel_fields(chan: Channel, prefix: str = "") -> list[tuple[str, str]]:
    """The standard channel block of an AMI event, optionally prefixed ("Dest", ...)."""
    return [
        (f"{prefix}Channel", chan.name),
        (f"{prefix}ChannelState", str(int(chan.state))),
        (f"{prefix}ChannelStateDesc", chan.state.desc),
        (f"{prefix}CallerIDNum", chan.caller.num or UNKNOWN),
        (f"{prefix}CallerIDName", chan.caller.name or UNKNOWN),
        (f"{prefix}ConnectedLineNum", chan.connected.num or UNKNOWN),
        (f"{prefix}ConnectedLineName", chan.connected.name or UNKNOWN),
        (f"{prefix}Language", chan.language),
        (f"{prefix}AccountCode", chan.accountcode),
        (f"{prefix}Context", chan.context),
        (f"{prefix}Exten", chan.exten),
        (f"{prefix}Priority", str(chan.priority)),
        (f"{prefix}Uniqueid", chan.uniqueid),
        (f"{prefix}Linkedid", chan.linkedid),
    ]
