"""The dialer's view of the operators who take a queue's campaign calls (fed from the ACD by
`callcenter.outbound.operator_feed`): who is ready, how long the busy ones have been busy,
their handle times, and short reservations for live answers about to be handed over."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callcenter.domain.agents import OperatorState
from callcenter.domain.pacing import HandleTimes, OperatorLoad

Clock = Callable[[], datetime]


@dataclass
class _Member:
    state: OperatorState
    since: datetime  # when the call reached the operator (busy) or the state began
    wrap_since: datetime | None = None  # when this call's wrap-up began


class InMemoryOperatorPool:
    """Operator states per queue, fed by whoever follows the ACD (`set_state`).

    Busy states (ringing, on call, wrap-up) count as busy from when the call reached the
    operator; going back to READY records that handle time for the pacing. `reserve` holds an
    idle operator for a live answer the dialer is about to hand over, so that two answers at
    once do not count on the same person; a reservation is used up when an operator leaves
    READY, or lapses after `reservation_seconds`.
    """

    def __init__(self, *, clock: Clock, reservation_seconds: float = 10.0) -> None:
        self._clock = clock
        self._members: dict[str, dict[str, _Member]] = {}
        self._handle: dict[str, HandleTimes] = {}
        self._reservations: dict[str, list[datetime]] = {}
        self._reservation = timedelta(seconds=reservation_seconds)
        self._changed = asyncio.Condition()

    def set_state(self, queue: str, operator: str, state: OperatorState, at: datetime) -> None:
        members = self._members.setdefault(queue, {})
        previous = members.get(operator)
        busy = {OperatorState.RINGING, OperatorState.ON_CALL, OperatorState.WRAP_UP}
        if previous is not None and previous.state in busy and state in busy:
            # the same call goes on; its wrap-up starts when the state first says so
            wrap_since = previous.wrap_since
            if state is OperatorState.WRAP_UP and wrap_since is None:
                wrap_since = at
            members[operator] = _Member(state, previous.since, wrap_since)
        else:
            members[operator] = _Member(state, at)
        if previous is not None and previous.state in busy and state not in busy:
            # a call ended: its handle time, how much of it was wrap-up, and whether the
            # operator came back ready after it (a pause or a logout takes them away from
            # the pacing's count)
            wrap = (at - previous.wrap_since).total_seconds() if previous.wrap_since else 0.0
            self.handle_times(queue).add(
                (at - previous.since).total_seconds(),
                returned=state is OperatorState.READY,
                wrap_seconds=wrap,
            )
        if (
            previous is not None
            and previous.state is OperatorState.READY
            and state is not OperatorState.READY
        ):
            pending = self._reservations.get(queue)
            if pending:
                pending.pop(0)
        self._notify()

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):  # no running loop: nobody is waiting
            task = asyncio.get_running_loop().create_task(wake())
            _background.add(task)
            task.add_done_callback(_background.discard)

    def _ready(self, queue: str, now: datetime) -> int:
        members = self._members.get(queue, {})
        ready = sum(1 for m in members.values() if m.state is OperatorState.READY)
        pending = [t for t in self._reservations.get(queue, []) if t > now]
        self._reservations[queue] = pending
        return max(0, ready - len(pending))

    def load(self, queue: str, now: datetime) -> OperatorLoad:
        members = self._members.get(queue, {})
        busy = tuple(
            max(0.0, (now - m.since).total_seconds())
            for m in members.values()
            if m.state in (OperatorState.RINGING, OperatorState.ON_CALL)
        )
        # wrap-up told apart: short and regular, a far better bet to be free soon
        wrapping = tuple(
            max(0.0, (now - (m.wrap_since or m.since)).total_seconds())
            for m in members.values()
            if m.state is OperatorState.WRAP_UP
        )
        return OperatorLoad(
            ready=self._ready(queue, now), busy_elapsed=busy, wrapping_elapsed=wrapping
        )

    def handle_times(self, queue: str) -> HandleTimes:
        return self._handle.setdefault(queue, HandleTimes())

    async def reserve(self, queue: str, within: float) -> bool:
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: self._ready(queue, self._clock()) > 0)
        except TimeoutError:
            return False
        now = self._clock()
        self._reservations.setdefault(queue, []).append(now + self._reservation)
        return True


_background: set[asyncio.Task[Any]] = set()
