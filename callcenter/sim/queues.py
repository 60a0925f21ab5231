"""Call queues as app_queue keeps them: configuration, members, waiting callers, statistics,
and the ring strategies (`metric` is app_queue's calc_metric; lower metric rings first).

Nothing here does I/O or emits events: the Queue() application (`queue_app.py`) and the AMI
actions drive this model and report what changed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Strategy(StrEnum):
    RINGALL = "ringall"
    LEASTRECENT = "leastrecent"
    FEWESTCALLS = "fewestcalls"
    RANDOM = "random"
    RRMEMORY = "rrmemory"
    RRORDERED = "rrordered"
    LINEAR = "linear"
    WRANDOM = "wrandom"


class DeviceStatus(IntEnum):
    """ast_device_state values, as QueueMember `Status` reports them."""

    UNKNOWN = 0
    NOT_INUSE = 1
    INUSE = 2
    BUSY = 3
    INVALID = 4
    UNAVAILABLE = 5
    RINGING = 6
    RINGINUSE = 7
    ONHOLD = 8


class MemberResult(StrEnum):
    OK = "ok"
    EXISTS = "exists"
    NO_SUCH_QUEUE = "no_such_queue"
    NOT_THERE = "not_there"


@dataclass
class QueueConfig:
    """The queues.conf options the simulator honours."""

    name: str
    strategy: Strategy = Strategy.RINGALL
    timeout: float = 15.0  # seconds a member rings before RINGNOANSWER
    retry: float = 5.0  # pause between ring attempts
    wrapuptime: float = 0.0
    weight: int = 0
    maxlen: int = 0
    servicelevel: int = 0
    joinempty: bool = True
    leavewhenempty: bool = False
    ringinuse: bool = True
    music_class: str = "default"

    def __post_init__(self) -> None:
        self.strategy = Strategy(self.strategy)


def lab_queue_configs() -> list[QueueConfig]:
    """lab-queues.conf plus the branch call centres' overflow queue the platform uses."""
    return [
        QueueConfig("line1", Strategy.LEASTRECENT, timeout=15, retry=1, wrapuptime=2),
        QueueConfig("line2", Strategy.RRMEMORY, timeout=15, retry=1),
        QueueConfig("line3", Strategy.RINGALL, timeout=5, retry=2),
        # nobody signed in at the branches: a caller is not sent to wait there
        QueueConfig("branch-overflow", Strategy.RINGALL, timeout=20, retry=2, joinempty=False),
    ]


@dataclass(eq=False)
class Member:
    interface: str
    membername: str
    state_interface: str
    logintime: int
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    dynamic: bool = True
    calls: int = 0
    lastcall: int = 0  # epoch seconds of the end of the last call
    lastcall_end: float = -1e9  # simulated seconds, for wrap-up
    lastpause: int = 0
    wrapuptime: float = 0.0
    ringinuse: bool = True
    status: DeviceStatus = DeviceStatus.NOT_INUSE
    in_call_since: float | None = None  # app_queue's member->starttime
    ringing_for: str | None = None  # uniqueid of the caller this member is being rung for
    queuepos: int = 0

    def fields(self) -> list[tuple[str, str]]:
        """The member block of QueueMemberAdded/Removed/Pause/Penalty/Status."""
        return [
            ("MemberName", self.membername),
            ("Interface", self.interface),
            ("StateInterface", self.state_interface),
            ("Membership", "dynamic" if self.dynamic else "static"),
            ("Penalty", str(self.penalty)),
            ("CallsTaken", str(self.calls)),
            ("LastCall", str(self.lastcall)),
            ("LastPause", str(self.lastpause)),
            ("LoginTime", str(self.logintime)),
            ("InCall", "1" if self.in_call_since is not None else "0"),
            ("Status", str(int(self.status))),
            ("Paused", "1" if self.paused else "0"),
            ("PausedReason", self.paused_reason),
            ("Ringinuse", "1" if self.ringinuse else "0"),
            ("Wrapuptime", str(int(self.wrapuptime))),
        ]

    def in_wrapup(self, now: float, queue_wrapup: float) -> bool:
        wrapup = self.wrapuptime or queue_wrapup
        return wrapup > 0 and now < self.lastcall_end + wrapup

    def can_ring(self, now: float, queue_wrapup: float) -> bool:
        """Free to take a call: not paused, not in wrap-up, not on a call, not being rung.

        Asterisk with ringinuse=yes would ring a member who is already on a call; the
        simulated operators behave like phones without call waiting, so they are skipped.
        """
        return (
            not self.paused
            and self.ringing_for is None
            and self.in_call_since is None
            and self.status in (DeviceStatus.NOT_INUSE, DeviceStatus.UNKNOWN)
            and not self.in_wrapup(now, queue_wrapup)
        )


