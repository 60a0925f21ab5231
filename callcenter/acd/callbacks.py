"""Callback in queue: a waiting caller presses a key, hangs up, and keeps their place.

The platform holds the place: a booked callback keeps the time the caller started waiting
and their priority. Its turn comes when no caller still in the queue is ahead of it (higher
priority, or the same priority and waiting since earlier) and an operator is free. Then the
platform originates a call to the customer (`Local/<number>@outbound`); once they answer, the
call enters the same queue (`transfer,<queue>`) with the highest priority and the channel
variable QUEUED_CALLBACK=1, so the first free operator takes it and its call record says it
was a queued callback. A customer who does not answer is tried again a few times.

Callbacks are kept by a `CallbackStore` (the database): every change is marked and written by
`save()`; the booking script saves before the caller hears the confirmation, and the ACD's
timer saves the rest. After a restart `load()` brings back the callbacks not yet made; one
that was ringing when the node stopped is tried again.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from callcenter.common.access import Conflict, InvalidInput
from callcenter.domain import dialplan
from callcenter.domain.acd import CALLBACK_PRIORITY
from callcenter.domain.telephony import (
    AgentConnected,
    ChannelHungUp,
    OriginateResult,
    QueueCallerAbandoned,
    TelephonyEvent,
)
from callcenter.pbx import channel_vars
from callcenter.pbx.ami_errors import AmiError

log = logging.getLogger(__name__)

# Russian subscriber numbers the `outbound` context dials as 8XXXXXXXXXX (written also +7, 7 or
# a bare 10 digits): mobile 9xx and geographic 3xx-8xx codes; 80x (8-800 free numbers, 8-809
# premium rate) are no customer's phone
_RUSSIAN = re.compile(r"(?:\+?7|8)?(9\d{9}|[3-7]\d{9}|8[1-9]\d{8})")
_NOT_DIGITS = re.compile(r"[^\d+]")


def dialable_number(raw: str | None) -> str | None:
    """The caller's number as the outbound context dials it (8 + 10 digits), or None."""
    if not raw:
        return None
    cleaned = _NOT_DIGITS.sub("", raw.strip())
    match = _RUSSIAN.fullmatch(cleaned)
    if match is None:
        return None
    return "8" + match.group(1)


class Originator(Protocol):
    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        channel_id: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        ring_timeout: float | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> Any: ...


class CallbackStore(Protocol):
    """Where callbacks outlive the process (`callcenter.cluster.stores.SqlCallbackStore`)."""

    async def save(self, callbacks: Sequence[QueuedCallback]) -> None: ...

    async def load_active(self) -> list[QueuedCallback]: ...


class CallbackState(StrEnum):
    WAITING = "waiting"  # holding the caller's place
    DIALING = "dialing"  # the customer's phone is ringing
    IN_QUEUE = "in_queue"  # the customer answered and waits for the next free operator
    DONE = "done"  # an operator took the call
    FAILED = "failed"  # no answer after every attempt, or the customer hung up


ACTIVE_STATES = frozenset({CallbackState.WAITING, CallbackState.DIALING, CallbackState.IN_QUEUE})


@dataclass(frozen=True, slots=True)
class CallbackRules:
    max_attempts: int = 3
    retry_seconds: float = 120.0
    ring_seconds: float = 30.0
    # where Local/<number>@<this> dials the public network
    outbound_context: str = dialplan.OUTBOUND_CONTEXT
    # <queue>@<this> puts the answered customer in the queue
    target_context: str = dialplan.TRANSFER_CONTEXT
    caller_id_number: str | None = None  # what the customer sees (the 8-800 number)
    caller_id_name: str = "Контакт-центр"


@dataclass(slots=True)
class QueuedCallback:
    id: uuid.UUID
    queue: str
    number: str
    original_uniqueid: str
    waiting_since: datetime
    priority: int
    booked_at: datetime
    customer_id: int | None = None
    state: CallbackState = CallbackState.WAITING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    channel_id: str | None = None  # the current attempt (ChannelId = its Linkedid)
    dialled_at: datetime | None = None
    last_outcome: str | None = None
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QueuedCaller:
    """A real caller in the queue, as far as the ordering needs it."""

    waiting_since: datetime
    priority: int


