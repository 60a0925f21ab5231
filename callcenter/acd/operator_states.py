"""Operators' states, kept in step with Asterisk: the workstation's commands go to Asterisk
(QueueAdd / QueueRemove / QueuePause with a reason), Asterisk's events and its QueueStatus after
every (re)connect correct what drifted. The rules live in `callcenter.domain.agents`; this
module runs them, carries out their effects over AMI and records every state in the
operator_state_history table (the board of `operators_view` reads it).

Concurrency: one lock per operator. A command holds it while its AMI actions run, so an
event about the same operator waits and then finds the state it must be compared with (and
`fact_at` tells it whether it is older than the change the command made).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from callcenter.calls.records import normalise_interface
from callcenter.common.access import Clock, Conflict, NotFound, Sessions, WorkstationError
from callcenter.domain import agents
from callcenter.domain.acd import member_penalty
from callcenter.domain.agents import (
    AgentRules,
    AgentStatus,
    CallRef,
    Effect,
    JoinQueues,
    LeaveQueues,
    MemberFacts,
    OperatorState,
    PauseMember,
    Transition,
    TransitionRefused,
    UnpauseMember,
)
from callcenter.domain.service_metrics import StateSpan
from callcenter.domain.telephony import (
    AgentCalled,
    AgentCompleted,
    AgentConnected,
    AgentDumped,
    AgentRingNoAnswer,
    MemberStatus,
    QueueAgentEvent,
    QueueCallerAbandoned,
    QueueCallerLeft,
    QueueMemberEvent,
    QueueMemberRemoved,
    TelephonyEvent,
)
from callcenter.pbx.ami_errors import AmiActionError, AmiError, AmiNotConnectedError
from callcenter.pbx.results import QueueMemberState, QueueStatusReport

log = logging.getLogger(__name__)

# Member device states that mean the operator's phone is busy with a call.
_BUSY_DEVICE = frozenset(
    {MemberStatus.INUSE, MemberStatus.BUSY, MemberStatus.ONHOLD, MemberStatus.RINGINUSE}
)
# After a caller leaves the queue, operators rung for them wait this long for an AgentConnect
# (it follows the QueueCallerLeave, s1) before they count as no longer ringing.
WITHDRAW_GRACE = timedelta(seconds=2)
RELOAD_AT_MOST_EVERY = timedelta(seconds=30)


class PbxUnavailable(WorkstationError):
    """The AMI link is down: nothing was changed in Asterisk."""


class QueueControl(Protocol):
    """The AMI actions this service needs (`callcenter.asterisk.ami.AmiClient` has them)."""

    async def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str | None = None,
        state_interface: str | None = None,
        penalty: int | None = None,
        paused: bool | None = None,
        reason: str | None = None,
        reply_timeout: float | None = None,
    ) -> Any: ...

    async def queue_remove(
        self, queue: str, interface: str, *, reply_timeout: float | None = None
    ) -> Any: ...

    async def queue_pause(
        self,
        interface: str,
        paused: bool,
        *,
        queue: str | None = None,
        reason: str | None = None,
        reply_timeout: float | None = None,
    ) -> Any: ...

    async def queue_penalty(
        self,
        interface: str,
        penalty: int,
        *,
        queue: str | None = None,
        reply_timeout: float | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class QueueSeat:
    """A queue an operator joins at login, with the member penalty they join it with."""

    queue: str
    penalty: int


@dataclass(frozen=True, slots=True)
class OperatorInfo:
    id: int
    extension: str
    full_name: str
    line: int
    interface: str
    seats: tuple[QueueSeat, ...]

    @property
    def state_interface(self) -> str | None:
        """`Local/101@agents/n` follows the device `Local/101@agents` (as in the lab)."""
        if self.interface.lower().startswith("local/") and self.interface.lower().endswith("/n"):
            return self.interface[:-2]
        return None


@dataclass(slots=True)
class MemberEntry:
    """One queue's view of a member, as Asterisk last reported it."""

    paused: bool
    reason: str
    in_call: bool
    status: int | None
    penalty: int | None = None


@dataclass(frozen=True, slots=True)
class StateChange:
    operator: OperatorInfo
    transition: Transition
    at: datetime


StateObserver = Callable[[StateChange], None]


def member_facts(entries: Mapping[str, MemberEntry]) -> MemberFacts | None:
    if not entries:
        return None
    paused = [entry for entry in entries.values() if entry.paused]
    return MemberFacts(
        queues=frozenset(entries),
        all_paused=len(paused) == len(entries),
        pause_reason=next((entry.reason for entry in paused if entry.reason), ""),
        in_call=any(entry.in_call for entry in entries.values()),
        device_busy=any(entry.status in _BUSY_DEVICE for entry in entries.values()),
    )