@dataclass(eq=False)
class QueueCaller:
    uniqueid: str
    joined: float  # simulated seconds
    joined_epoch: int
    prio: int = 0
    opos: int = 0
    linpos: int = 0
    linwrapped: bool = False
    ringing: bool = False


@dataclass(eq=False)
class CallQueue:
    config: QueueConfig
    members: dict[str, Member] = field(default_factory=dict)
    callers: list[QueueCaller] = field(default_factory=list)
    rrpos: int = 0
    wrapped: bool = False
    holdtime: int = 0
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0
    completed_in_sl: int = 0
    abandoned_in_sl: int = 0
    _next_pos: int = 0

    @property
    def name(self) -> str:
        return self.config.name

    # --- members ---------------------------------------------------------------------
    def add_member(self, member: Member) -> MemberResult:
        if member.interface in self.members:
            return MemberResult.EXISTS
        member.queuepos = self._next_pos
        self._next_pos += 1
        self.members[member.interface] = member
        return MemberResult.OK

    def remove_member(self, interface: str) -> Member | None:
        return self.members.pop(interface, None)

    def available_count(self, now: float) -> int:
        return sum(1 for m in self.members.values() if m.can_ring(now, self.config.wrapuptime))

    def has_available(self, now: float) -> bool:
        """Queue:<name>_avail: a member who is logged in, unpaused and not in wrap-up."""
        return any(
            not m.paused
            and m.status in (DeviceStatus.NOT_INUSE, DeviceStatus.UNKNOWN)
            and m.in_call_since is None
            and not m.in_wrapup(now, self.config.wrapuptime)
            for m in self.members.values()
        )

    # --- callers ---------------------------------------------------------------------
    def join(self, caller: QueueCaller, position: int = 0) -> int:
        """Insert by priority (higher first, then arrival); returns the 1-based position.

        `position` (Queue()'s 9th argument, 0: none) puts the caller at that place at most,
        never ahead of a caller of higher priority (app_queue.c join_queue)."""
        index = len(self.callers)
        for i, other in enumerate(self.callers):
            if caller.prio > other.prio:
                index = i
                break
            if position and caller.prio >= other.prio and position <= i + 1:
                index = i
                break
        self.callers.insert(index, caller)
        caller.opos = index + 1
        return index + 1

    def position(self, uniqueid: str) -> int:
        for index, caller in enumerate(self.callers, start=1):
            if caller.uniqueid == uniqueid:
                return index
        return 0

    def leave(self, uniqueid: str) -> int:
        position = self.position(uniqueid)
        if position:
            del self.callers[position - 1]
        return position

    def is_our_turn(self, uniqueid: str, now: float) -> bool:
        """autofill=yes: the first N waiting callers ring when N members are free."""
        position = self.position(uniqueid)
        if position == 0:
            return False
        ahead_ringing = sum(1 for c in self.callers[: position - 1] if c.ringing)
        return position - ahead_ringing <= self.available_count(now)

    # --- statistics ------------------------------------------------------------------
    def record_holdtime(self, seconds: int) -> None:
        if self.completed + self.abandoned == 0:
            self.holdtime = seconds
        else:
            self.holdtime = ((self.holdtime << 2) - self.holdtime + seconds) >> 2

    def record_completed(self, talk_seconds: int, in_sl: bool) -> None:
        self.completed += 1
        if in_sl:
            self.completed_in_sl += 1
        if self.completed == 1:
            self.talktime = talk_seconds
        else:
            self.talktime = ((self.talktime << 2) - self.talktime + talk_seconds) >> 2

    def record_abandoned(self, in_sl: bool) -> None:
        self.abandoned += 1
        if in_sl:
            self.abandoned_in_sl += 1

    def service_levels(self) -> tuple[float, float]:
        """ServicelevelPerf and ServicelevelPerf2 of QueueParams."""
        perf = 100 * self.completed_in_sl / self.completed if self.completed else 0.0
        total = self.completed + self.abandoned
        perf2 = 100 * (self.abandoned_in_sl + self.completed_in_sl) / total if total else 0.0
        return perf, perf2