class QueueCallbacks:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        originator: Originator | None = None,
        rules: CallbackRules | None = None,
        store: CallbackStore | None = None,
    ) -> None:
        self._clock = clock
        self.originator = originator
        self.rules = rules or CallbackRules()
        self.store = store
        self._callbacks: dict[uuid.UUID, QueuedCallback] = {}
        self._by_channel: dict[str, uuid.UUID] = {}
        self._dirty: set[uuid.UUID] = set()

    # ------------------------------------------------------------------ durability

    def _touch(self, callback: QueuedCallback) -> None:
        self._dirty.add(callback.id)

    async def save(self) -> None:
        """Write every changed callback to the store (kept marked if the write fails)."""
        if self.store is None or not self._dirty:
            return
        changed = [self._callbacks[i] for i in list(self._dirty) if i in self._callbacks]
        self._dirty.clear()
        try:
            await self.store.save(changed)
        except Exception:
            self._dirty.update(c.id for c in changed)
            raise

    async def load(self) -> int:
        """Bring back the callbacks not yet made. One that was ringing or waiting in the
        queue keeps following its call (Asterisk still has it); a dial whose outcome never
        comes counts as unanswered after the usual time and is tried again."""
        if self.store is None:
            return 0
        loaded = await self.store.load_active()
        for callback in loaded:
            if callback.id in self._callbacks:
                continue
            self._callbacks[callback.id] = callback
            if callback.channel_id is not None:
                self._by_channel[callback.channel_id] = callback.id
        if loaded:
            log.info("%d callback(s) in queue brought back from the database", len(loaded))
        return len(loaded)

    # ------------------------------------------------------------------ reading

    def all(self) -> list[QueuedCallback]:
        return sorted(self._callbacks.values(), key=lambda c: c.booked_at)

    def active(self, queue: str | None = None) -> list[QueuedCallback]:
        return [
            c
            for c in self.all()
            if c.state in ACTIVE_STATES and (queue is None or c.queue == queue)
        ]

    def waiting(self, queue: str) -> list[QueuedCallback]:
        return [c for c in self.active(queue) if c.state is CallbackState.WAITING]

    def get(self, callback_id: uuid.UUID) -> QueuedCallback | None:
        return self._callbacks.get(callback_id)

    def for_channel(self, channel_id: str | None) -> QueuedCallback | None:
        if channel_id is None:
            return None
        found = self._by_channel.get(channel_id)
        return self._callbacks.get(found) if found is not None else None

    # ------------------------------------------------------------------ booking

    def book(
        self,
        *,
        queue: str,
        caller_number: str | None,
        original_uniqueid: str,
        waiting_since: datetime,
        priority: int = 0,
        customer_id: int | None = None,
    ) -> QueuedCallback:
        number = dialable_number(caller_number)
        if number is None:
            raise InvalidInput("Номер звонящего не определён: перезвонить невозможно")
        for existing in self.active():
            if existing.number == number:
                raise Conflict("Обратный звонок на этот номер уже заказан")
        now = self._clock()
        callback = QueuedCallback(
            id=uuid.uuid4(),
            queue=queue,
            number=number,
            original_uniqueid=original_uniqueid,
            waiting_since=min(waiting_since, now),
            priority=priority,
            booked_at=now,
            customer_id=customer_id,
            next_attempt_at=now,
        )
        self._callbacks[callback.id] = callback
        self._touch(callback)
        log.info("callback %s booked for queue %s", callback.id, queue)
        return callback

    def cancel(self, callback_id: uuid.UUID) -> QueuedCallback:
        callback = self._callbacks.get(callback_id)
        if callback is None:
            raise InvalidInput("Нет такого обратного звонка")
        if callback.state in ACTIVE_STATES:
            self._finish(callback, CallbackState.FAILED, "cancelled")
        return callback

    # ------------------------------------------------------------------ scheduling

    def _ahead(self, callback: QueuedCallback, callers: Sequence[QueuedCaller]) -> bool:
        """Is a real caller in the queue before this callback's place?"""
        return any(
            c.priority > callback.priority
            or (c.priority == callback.priority and c.waiting_since <= callback.waiting_since)
            for c in callers
        )

    def due(
        self, queue: str, *, free_operators: int, callers: Sequence[QueuedCaller]
    ) -> list[QueuedCallback]:
        """The callbacks whose turn has come in `queue` now, in order."""
        now = self._clock()
        busy = sum(
            1
            for c in self.active(queue)
            if c.state in (CallbackState.DIALING, CallbackState.IN_QUEUE)
        )
        capacity = free_operators - busy
        pending = sorted(
            (
                c
                for c in self.waiting(queue)
                if c.next_attempt_at is None or c.next_attempt_at <= now
            ),
            key=lambda c: (-c.priority, c.waiting_since),
        )
        chosen = []
        for callback in pending:
            if capacity <= 0 or self._ahead(callback, callers):
                break
            chosen.append(callback)
            capacity -= 1
        return chosen

    async def place(self, callback: QueuedCallback) -> bool:
        """Originate the call to the customer; False (retried later) when it cannot be sent."""
        now = self._clock()
        rules = self.rules
        if self.originator is None:
            return False
        channel_id = str(uuid.uuid4())
        variables: dict[str, object] = {
            channel_vars.QUEUED_CALLBACK: "1",
            channel_vars.IVR_PRIORITY: CALLBACK_PRIORITY,
            channel_vars.CALL_UUID: channel_id,
        }
        if callback.customer_id is not None:
            variables[channel_vars.CUSTOMER_ID] = callback.customer_id
        self._touch(callback)
        callback.attempts += 1
        callback.state = CallbackState.DIALING
        callback.channel_id = channel_id
        callback.dialled_at = now
        self._by_channel[channel_id] = callback.id
        try:
            await self.originator.originate(
                f"Local/{callback.number}@{rules.outbound_context}",
                context=rules.target_context,
                exten=callback.queue,
                channel_id=channel_id,
                caller_id_name=rules.caller_id_name,
                caller_id_number=rules.caller_id_number,
                ring_timeout=rules.ring_seconds,
                variables=variables,
            )
        except AmiError as exc:
            log.warning("callback %s: originate failed: %s", callback.id, exc)
            self._attempt_failed(callback, f"originate: {exc}", count=False)
            return False
        callback.history.append(f"{now.isoformat()} dialled")
        return True

    def _attempt_failed(
        self, callback: QueuedCallback, outcome: str, *, count: bool = True
    ) -> None:
        now = self._clock()
        self._touch(callback)
        callback.last_outcome = outcome
        callback.history.append(f"{now.isoformat()} {outcome}")
        if not count:
            callback.attempts = max(0, callback.attempts - 1)
        if callback.attempts >= self.rules.max_attempts:
            self._finish(callback, CallbackState.FAILED, outcome)
            return
        callback.state = CallbackState.WAITING
        callback.channel_id = None
        callback.next_attempt_at = now + timedelta(seconds=self.rules.retry_seconds)

    def _finish(self, callback: QueuedCallback, state: CallbackState, outcome: str) -> None:
        self._touch(callback)
        callback.state = state
        callback.last_outcome = outcome
        callback.history.append(f"{self._clock().isoformat()} {outcome}")

    def check_timeouts(self) -> bool:
        """A dial whose outcome never came (a lost event) counts as unanswered."""
        now = self._clock()
        changed = False
        limit = timedelta(seconds=self.rules.ring_seconds + 60.0)
        for callback in self.active():
            if (
                callback.state is CallbackState.DIALING
                and callback.dialled_at is not None
                and now - callback.dialled_at > limit
            ):
                self._attempt_failed(callback, "no outcome")
                changed = True
        return changed

    # ------------------------------------------------------------------ events

    def on_event(self, event: TelephonyEvent) -> bool:
        """Follow the callback calls; True when a callback changed state."""
        match event:
            case OriginateResult():
                callback = self.for_channel(event.channel_id)
                if callback is None or callback.state is not CallbackState.DIALING:
                    return False
                if event.success:
                    self._touch(callback)
                    callback.state = CallbackState.IN_QUEUE
                    callback.history.append(f"{event.at.isoformat()} answered")
                else:
                    self._attempt_failed(callback, f"not answered (reason {event.reason})")
                return True
            case AgentConnected():
                callback = self.for_channel(event.linkedid)
                if callback is None or callback.state not in ACTIVE_STATES:
                    return False
                self._finish(callback, CallbackState.DONE, "connected to an operator")
                return True
            case QueueCallerAbandoned():
                callback = self.for_channel(event.linkedid)
                if callback is None or callback.state not in ACTIVE_STATES:
                    return False
                self._finish(callback, CallbackState.FAILED, "customer hung up in the queue")
                return True
            case ChannelHungUp():
                callback = self.for_channel(event.linkedid)
                if (
                    callback is None
                    or callback.state is not CallbackState.IN_QUEUE
                    or event.uniqueid != event.linkedid
                ):
                    return False
                self._finish(callback, CallbackState.FAILED, "customer hung up before an operator")
                return True
            case _:
                return False

    def forget_finished_before(self, moment: datetime) -> None:
        for callback_id, callback in list(self._callbacks.items()):
            if callback.state not in ACTIVE_STATES and callback.booked_at < moment:
                del self._callbacks[callback_id]
                if callback.channel_id is not None:
                    self._by_channel.pop(callback.channel_id, None)
