"""Operators (agents): the states an operator's workstation can be in, and the guarded state
machine that moves an operator between them.

Two kinds of input drive it:
- commands from the workstation (log in, log out, pause with a reason, ready). They are
  *guarded*: a command the current state does not allow raises `TransitionRefused` and changes
  nothing; a command that is already satisfied is a no-op;
- facts from Asterisk (a queue rings the operator, they answer, the call ends, the member's
  paused/in-call flags). Facts are never refused: Asterisk is what actually happens, so a fact
  that contradicts the state *corrects* it (`Transition.corrected`). That is how a stuck
  "paused" or "on call" operator is put right after a missed event or an AMI reconnect.

Every function is pure: it takes the current `AgentStatus` and returns a `Transition` (the new
status plus the `Effect`s the service must carry out on Asterisk: join/leave queues, pause,
unpause). Time is a parameter.

Stale facts. AMI events of one call arrive in order, but events of different calls (and
QueueMember* events, which belong to no call) are delivered concurrently, so an older fact can
be processed after a newer one. Each status remembers `fact_at`: the receive time of the last
fact applied, or the moment the platform last changed the member in Asterisk. A fact received
before that is outdated and ignored.

After-call work (WRAP_UP) is a pause in Asterisk with the reason `wrap_up`, so Asterisk offers
no call meanwhile; it ends when the operator says "ready" or after `AgentRules.wrap_up_seconds`.
A pause asked for during a call is kept as `pending_pause` (Asterisk is paused at once, so no
new call comes) and taken when the after-call work ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class OperatorState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    PAUSED = "paused"
    RINGING = "ringing"
    ON_CALL = "on_call"
    # after-call work: the call is over, the operator is still filling in the appeal
    WRAP_UP = "wrap_up"


class PauseReason(StrEnum):
    """Reason codes an operator may choose; Asterisk stores the code (QueuePause Reason)."""

    BREAK = "break"
    LUNCH = "lunch"
    TRAINING = "training"
    MEETING = "meeting"
    PAPERWORK = "paperwork"  # working on appeals away from the phone
    TECHNICAL = "technical"  # equipment or software trouble


# Reasons the platform itself sets; an operator cannot choose them.
WRAP_UP_REASON = "wrap_up"  # after-call work
NO_ANSWER_REASON = "no_answer"  # the operator let the phone ring out too many times in a row

OPERATOR_PAUSE_REASONS = frozenset(reason.value for reason in PauseReason)

# States in which the operator is a member of their queues in Asterisk.
LOGGED_IN_STATES = frozenset(set(OperatorState) - {OperatorState.LOGGED_OUT})
# States in which a call takes the operator's time (occupancy counts them as busy).
BUSY_STATES = frozenset({OperatorState.RINGING, OperatorState.ON_CALL, OperatorState.WRAP_UP})


class TransitionRefused(Exception):
    """A workstation command the operator's current state does not allow (message in Russian)."""

    def __init__(self, message: str, state: OperatorState) -> None:
        super().__init__(message)
        self.message = message
        self.state = state


@dataclass(frozen=True, slots=True)
class CallRef:
    """The queue call an operator is rung for, talks on, or finishes after."""

    caller_uniqueid: str  # the waiting caller's channel (Agent* events: Uniqueid)
    queue: str
    linkedid: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStatus:
    state: OperatorState
    since: datetime | None  # when this state began; None: never logged in
    pause_reason: str | None = None  # PAUSED only
    call: CallRef | None = None  # RINGING, ON_CALL, WRAP_UP (None: a call we know nothing of)
    pending_pause: str | None = None  # pause asked for during a call
    wrap_up_until: datetime | None = None
    missed_rings: int = 0  # rings in a row the operator did not answer
    fact_at: datetime | None = None  # see the module doc: older facts are stale

    @classmethod
    def logged_out(cls, since: datetime | None = None) -> AgentStatus:
        return cls(OperatorState.LOGGED_OUT, since)

    @property
    def logged_in(self) -> bool:
        return self.state in LOGGED_IN_STATES

    @property
    def asterisk_paused(self) -> bool:
        """Should Asterisk hold this member paused (no calls offered)?"""
        return self.state in (OperatorState.PAUSED, OperatorState.WRAP_UP) or (
            self.pending_pause is not None
        )

    @property
    def asterisk_reason(self) -> str | None:
        if self.state is OperatorState.WRAP_UP:
            return WRAP_UP_REASON
        if self.state is OperatorState.PAUSED:
            return self.pause_reason
        return self.pending_pause