@dataclass
class Attempt:
    member: Member
    metric: int


def metric(
    strategy: Strategy,
    member: Member,
    pos: int,
    queue: CallQueue,
    caller: QueueCaller,
    now_epoch: int,
    rng: random.Random,
) -> int:
    """app_queue's calc_metric for one member (penalties always count: penaltymemberslimit=0)."""
    penalty = member.penalty * 1_000_000
    if strategy is Strategy.RINGALL:
        return penalty
    if strategy is Strategy.LINEAR:
        if pos < caller.linpos:
            return 1000 + pos + penalty
        if pos > caller.linpos:
            caller.linwrapped = True
        return pos + penalty
    if strategy in (Strategy.RRMEMORY, Strategy.RRORDERED):
        qpos = member.queuepos
        if qpos < queue.rrpos:
            return 1000 + qpos + penalty
        if qpos > queue.rrpos:
            queue.wrapped = True
        return qpos + penalty
    if strategy is Strategy.RANDOM:
        return rng.randrange(1000) + penalty
    if strategy is Strategy.WRANDOM:
        return rng.randrange((1 + member.penalty) * 1000)
    if strategy is Strategy.FEWESTCALLS:
        return member.calls + penalty
    if strategy is Strategy.LEASTRECENT:
        since = 0 if not member.lastcall else 1_000_000 - (now_epoch - member.lastcall)
        return since + penalty
    raise ValueError(f"unknown strategy {strategy}")


def choose_members(
    queue: CallQueue, caller: QueueCaller, now: float, now_epoch: int, rng: random.Random
) -> list[Member]:
    """Members to ring now for `caller`: the best one, or everyone sharing the best metric for
    ringall. Updates the round-robin / linear position the way store_next_rr/lin do."""
    candidates: list[Attempt] = []
    for pos, member in enumerate(queue.members.values()):
        if member.can_ring(now, queue.config.wrapuptime):
            value = metric(queue.config.strategy, member, pos, queue, caller, now_epoch, rng)
            candidates.append(Attempt(member, value))
    if not candidates:
        return []
    best = min(candidates, key=lambda a: a.metric)
    strategy = queue.config.strategy
    if strategy is Strategy.RINGALL:
        return [a.member for a in candidates if a.metric <= best.metric]
    rest = [a for a in candidates if a is not best]
    if strategy in (Strategy.RRMEMORY, Strategy.RRORDERED):
        _store_next(queue, rest)
    elif strategy is Strategy.LINEAR:
        following = min(rest, key=lambda a: a.metric) if rest else None
        if following is not None:
            caller.linpos = following.metric % 1000
        else:
            caller.linpos = 0 if caller.linwrapped else caller.linpos + 1
        caller.linwrapped = False
    return [best.member]


def _store_next(queue: CallQueue, rest: Iterable[Attempt]) -> None:
    remaining = list(rest)
    if remaining:
        queue.rrpos = min(remaining, key=lambda a: a.metric).metric % 1000
    else:
        queue.rrpos = 0 if queue.wrapped else queue.rrpos + 1
    queue.wrapped = False
