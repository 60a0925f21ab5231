"""Ties call records to recordings: register when a call appears, complete when it ends.

Asterisk names the MixMonitor file by the call's UUID and start date (see asterisk_conf/),
so the recording row can be registered as soon as the call is in the database; completion
waits for the hang-up and for the file to be closed (MixMonitorStop is not sent on a plain
hang-up, so the hang-up is the signal).
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from callcenter.domain.calls import CallRecord, Direction
from callcenter.domain.recording_rules import CallFacts, RecordingDecision
from callcenter.ports.stores import Stores
from callcenter.recordings.registry import RecordingService

log = logging.getLogger(__name__)


def _has_audio(record: CallRecord) -> bool:
    """Whether the dialplan has started (or will have started) a recording of the call.

    An inbound call is recorded from its first second. An outbound one only once its channel
    is answered (the dialer's `dialer` context; an operator's phone picking up its own call):
    a campaign call nobody answered has no file, and registering one would leave a row that
    turns "missing" two minutes later.
    """
    return record.direction is not Direction.OUTBOUND or record.answered_at is not None


class CallRecordingHooks:
    def __init__(self, recordings: RecordingService) -> None:
        self._recordings = recordings
        self._registered: set[uuid.UUID] = set()
        self._finishing: set[asyncio.Task[None]] = set()

    async def on_commit(self, records: list[CallRecord]) -> None:
        new = [r for r in records if r.id not in self._registered and _has_audio(r)]
        if new:
            async with self._recordings.sessions.begin() as tx:
                for record in new:
                    decision = await self._decide(tx, record)
                    if decision.record:
                        await self._recordings.register_call(
                            tx, record.id, call_started_at=record.started_at, decision=decision
                        )
            self._registered.update(r.id for r in new)
        for record in records:
            if record.ended_at is not None:
                self._registered.discard(record.id)
                task = asyncio.create_task(self._finish(record.id), name=f"recording-{record.id}")
                self._finishing.add(task)
                task.add_done_callback(self._finishing.discard)

    async def _decide(self, tx: Stores, record: CallRecord) -> RecordingDecision:
        """The rules read the call's direction, queue and campaign: an inbound call's record
        has them all (no campaign), an outbound one's campaign is only in the database."""
        if record.direction is Direction.INBOUND:
            facts = CallFacts(direction=record.direction, queue_name=record.queue_name)
            return self._recordings.policy.decide(facts)
        return await self._recordings.decide(tx, record.id)

    async def _finish(self, call_id: uuid.UUID) -> None:
        try:
            await self._recordings.on_call_hung_up(call_id)
        except Exception:
            log.exception("completing the recording of call %s failed", call_id)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        """Let completions in progress finish before the database goes away."""
        await self.drain()

    async def drain(self) -> None:
        """Wait for every completion in progress (tests, shutdown)."""
        while self._finishing:
            await asyncio.gather(*list(self._finishing), return_exceptions=True)
