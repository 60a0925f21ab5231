"""The live picture of the queues: who waits where and for how long, which operators are in
which state, and the day's service metrics, rebuilt from AMI events as they come.

`QueueTracker` follows callers through the queues (QueueCallerJoin/Leave/Abandon, AgentConnect/
Complete) and keeps one *contact* per caller per queue for the metrics. A caller who leaves a
queue and comes back to the same queue within `REJOIN_GRACE` (the periodic announcement takes
them out of Queue() and back in at their position) is still the same contact; one who goes
elsewhere (overflow) left this queue unanswered. `ChangeFeed` tells the WebSocket that
something changed, so a snapshot goes out at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callcenter.domain.agents import OperatorState
from callcenter.domain.service_metrics import ContactOutcome, QueueContact
from callcenter.domain.telephony import (
    AgentCompleted,
    AgentConnected,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    TelephonyEvent,
)
from callcenter.pbx.results import QueueStatusReport

REJOIN_GRACE = timedelta(seconds=30)
MAX_REVIVABLE = 10_000


class ChangeFeed:
    """A version number that goes up on every change, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._changed.set()

    async def wait(self, seen: int, max_wait: float) -> int:
        """Return the version once it is past `seen`, or after `max_wait` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max_wait):
                while self.version <= seen:
                    self._changed.clear()
                    await self._changed.wait()
        return self.version


@dataclass(frozen=True, slots=True)
class QueueInfo:
    name: str
    line: int | None
    is_overflow: bool = False
    description: str = ""


@dataclass(slots=True)
class WaitingCaller:
    uniqueid: str
    linkedid: str | None
    queue: str
    joined_at: datetime  # this stay in Queue()
    waiting_since: datetime  # the contact's start (the first join of a rejoin loop)
    caller_number: str | None = None
    priority: int = 0


@dataclass(slots=True)
class _Contact:
    queue: str
    line: int | None
    uniqueid: str
    linkedid: str | None
    offered_at: datetime
    answered_at: datetime | None = None
    left_at: datetime | None = None  # left without an operator; final after REJOIN_GRACE
    outcome: ContactOutcome | None = None
    resolved_at: datetime | None = None
    wait_seconds: float = 0.0
    talk_seconds: float | None = None
    wrap_seconds: float | None = None
    operator_interface: str | None = None

    def frozen(self) -> QueueContact:
        assert self.outcome is not None
        return QueueContact(
            queue=self.queue,
            line=self.line,
            offered_at=self.offered_at,
            outcome=self.outcome,
            wait_seconds=self.wait_seconds,
            talk_seconds=self.talk_seconds,
            wrap_seconds=self.wrap_seconds,
        )


@dataclass
class QueueTracker:
    queues: dict[str, QueueInfo] = field(default_factory=dict)
    feed: ChangeFeed = field(default_factory=ChangeFeed)
    waiting: dict[str, list[WaitingCaller]] = field(default_factory=dict)
    _open: dict[tuple[str, str], _Contact] = field(default_factory=dict)
    _answered: dict[str, _Contact] = field(default_factory=dict)  # caller uniqueid -> contact
    _done: list[_Contact] = field(default_factory=list)
    _callbacks: set[str] = field(default_factory=set)  # callers who booked a callback
    # stays closed as "left" by the grace timer, in case a late event shows they were not
    _closed_by_timer: OrderedDict[tuple[str, str], _Contact] = field(default_factory=OrderedDict)
    _history: list[QueueContact] = field(default_factory=list)  # loaded at start-up
    # QUEUE_PRIO of callers, as the join announcement learnt it (QueueCallerJoin lacks it)
    priorities: dict[str, int] = field(default_factory=dict)
    contacts_version: int = 0

    # ------------------------------------------------------------------ configuration

    def configure(self, queues: Iterable[QueueInfo]) -> None:
        self.queues = {q.name: q for q in queues}
        for name in self.queues:
            self.waiting.setdefault(name, [])

    def line_of(self, queue: str) -> int | None:
        info = self.queues.get(queue)
        return info.line if info is not None else None

    def overflow_queue(self) -> str | None:
        return next((q.name for q in self.queues.values() if q.is_overflow), None)

    def load_history(self, contacts: Iterable[QueueContact]) -> None:
        """Contacts of earlier today, from the call records (after a platform restart)."""
        self._history = list(contacts)
        self._contacts_changed()

    # ------------------------------------------------------------------ reading

    def callers(self, queue: str) -> list[WaitingCaller]:
        return list(self.waiting.get(queue, ()))

    def caller(self, uniqueid: str) -> WaitingCaller | None:
        for callers in self.waiting.values():
            for caller in callers:
                if caller.uniqueid == uniqueid:
                    return caller
        return None

    def contact_started(self, uniqueid: str, queue: str) -> datetime | None:
        contact = self._open.get((uniqueid, queue))
        return contact.offered_at if contact is not None else None

    def contacts(self) -> list[QueueContact]:
        """Every resolved contact of the day (history first), for the metrics."""
        return [*self._history, *(c.frozen() for c in self._done if c.outcome is not None)]

    def _resolved_since(self, since: datetime) -> Iterable[_Contact]:
        """Contacts resolved at or after `since`, newest first (`_done` is in resolution
        order, so the walk stops at the first older one)."""
        for contact in reversed(self._done):
            if contact.resolved_at is not None and contact.resolved_at < since:
                return
            yield contact

    def recent_handling(self, line: int | None, since: datetime) -> list[float]:
        """Talk + after-call work of contacts of `line` answered since `since` and finished."""
        return [
            c.talk_seconds + (c.wrap_seconds or 0.0)
            for c in self._resolved_since(since)
            if c.outcome is ContactOutcome.ANSWERED
            and c.talk_seconds is not None
            and c.line == line
        ]

    def arrivals(self, queue: str, since: datetime) -> int:
        """Contacts offered to `queue` since `since` (open or resolved)."""
        opened = sum(1 for c in self._open.values() if c.queue == queue and c.offered_at >= since)
        done = sum(
            1 for c in self._resolved_since(since) if c.queue == queue and c.offered_at >= since
        )
        return opened + done

    # ------------------------------------------------------------------ events

    def on_event(self, event: TelephonyEvent) -> bool:
        """Apply one event; True when the live picture changed."""
        match event:
            case QueueCallerJoined():
                return self._join(event)
            case QueueCallerLeft():
                return self._leave(event.queue, event.uniqueid, event.at, abandoned=False)
            case QueueCallerAbandoned():
                return self._leave(event.queue, event.uniqueid, event.at, abandoned=True)
            case AgentConnected():
                return self._connect(event)
            case AgentCompleted():
                return self._complete(event)
            case _:
                return False

    def _revive(self, key: tuple[str, str]) -> _Contact | None:
        """A stay the grace timer closed as left, reopened because an event about it came
        after all (events can be processed later than they were received)."""
        contact = self._closed_by_timer.pop(key, None)
        if contact is None or contact.outcome is not ContactOutcome.LEFT:
            return None
        with contextlib.suppress(ValueError):
            self._done.remove(contact)
        contact.outcome = None
        self._open[key] = contact
        self._contacts_changed()
        return contact

    def _join(self, event: QueueCallerJoined) -> bool:
        uniqueid = event.uniqueid or ""
        key = (uniqueid, event.queue)
        contact = self._open.get(key) or self._revive(key)
        if contact is not None and contact.left_at is not None:
            contact.left_at = None  # back after a periodic announcement: the same contact
        elif contact is None:
            self._finish_elsewhere(uniqueid, event.queue, event.at)
            contact = _Contact(
                event.queue, self.line_of(event.queue), uniqueid, event.linkedid, event.at
            )
            self._open[key] = contact
        callers = self.waiting.setdefault(event.queue, [])
        callers[:] = [c for c in callers if c.uniqueid != uniqueid]
        caller = WaitingCaller(
            uniqueid,
            event.linkedid,
            event.queue,
            event.at,
            contact.offered_at,
            event.caller_id_num,
            self.priorities.get(uniqueid, 0),
        )
        index = (event.position or len(callers) + 1) - 1
        callers.insert(max(0, min(index, len(callers))), caller)
        self.feed.bump()
        return True

    def _finish_elsewhere(self, uniqueid: str, queue: str, at: datetime) -> None:
        """The caller joined `queue`: a stay elsewhere they left is over (an overflow)."""
        for (other_id, other_queue), contact in list(self._open.items()):
            if other_id == uniqueid and other_queue != queue and contact.left_at is not None:
                self._resolve(contact, ContactOutcome.LEFT, contact.left_at)

    def _remove_waiting(self, queue: str, uniqueid: str | None) -> bool:
        callers = self.waiting.get(queue)
        if not callers:
            return False
        kept = [c for c in callers if c.uniqueid != uniqueid]
        changed = len(kept) != len(callers)
        callers[:] = kept
        return changed

    def _leave(self, queue: str, uniqueid: str | None, at: datetime, *, abandoned: bool) -> bool:
        changed = self._remove_waiting(queue, uniqueid)
        contact = self._open.get((uniqueid or "", queue))
        if contact is not None and contact.answered_at is None:
            if abandoned:
                outcome = (
                    ContactOutcome.CALLBACK
                    if contact.uniqueid in self._callbacks
                    else ContactOutcome.ABANDONED
                )
                self._resolve(contact, outcome, at)
            elif contact.left_at is None:
                contact.left_at = at
        self.feed.bump()
        return changed or contact is not None

    def _connect(self, event: AgentConnected) -> bool:
        uniqueid = event.uniqueid or ""
        self._remove_waiting(event.queue, uniqueid)
        key = (uniqueid, event.queue)
        contact = self._open.get(key) or self._revive(key)
        if contact is None:
            # the join happened before we looked: Asterisk's HoldTime says when
            hold = timedelta(seconds=event.hold_time or 0)
            contact = _Contact(
                event.queue,
                self.line_of(event.queue),
                uniqueid,
                event.linkedid,
                event.at - hold,
            )
        contact.answered_at = event.at
        contact.left_at = None
        contact.operator_interface = event.interface
        self._resolve(contact, ContactOutcome.ANSWERED, event.at)
        self._answered[uniqueid] = contact
        return True

    def _complete(self, event: AgentCompleted) -> bool:
        contact = self._answered.get(event.uniqueid or "")
        if contact is None or contact.talk_seconds is not None:
            return False
        if event.talk_time is not None:
            contact.talk_seconds = float(event.talk_time)
        elif contact.answered_at is not None:
            contact.talk_seconds = max(0.0, (event.at - contact.answered_at).total_seconds())
        self._contacts_changed()
        return True

    def _resolve(self, contact: _Contact, outcome: ContactOutcome, at: datetime) -> None:
        if outcome is not ContactOutcome.LEFT:
            self.priorities.pop(contact.uniqueid, None)
        contact.outcome = outcome
        contact.resolved_at = at
        contact.wait_seconds = max(0.0, (at - contact.offered_at).total_seconds())
        self._open.pop((contact.uniqueid, contact.queue), None)
        self._done.append(contact)
        self._contacts_changed()

    def _contacts_changed(self) -> None:
        self.contacts_version += 1
        self.feed.bump()

    # ------------------------------------------------------------------ from other services

    def callback_booked(self, uniqueid: str) -> None:
        """The caller booked a callback: their leaving is not an abandoned call."""
        self._callbacks.add(uniqueid)
        for (other_id, _queue), contact in list(self._open.items()):
            if other_id == uniqueid and contact.answered_at is None:
                left = contact.left_at or contact.offered_at
                self._resolve(contact, ContactOutcome.CALLBACK, left)

    def wrap_up_ended(self, caller_uniqueid: str, seconds: float) -> None:
        contact = self._answered.get(caller_uniqueid)
        if contact is not None and contact.wrap_seconds is None:
            contact.wrap_seconds = max(0.0, seconds)
            self._contacts_changed()

    def tick(self, now: datetime) -> None:
        """Stays left without an operator and not resumed within the grace are final."""
        for key, contact in list(self._open.items()):
            if contact.left_at is not None and now - contact.left_at >= REJOIN_GRACE:
                if contact.uniqueid in self._callbacks:
                    self._resolve(contact, ContactOutcome.CALLBACK, contact.left_at)
                    continue
                self._resolve(contact, ContactOutcome.LEFT, contact.left_at)
                self._closed_by_timer[key] = contact
                while len(self._closed_by_timer) > MAX_REVIVABLE:
                    self._closed_by_timer.popitem(last=False)

    def forget_before(self, moment: datetime) -> None:
        """A new day: yesterday's contacts leave the day's metrics."""
        self._done = [c for c in self._done if c.offered_at >= moment]
        self._history = [c for c in self._history if c.offered_at >= moment]
        self._answered = {k: c for k, c in self._answered.items() if c.offered_at >= moment}
        self._callbacks.clear()
        self._closed_by_timer.clear()
        self._contacts_changed()

    # ------------------------------------------------------------------ resync

    def on_queue_status(self, report: QueueStatusReport, at: datetime) -> None:
        """After a (re)connect: the waiting callers are those QueueStatus lists."""
        present: set[tuple[str, str]] = set()
        for queue in report.queues:
            rows = []
            for row in queue.callers:
                key = (row.uniqueid, queue.name)
                present.add(key)
                joined = at - timedelta(seconds=row.wait_seconds)
                contact = self._open.get(key)
                if contact is None:
                    line = self.line_of(queue.name)
                    contact = _Contact(queue.name, line, row.uniqueid, None, joined)
                    self._open[key] = contact
                contact.left_at = None
                rows.append(
                    WaitingCaller(
                        row.uniqueid,
                        None,
                        queue.name,
                        joined,
                        contact.offered_at,
                        row.caller_id_num or None,
                        row.priority,
                    )
                )
            self.waiting[queue.name] = rows
        for name in self.waiting:
            if name not in {q.name for q in report.queues}:
                self.waiting[name] = []
        for key, contact in list(self._open.items()):
            if key not in present and contact.left_at is None:
                # gone while we were not looking: answered or not, we cannot tell
                contact.left_at = at
        self.feed.bump()


def longest_wait(callers: Iterable[WaitingCaller], now: datetime) -> float:
    return max(((now - c.waiting_since).total_seconds() for c in callers), default=0.0)


def count_states(states: Mapping[int, OperatorState], ids: Iterable[int]) -> dict[str, int]:
    counts = {state.value: 0 for state in OperatorState}
    for op_id in ids:
        counts[states.get(op_id, OperatorState.LOGGED_OUT).value] += 1
    return counts