# --- effects: what the service must do on Asterisk ------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinQueues:
    """QueueAdd into every queue of the operator (again), paused or not."""

    paused: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LeaveQueues:
    """QueueRemove from every queue."""


@dataclass(frozen=True, slots=True)
class PauseMember:
    reason: str


@dataclass(frozen=True, slots=True)
class UnpauseMember:
    pass


Effect = JoinQueues | LeaveQueues | PauseMember | UnpauseMember


@dataclass(frozen=True, slots=True)
class Transition:
    before: AgentStatus
    after: AgentStatus
    effects: tuple[Effect, ...] = ()
    corrected: bool = False  # Asterisk contradicted the state and won

    @property
    def state_changed(self) -> bool:
        """A new row in the state history: the state or the pause reason changed."""
        return (self.before.state, self.before.pause_reason) != (
            self.after.state,
            self.after.pause_reason,
        )


@dataclass(frozen=True, slots=True)
class AgentRules:
    # after-call work ends by itself after this long (the standard allows 5 min); 0: none
    wrap_up_seconds: float = 300.0
    # rings in a row left unanswered before the platform pauses the operator; 0: never
    max_missed_rings: int = 2


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What Asterisk says about an operator's membership (QueueStatus or QueueMember* events),
    folded over every queue the operator is a member of."""

    queues: frozenset[str]
    all_paused: bool
    pause_reason: str  # of a paused entry; "" when none
    in_call: bool  # InCall: talking on a queue call
    device_busy: bool  # the phone is in use (also for calls that are not from a queue)


# --- helpers --------------------------------------------------------------------------------


def _enter(
    status: AgentStatus,
    state: OperatorState,
    at: datetime,
    *,
    pause_reason: str | None = None,
    call: CallRef | None = None,
    pending_pause: str | None = None,
    wrap_up_until: datetime | None = None,
    missed_rings: int | None = None,
) -> AgentStatus:
    same = state is status.state and pause_reason == status.pause_reason
    return AgentStatus(
        state=state,
        since=status.since if same else at,
        pause_reason=pause_reason,
        call=call,
        pending_pause=pending_pause,
        wrap_up_until=wrap_up_until,
        missed_rings=status.missed_rings if missed_rings is None else missed_rings,
        fact_at=status.fact_at,
    )


def _noop(status: AgentStatus) -> Transition:
    return Transition(status, status)


def _stale(status: AgentStatus, at: datetime) -> bool:
    return status.fact_at is not None and at < status.fact_at


def _seen(status: AgentStatus, at: datetime) -> AgentStatus:
    if status.fact_at is not None and status.fact_at >= at:
        return status
    return replace(status, fact_at=at)


def _after_work(
    status: AgentStatus, at: datetime, *, from_pause: bool
) -> tuple[AgentStatus, tuple[Effect, ...]]:
    """Where an operator goes when a call (or its after-call work) is over: their pending pause,
    or ready. `from_pause`: Asterisk holds them paused now (wrap-up)."""
    if status.pending_pause is not None:
        reason = status.pending_pause
        after = _enter(status, OperatorState.PAUSED, at, pause_reason=reason)
        return after, (PauseMember(reason),)
    after = _enter(status, OperatorState.READY, at)
    return after, ((UnpauseMember(),) if from_pause else ())


# --- workstation commands -------------------------------------------------------------------


def login(status: AgentStatus, now: datetime) -> Transition:
    """Join the queues and be ready. Logging in again repairs the membership in Asterisk."""
    if status.logged_in:
        return Transition(
            status, status, (JoinQueues(status.asterisk_paused, status.asterisk_reason),)
        )
    after = _enter(status, OperatorState.READY, now, missed_rings=0)
    return Transition(status, after, (JoinQueues(paused=False),))


def logout(status: AgentStatus, now: datetime) -> Transition:
    if status.state is OperatorState.LOGGED_OUT:
        return _noop(status)
    if status.state in (OperatorState.RINGING, OperatorState.ON_CALL):
        raise TransitionRefused(
            "Нельзя выйти из системы во время вызова: завершите разговор", status.state
        )
    after = _enter(status, OperatorState.LOGGED_OUT, now, missed_rings=0)
    return Transition(status, after, (LeaveQueues(),))


def pause(status: AgentStatus, reason: str, now: datetime) -> Transition:
    if reason not in OPERATOR_PAUSE_REASONS:
        raise TransitionRefused(f"Неизвестная причина перерыва: {reason[:40]!r}", status.state)
    if status.state is OperatorState.LOGGED_OUT:
        raise TransitionRefused("Сначала войдите в систему", status.state)
    if status.state in (OperatorState.RINGING, OperatorState.ON_CALL):
        if status.pending_pause == reason:
            return _noop(status)
        # Asterisk is paused at once so that no new call is offered once this one ends
        return Transition(status, replace(status, pending_pause=reason), (PauseMember(reason),))
    if status.state is OperatorState.PAUSED and status.pause_reason == reason:
        return _noop(status)
    after = _enter(status, OperatorState.PAUSED, now, pause_reason=reason, missed_rings=0)
    return Transition(status, after, (PauseMember(reason),))


def ready(status: AgentStatus, now: datetime) -> Transition:
    """End a pause or the after-call work; during a call, cancel a pending pause."""
    match status.state:
        case OperatorState.LOGGED_OUT:
            raise TransitionRefused("Сначала войдите в систему", status.state)
        case OperatorState.READY:
            return _noop(status)
        case OperatorState.RINGING | OperatorState.ON_CALL:
            if status.pending_pause is None:
                return _noop(status)
            return Transition(status, replace(status, pending_pause=None), (UnpauseMember(),))
        case _:
            after = _enter(status, OperatorState.READY, now, missed_rings=0)
            return Transition(status, after, (UnpauseMember(),))


def tick(status: AgentStatus, now: datetime) -> Transition:
    """Time passes: after-call work that ran out ends by itself."""
    if (
        status.state is OperatorState.WRAP_UP
        and status.wrap_up_until is not None
        and now >= status.wrap_up_until
    ):
        after, effects = _after_work(status, now, from_pause=True)
        return Transition(status, after, effects)
    return _noop(status)


# --- facts from Asterisk --------------------------------------------------------------------


def offered(status: AgentStatus, call: CallRef, at: datetime) -> Transition:
    """AgentCalled: a queue rings the operator."""
    if _stale(status, at):
        return _noop(status)
    seen = _seen(status, at)
    if status.state is OperatorState.RINGING:
        return Transition(status, replace(seen, call=call))
    corrected = status.state is not OperatorState.READY
    after = _enter(seen, OperatorState.RINGING, at, call=call, pending_pause=seen.pending_pause)
    return Transition(status, after, corrected=corrected)


def ring_ended(
    status: AgentStatus,
    caller_uniqueid: str,
    at: datetime,
    rules: AgentRules,
    *,
    missed: bool,
) -> Transition:
    """The ringing stopped without this operator answering: they let it ring out (`missed`,
    AgentRingNoAnswer), or another operator answered, or the caller left."""
    if status.state is not OperatorState.RINGING or _stale(status, at):
        return _noop(status)
    if status.call is not None and status.call.caller_uniqueid != caller_uniqueid:
        return _noop(status)
    seen = _seen(status, at)
    missed_rings = seen.missed_rings + 1 if missed else seen.missed_rings
    if missed and rules.max_missed_rings and missed_rings >= rules.max_missed_rings:
        after = _enter(
            seen,
            OperatorState.PAUSED,
            at,
            pause_reason=NO_ANSWER_REASON,
            missed_rings=0,
        )
        return Transition(status, after, (PauseMember(NO_ANSWER_REASON),))
    seen = replace(seen, missed_rings=missed_rings)
    after, effects = _after_work(seen, at, from_pause=False)
    return Transition(status, after, effects)


def connected(status: AgentStatus, call: CallRef, at: datetime) -> Transition:
    """AgentConnect: the operator answered a queue call."""
    if _stale(status, at):
        return _noop(status)
    seen = _seen(status, at)
    corrected = status.state not in (OperatorState.RINGING, OperatorState.READY)
    after = _enter(
        seen,
        OperatorState.ON_CALL,
        at,
        call=call,
        pending_pause=seen.pending_pause,
        missed_rings=0,
    )
    return Transition(status, after, corrected=corrected)


def completed(
    status: AgentStatus, caller_uniqueid: str | None, at: datetime, rules: AgentRules
) -> Transition:
    """AgentComplete (or any sign that the operator's call ended): after-call work begins."""
    if status.state is not OperatorState.ON_CALL or _stale(status, at):
        return _noop(status)
    if (
        caller_uniqueid is not None
        and status.call is not None
        and status.call.caller_uniqueid != caller_uniqueid
    ):
        return _noop(status)
    seen = _seen(status, at)
    if rules.wrap_up_seconds <= 0:
        # Asterisk may hold them paused for a pause asked for during the call
        after, effects = _after_work(seen, at, from_pause=seen.pending_pause is not None)
        return Transition(status, after, effects)
    after = _enter(
        seen,
        OperatorState.WRAP_UP,
        at,
        call=seen.call,
        pending_pause=seen.pending_pause,
        wrap_up_until=at + timedelta(seconds=rules.wrap_up_seconds),
    )
    return Transition(status, after, (PauseMember(WRAP_UP_REASON),))


def reconcile(
    status: AgentStatus,
    facts: MemberFacts | None,
    at: datetime,
    rules: AgentRules,
    *,
    resync: bool,
) -> Transition:
    """Bring the state in line with what Asterisk says about the member.

    `facts` None: the operator is in none of Asterisk's queues. On a `resync` (after an AMI
    (re)connect: Asterisk may have restarted and forgotten its dynamic members) a logged-in
    operator is put back into the queues, keeping their pause; otherwise (someone removed the
    member) they are logged out. With facts, Asterisk's in-call and paused flags win.
    """
    if _stale(status, at):
        return _noop(status)
    seen = _seen(status, at)
    if facts is None or not facts.queues:
        if status.state is OperatorState.LOGGED_OUT:
            return Transition(status, seen)
        if resync:
            return _rejoin(status, seen, at)
        after = _enter(seen, OperatorState.LOGGED_OUT, at, missed_rings=0)
        return Transition(status, after, corrected=True)
    if facts.in_call or facts.device_busy:
        if status.state is OperatorState.ON_CALL:
            return Transition(status, seen)
        call = status.call if status.state is OperatorState.RINGING else None
        pending = seen.pending_pause
        if facts.all_paused and facts.pause_reason not in ("", WRAP_UP_REASON):
            pending = facts.pause_reason
        after = _enter(seen, OperatorState.ON_CALL, at, call=call, pending_pause=pending)
        return Transition(status, after, corrected=status.state is not OperatorState.RINGING)
    if status.state is OperatorState.ON_CALL:
        # the call is over and we missed its end: the after-call work begins now
        transition = completed(seen, None, at, rules)
        return replace(transition, before=status, corrected=True)
    if status.state is OperatorState.RINGING and not resync:
        # a ringing Local channel leaves the device state alone (s14); the Agent* events
        # that end the ringing are still to come
        return Transition(status, seen)
    return _adopt_pause_flags(status, seen, facts, at, rules)


def _rejoin(status: AgentStatus, seen: AgentStatus, at: datetime) -> Transition:
    if status.state in (OperatorState.RINGING, OperatorState.ON_CALL):
        # the call did not survive what made Asterisk forget the member
        after = _enter(seen, OperatorState.READY, at, pending_pause=None)
        if seen.pending_pause is not None:
            after = _enter(seen, OperatorState.PAUSED, at, pause_reason=seen.pending_pause)
        return Transition(
            status,
            after,
            (JoinQueues(after.asterisk_paused, after.asterisk_reason),),
            corrected=True,
        )
    return Transition(status, seen, (JoinQueues(seen.asterisk_paused, seen.asterisk_reason),))


def _adopt_pause_flags(
    status: AgentStatus,
    seen: AgentStatus,
    facts: MemberFacts,
    at: datetime,
    rules: AgentRules,
) -> Transition:
    if not facts.all_paused:
        if status.state is OperatorState.READY:
            return Transition(status, seen)
        after = _enter(seen, OperatorState.READY, at)
        return Transition(status, after, corrected=True)
    reason = facts.pause_reason or None
    if reason == WRAP_UP_REASON:
        if status.state is OperatorState.WRAP_UP:
            return Transition(status, seen)
        until = at + timedelta(seconds=max(rules.wrap_up_seconds, 0.0))
        after = _enter(seen, OperatorState.WRAP_UP, at, wrap_up_until=until)
        return Transition(status, after, corrected=True)
    if status.state is OperatorState.PAUSED and status.pause_reason == reason:
        return Transition(status, seen)
    if status.state is OperatorState.WRAP_UP and reason == status.pending_pause:
        # Asterisk already holds the pause asked for during the call; the wrap-up goes on
        return Transition(status, seen)
    after = _enter(seen, OperatorState.PAUSED, at, pause_reason=reason)
    return Transition(status, after, corrected=True)