def _entry_from_row(row: QueueMemberState) -> MemberEntry:
    return MemberEntry(row.paused, row.paused_reason, row.in_call, row.status, row.penalty)


def _entry_from_event(event: QueueMemberEvent) -> MemberEntry:
    status = int(event.status) if event.status is not None else None
    return MemberEntry(event.paused, event.paused_reason, event.in_call, status, event.penalty)


@dataclass(slots=True)
class _Operator:
    info: OperatorInfo
    status: AgentStatus
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    members: dict[str, MemberEntry] = field(default_factory=dict)
    span_start: datetime | None = None


class OperatorStates:
    """See the module doc. Construct, `await load()`, then feed commands, events and resyncs."""

    def __init__(
        self,
        sessions: Sessions,
        *,
        clock: Clock,
        control: QueueControl | None = None,
        rules: AgentRules | None = None,
        day_start: Callable[[datetime], datetime] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.control = control
        self.rules = rules or AgentRules()
        self._day_start = day_start or (lambda now: now - timedelta(days=1))
        self._operators: dict[int, _Operator] = {}
        self._by_interface: dict[str, int] = {}
        self._observers: list[StateObserver] = []
        self._spans: list[StateSpan] = []
        self._withdrawn: dict[str, datetime] = {}
        self._reload_lock = asyncio.Lock()
        self._reloaded_at: datetime | None = None
        self.corrections = 0  # drifted states put right (for tests and monitoring)

    # ------------------------------------------------------------------ set-up

    def subscribe(self, observer: StateObserver) -> None:
        """`observer(change)` runs after every transition; it must not block."""
        self._observers.append(observer)

    async def load(self) -> None:
        """Read operators, their queues and their last recorded states from the database."""
        now = self._clock()
        async with self._sessions() as tx:
            rows = await tx.operators.list_all()
            queues = await tx.queues.list_all()
            current = await tx.operator_states.current_states([op.id for op in rows])
            since = self._day_start(now)
            history = {
                op.id: await tx.operators.state_history(op.id, since=since, until=now)
                for op in rows
            }
        seats: dict[int, list[QueueSeat]] = defaultdict(list)
        skills = {op.id: dict(op.skills or {}) for op in rows}
        for queue in queues:
            for member in queue.members:
                if member.operator_id in skills:
                    penalty = member_penalty(
                        member.penalty, skills[member.operator_id], queue.support_line
                    )
                    seats[member.operator_id].append(QueueSeat(queue.name, penalty))
        for op in rows:
            if not seats[op.id]:
                # no configured membership: the queues of the operator's own line
                seats[op.id] = [
                    QueueSeat(q.name, member_penalty(0, skills[op.id], q.support_line))
                    for q in queues
                    if q.support_line == op.support_line and not q.is_overflow
                ]
        spans: list[StateSpan] = []
        for op in rows:
            info = OperatorInfo(
                op.id,
                op.extension,
                op.full_name,
                op.support_line,
                op.interface,
                tuple(seats[op.id]),
            )
            row = current.get(op.id)
            status = AgentStatus.logged_out()
            if row is not None:
                status = self._status_from_row(row.state, row.started_at, row.pause_reason)
            existing = self._operators.get(op.id)
            if existing is not None:
                existing.info = info  # a reload keeps the live state
            else:
                self._operators[op.id] = _Operator(info, status, span_start=status.since)
            for entry in history[op.id]:
                if entry.ended_at is not None:
                    span = StateSpan(
                        op.id, op.support_line, entry.state, entry.started_at, entry.ended_at
                    )
                    spans.append(span)
        if not self._spans:
            self._spans = spans
        self._by_interface = {
            normalise_interface(o.info.interface): op_id for op_id, o in self._operators.items()
        }

    def _status_from_row(
        self, state: OperatorState, since: datetime, reason: str | None
    ) -> AgentStatus:
        until = None
        if state is OperatorState.WRAP_UP:
            until = since + timedelta(seconds=self.rules.wrap_up_seconds)
        return AgentStatus(
            OperatorState(state),
            since,
            pause_reason=reason if state is OperatorState.PAUSED else None,
            wrap_up_until=until,
        )

    async def reload(self) -> None:
        """Pick up operators or queue memberships changed in the database."""
        async with self._reload_lock:
            await self.load()

    # ------------------------------------------------------------------ reading

    def operator(self, operator_id: int) -> OperatorInfo | None:
        found = self._operators.get(operator_id)
        return found.info if found is not None else None

    def operators(self) -> list[OperatorInfo]:
        return [o.info for o in self._operators.values()]

    def status(self, operator_id: int) -> AgentStatus:
        found = self._operators.get(operator_id)
        if found is None:
            raise NotFound("Оператор не найден")
        return found.status

    def statuses(self) -> dict[int, AgentStatus]:
        return {op_id: o.status for op_id, o in self._operators.items()}

    def operator_for_interface(self, interface: str | None) -> int | None:
        if not interface:
            return None
        return self._by_interface.get(normalise_interface(interface))

    def members_of(self, queue: str) -> list[int]:
        """Operators in `queue`: as Asterisk reports it, else by the queues they log in to."""
        reported = [op_id for op_id, o in self._operators.items() if queue in o.members]
        if reported:
            return reported
        return [
            op_id
            for op_id, o in self._operators.items()
            if o.status.logged_in and any(seat.queue == queue for seat in o.info.seats)
        ]

    def spans(self) -> list[StateSpan]:
        """Finished states since the start of the day, plus the current ones (end None)."""
        current = []
        for op_id, o in self._operators.items():
            start = o.span_start or o.status.since
            if start is not None:
                current.append(StateSpan(op_id, o.info.line, o.status.state, start))
        return [*self._spans, *current]

    def forget_spans_before(self, moment: datetime) -> None:
        """Drop finished states that ended before `moment` (a new day began)."""
        self._spans = [span for span in self._spans if span.end is None or span.end >= moment]

    # ------------------------------------------------------------------ commands

    def _get(self, operator_id: int) -> _Operator:
        found = self._operators.get(operator_id)
        if found is None:
            raise NotFound("Оператор не найден")
        return found

    async def login(self, operator_id: int) -> AgentStatus:
        return await self._command(operator_id, lambda s, now: agents.login(s, now))

    async def logout(self, operator_id: int) -> AgentStatus:
        return await self._command(operator_id, lambda s, now: agents.logout(s, now))

    async def pause(self, operator_id: int, reason: str) -> AgentStatus:
        return await self._command(operator_id, lambda s, now: agents.pause(s, reason, now))

    async def ready(self, operator_id: int) -> AgentStatus:
        return await self._command(operator_id, lambda s, now: agents.ready(s, now))

    async def _command(
        self, operator_id: int, step: Callable[[AgentStatus, datetime], Transition]
    ) -> AgentStatus:
        op = self._get(operator_id)
        async with op.lock:
            now = self._clock()
            try:
                transition = step(op.status, now)
            except TransitionRefused as exc:
                raise Conflict(exc.message) from None
            if transition.effects:
                if self.control is None:
                    raise PbxUnavailable("Нет связи с АТС: попробуйте позже")
                try:
                    await self._apply_effects(op, transition.effects, strict=True)
                except AmiNotConnectedError:
                    raise PbxUnavailable("Нет связи с АТС: попробуйте позже") from None
                except AmiError as exc:
                    log.warning("operator %s: %s refused by Asterisk: %s", operator_id, step, exc)
                    raise Conflict(f"АТС не выполнила команду: {exc}") from None
            # Asterisk facts received before these actions took effect are outdated now
            done = self._clock()
            after = replace(transition.after, fact_at=max(done, transition.after.fact_at or done))
            await self._commit(op, replace(transition, after=after), now)
            return op.status

    # ------------------------------------------------------------------ effects

    async def _apply_effects(
        self, op: _Operator, effects: Sequence[Effect], *, strict: bool
    ) -> None:
        control = self.control
        if control is None:
            return
        info = op.info
        for effect in effects:
            try:
                match effect:
                    case JoinQueues(paused=paused, reason=reason):
                        await self._join(control, op, paused, reason, strict=strict)
                    case LeaveQueues():
                        for queue in {*(s.queue for s in info.seats), *op.members}:
                            await _tolerant(control.queue_remove(queue, info.interface))
                    case PauseMember(reason=reason):
                        await control.queue_pause(info.interface, True, reason=reason)
                    case UnpauseMember():
                        await control.queue_pause(info.interface, False)
            except AmiError:
                if strict:
                    raise
                log.warning(
                    "operator %s: %s failed; the next resync corrects it",
                    info.id,
                    effect,
                    exc_info=True,
                )

    async def _join(
        self,
        control: QueueControl,
        op: _Operator,
        paused: bool,
        reason: str | None,
        *,
        strict: bool,
    ) -> None:
        info = op.info
        joined = 0
        problems: list[str] = []
        for seat in info.seats:
            try:
                await control.queue_add(
                    seat.queue,
                    info.interface,
                    member_name=f"{info.extension} {info.full_name}",
                    state_interface=info.state_interface,
                    penalty=seat.penalty,
                    paused=paused,
                    reason=reason if paused else None,
                )
                joined += 1
            except AmiActionError as exc:
                if "already there" not in exc.message.lower():
                    problems.append(f"{seat.queue}: {exc.message}")
                    log.warning("QueueAdd %s to %s refused: %s", info.interface, seat.queue, exc)
                    continue
                # still a member from before: make its pause and penalty what they must be
                await control.queue_pause(
                    info.interface, paused, queue=seat.queue, reason=reason if paused else None
                )
                await _tolerant(
                    control.queue_penalty(info.interface, seat.penalty, queue=seat.queue)
                )
                joined += 1
        if strict and info.seats and not joined:
            raise AmiActionError("QueueAdd", "; ".join(problems) or "no queue accepted the member")
        if not info.seats and strict:
            raise AmiActionError("QueueAdd", "the operator belongs to no queue")

    # ------------------------------------------------------------------ committing

    async def _commit(self, op: _Operator, transition: Transition, at: datetime) -> None:
        before = op.status
        op.status = transition.after
        if transition.corrected:
            self.corrections += 1
            log.info(
                "operator %s: state corrected from Asterisk: %s -> %s",
                op.info.id,
                before.state,
                transition.after.state,
            )
        if transition.state_changed:
            start = op.span_start or before.since
            if start is not None:
                self._spans.append(StateSpan(op.info.id, op.info.line, before.state, start, at))
            op.span_start = at
            await self._record(op.info.id, transition.after, at)
        change = StateChange(op.info, transition, at)
        for observer in self._observers:
            try:
                observer(change)
            except Exception:
                log.exception("operator state observer failed")

    async def _record(self, operator_id: int, status: AgentStatus, at: datetime) -> None:
        try:
            async with self._sessions.begin() as tx:
                await tx.operators.set_state(
                    operator_id, status.state, at=at, pause_reason=status.pause_reason
                )
        except Exception:
            # the live state stays right; only the history misses a row
            log.exception("operator %s: recording state %s failed", operator_id, status.state)

    async def _apply_fact(
        self, op: _Operator, step: Callable[[AgentStatus], Transition], at: datetime
    ) -> None:
        """Apply an Asterisk fact (under the operator's lock), then its effects."""
        transition = step(op.status)
        if transition.after == op.status and not transition.effects:
            return
        await self._commit(op, transition, at)
        if transition.effects:
            await self._apply_effects(op, transition.effects, strict=False)
            # the member's flags reported before these actions are history now, including
            # those that came in with the fact that caused them (same receive time)
            barrier = max(self._clock(), at + timedelta(microseconds=1))
            op.status = replace(op.status, fact_at=max(barrier, op.status.fact_at or barrier))

    # ------------------------------------------------------------------ Asterisk events

    async def on_event(self, event: TelephonyEvent) -> None:
        """One parsed AMI event (see `callcenter.domain.telephony`)."""
        match event:
            case QueueMemberEvent():
                await self._member_event(event)
            case AgentCalled() | AgentConnected() | AgentCompleted() | AgentRingNoAnswer():
                await self._agent_event(event)
            case AgentDumped():
                await self._agent_event(event)
            case QueueCallerAbandoned() | QueueCallerLeft():
                if event.uniqueid:
                    self._withdrawn.setdefault(event.uniqueid, event.at + WITHDRAW_GRACE)
            case _:
                return

    async def _operator_for(self, interface: str) -> _Operator | None:
        op_id = self.operator_for_interface(interface)
        now = self._clock()
        if (
            op_id is None
            and interface
            and (self._reloaded_at is None or now - self._reloaded_at >= RELOAD_AT_MOST_EVERY)
        ):
            # perhaps an operator added since we last looked; members that are nobody we know
            # (a branch's static members) must not make every event read the database
            self._reloaded_at = now
            await self.reload()
            op_id = self.operator_for_interface(interface)
        return self._operators.get(op_id) if op_id is not None else None

    async def _member_event(self, event: QueueMemberEvent) -> None:
        op = await self._operator_for(event.interface)
        if op is None:
            return
        async with op.lock:
            if op.status.fact_at is not None and event.at < op.status.fact_at:
                return  # older than what we already know
            if isinstance(event, QueueMemberRemoved):
                op.members.pop(event.queue, None)
            else:
                op.members[event.queue] = _entry_from_event(event)
            facts = member_facts(op.members)
            rules = self.rules
            await self._apply_fact(
                op, lambda s: agents.reconcile(s, facts, event.at, rules, resync=False), event.at
            )

    async def _agent_event(self, event: QueueAgentEvent) -> None:
        op = await self._operator_for(event.interface)
        caller = event.uniqueid or ""
        if op is not None:
            async with op.lock:
                await self._apply_fact(op, partial(self._agent_step, event, caller), event.at)
        if isinstance(event, AgentConnected):
            # with ringall, everyone else rung for this caller stops ringing now
            self._withdrawn.pop(caller, None)
            await self._end_rings(caller, event.at, except_id=op.info.id if op else None)

    def _agent_step(self, event: QueueAgentEvent, caller: str, status: AgentStatus) -> Transition:
        call = CallRef(caller, event.queue, event.linkedid)
        match event:
            case AgentCalled():
                return agents.offered(status, call, event.at)
            case AgentConnected():
                return agents.connected(status, call, event.at)
            case AgentCompleted():
                return agents.completed(status, caller, event.at, self.rules)
            case AgentRingNoAnswer():
                return agents.ring_ended(status, caller, event.at, self.rules, missed=True)
            case _:  # AgentDump: the operator hung up while the caller was announced
                return agents.ring_ended(status, caller, event.at, self.rules, missed=False)

    async def _end_rings(self, caller: str, at: datetime, *, except_id: int | None) -> None:
        rules = self.rules
        for op_id, op in list(self._operators.items()):
            if op_id == except_id or op.status.state is not OperatorState.RINGING:
                continue
            if op.status.call is None or op.status.call.caller_uniqueid != caller:
                continue
            async with op.lock:
                await self._apply_fact(
                    op, lambda s: agents.ring_ended(s, caller, at, rules, missed=False), at
                )

    # ------------------------------------------------------------------ resync

    async def on_queue_status(self, report: QueueStatusReport, at: datetime) -> None:
        """After an AMI (re)connect: Asterisk's QueueStatus is the truth; correct what drifted
        and put logged-in operators Asterisk forgot (a restart) back into their queues."""
        reported: dict[int, dict[str, MemberEntry]] = defaultdict(dict)
        for queue in report.queues:
            for row in queue.members:
                op_id = self.operator_for_interface(row.interface)
                if op_id is not None:
                    reported[op_id][queue.name] = _entry_from_row(row)
        rules = self.rules
        for op_id, op in list(self._operators.items()):
            async with op.lock:
                op.members = reported.get(op_id, {})
                facts = member_facts(op.members)
                # a resync is newer than anything received on the previous connection
                op.status = replace(op.status, fact_at=None)
                step = partial(agents.reconcile, facts=facts, at=at, rules=rules, resync=True)
                await self._apply_fact(op, step, at)
        self._withdrawn.clear()

    # ------------------------------------------------------------------ time

    async def tick(self) -> None:
        """Run the clock-driven rules: after-call work that ran out, rings withdrawn."""
        now = self._clock()
        for op in list(self._operators.values()):
            status = op.status
            if (
                status.state is OperatorState.WRAP_UP
                and status.wrap_up_until is not None
                and now >= status.wrap_up_until
            ):
                async with op.lock:
                    await self._apply_fact(op, lambda s: agents.tick(s, now), now)
        due = [caller for caller, deadline in self._withdrawn.items() if deadline <= now]
        for caller in due:
            # an AgentConnect may have settled it while an earlier one was being handled
            if self._withdrawn.pop(caller, None) is not None:
                await self._end_rings(caller, now, except_id=None)

    def next_deadline(self) -> datetime | None:
        """When `tick` next has something to do (for the service's timer)."""
        deadlines = [
            o.status.wrap_up_until
            for o in self._operators.values()
            if o.status.state is OperatorState.WRAP_UP and o.status.wrap_up_until is not None
        ]
        deadlines.extend(self._withdrawn.values())
        return min(deadlines) if deadlines else None


async def _tolerant(action: Any) -> None:
    """An AMI action whose refusal is fine ("Not there" on removal, penalty of a gone member)."""
    try:
        await action
    except AmiActionError as exc:
        log.info("ignored AMI refusal: %s", exc)
