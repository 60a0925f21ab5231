"""Feeds the dialer's operator pool from the ACD, so predictive pacing sees real operators.

The ACD owns operator state (workstation commands corrected by Asterisk's events); the
dialer's pacing needs, per queue, who is ready and how long busy ones have been busy. This
follows the ACD's change feed and copies each operator's state into the pool under the
queue of their support line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from callcenter.acd.service import AcdService
from callcenter.domain import dialplan
from callcenter.outbound.dialer import InMemoryOperatorPool

log = logging.getLogger(__name__)

LINE_QUEUES = dialplan.LINE_QUEUES


class DialerOperatorFeed:
    def __init__(
        self,
        acd: AcdService,
        pool: InMemoryOperatorPool,
        *,
        clock: Callable[[], datetime],
        max_wait: float = 5.0,
        coalesce: float = 0.1,
    ) -> None:
        self._coalesce = coalesce
        self._acd = acd
        self._pool = pool
        self._clock = clock
        self._max_wait = max_wait
        self._task: asyncio.Task[None] | None = None

    def sync(self) -> None:
        """Copy every operator's current state into the pool."""
        now = self._clock()
        statuses = self._acd.states.statuses()
        for info in self._acd.states.operators():
            status = statuses.get(info.id)
            if status is None:
                continue
            call_queue = status.call.queue if status.call is not None else None
            queue = call_queue or LINE_QUEUES.get(info.line)
            if queue is not None:
                self._pool.set_state(queue, info.extension, status.state, status.since or now)

    async def _run(self) -> None:
        seen = -1
        while True:
            seen = await self._acd.feed.wait(seen, self._max_wait)
            try:
                self.sync()
            except Exception:
                log.exception("copying operator states to the dialer failed")
            # a burst of queue events is one copy (the pacing looks every few hundred ms)
            await asyncio.sleep(self._coalesce)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="dialer-operator-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
