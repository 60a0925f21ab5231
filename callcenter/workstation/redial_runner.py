"""Auto-redial jobs carried out on a telephony node.

An operator's auto-redial is a row (`redial_jobs`) rather than a task in the process that took
the request, so a restart, a crash or the request arriving on an API node loses nothing: every
telephony node runs a `RedialRunner` that takes the jobs whose next attempt is due, for itself
or for any node, leases them (a second node skips them while the lease holds), makes one step
and writes the job back:

    last attempt answered            -> answered (done)
    attempts used up                 -> exhausted (or failed when none got through)
    otherwise                        -> originate once more, next attempt in `interval`

A node that dies between the Originate and the write-back leaves the lease to expire; the next
node makes that attempt again (at least once, never silently dropped). NOTIFY `cc_redials`
wakes the runners when a job is added; they also look every `poll_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta

from callcenter.common.access import Clock, Sessions, WorkstationError
from callcenter.domain.calls import CallRecord, Disposition
from callcenter.ports.records import RedialJobRow
from callcenter.workstation.call_control import (
    CallControlPbx,
    Destination,
    Originated,
    PbxUnavailable,
    RedialStatus,
    originate_call,
)

log = logging.getLogger(__name__)

CallLookup = Callable[[str], CallRecord | None]


class RedialRunner:
    def __init__(
        self,
        sessions: Sessions,
        pbx: CallControlPbx | None,
        *,
        node: str,
        clock: Clock,
        call_lookup: CallLookup | None = None,
        originated: Originated | None = None,
        lease_seconds: float = 60.0,
        poll_seconds: float = 1.0,
    ) -> None:
        self._sessions = sessions
        self._pbx = pbx
        self.node = node
        self._clock = clock
        self._call_lookup = call_lookup
        self._originated = originated
        self._lease = timedelta(seconds=lease_seconds)
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.attempts_made = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="redial-runner")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self, _payload: str = "") -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()
            try:
                await self.tick()
            except Exception as exc:
                log.warning("auto-redial: jobs not served: %s", exc)

    async def tick(self) -> int:
        """Make one step of every due job; the number of jobs stepped."""
        now = self._clock()
        async with self._sessions.begin() as tx:
            rows = await tx.cluster.take_due_redials(
                node=self.node, now=now, lease_until=now + self._lease
            )
            jobs = [_Due(r) for r in rows]
        for job in jobs:
            values = await self._step(job)
            values.update(taken_by=None, lease_until=None, updated_at=self._clock())
            async with self._sessions.begin() as tx:
                await tx.cluster.update_redial(job.id, values)
        return len(jobs)

    async def _step(self, job: _Due) -> dict[str, object]:
        if job.channel_ids and await self._answered(job.channel_ids[-1]):
            return {"status": RedialStatus.ANSWERED.value}
        if job.made >= job.attempts:
            done = RedialStatus.EXHAUSTED if job.channel_ids else RedialStatus.FAILED
            return {"status": done.value}
        values: dict[str, object] = {
            "made": job.made + 1,
            "next_attempt_at": self._clock() + timedelta(seconds=job.interval_seconds),
        }
        try:
            if self._pbx is None:
                raise PbxUnavailable("АТС не подключена: автодозвон ждёт")
            dialled = await originate_call(self._pbx, job.device, job.interface, job.destination)
        except WorkstationError as exc:
            values["last_error"] = exc.message[:300]
        else:
            self.attempts_made += 1
            values["channel_ids"] = [*job.channel_ids, dialled.channel_id]
            if self._originated is not None:
                self._originated.add(job.operator_id, dialled.channel_id)
        return values

    async def _answered(self, channel_id: str) -> bool:
        """Whether the call of that attempt was answered: this node's live records first, the
        stored call record otherwise (the attempt may have been made before a restart)."""
        record = self._call_lookup(channel_id) if self._call_lookup is not None else None
        if record is not None:
            return record.answered_at is not None or record.disposition is Disposition.ANSWERED
        async with self._sessions() as tx:
            call = await tx.calls.get_by_linkedid(channel_id)
            return call is not None and (
                call.answered_at is not None or call.disposition is Disposition.ANSWERED
            )


class _Due:
    """A leased job, read out of its row before the transaction ends."""

    __slots__ = (
        "attempts",
        "channel_ids",
        "destination",
        "device",
        "id",
        "interface",
        "interval_seconds",
        "made",
        "operator_id",
    )

    def __init__(self, row: RedialJobRow) -> None:
        self.id = row.id
        self.operator_id = row.operator_id
        self.device = row.device
        self.interface = row.interface
        self.destination = Destination(row.context, row.exten, row.number)
        self.attempts = row.attempts
        self.made = row.made
        self.interval_seconds = row.interval_seconds
        self.channel_ids = list(row.channel_ids or [])
