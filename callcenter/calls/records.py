"""Following calls: AMI events → journal → per-call state machine → call records.

`CallEvents` is the AMI listener. Each event is parsed, keyed and applied to the in-memory
`CallTracker` at once (so live views never wait on the database); the journal rows and the
latest record of every changed call are written by one background writer in batches, each
batch one transaction. A database that stalls delays the writes, never the AMI reader, and
a failed batch is kept and retried: nothing is dropped while the backlog stays under its
bound (beyond it the oldest *journal* rows go first, counted and logged; call records are
always kept, one per call).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import CallRecord, CallTracker, Disposition, Transfer
from callcenter.domain.telephony_events import EventSource
from callcenter.pbx.events import EventParser, ParsedEvent
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.listener import ResyncSnapshot
from callcenter.ports.call_context import bound_call
from callcenter.ports.queries import CallFields, LegFields
from callcenter.ports.records import Call
from callcenter.ports.stores import Stores, Transactions

log = logging.getLogger(__name__)

CallObserver = Callable[[CallRecord, bool], None]
# runs after a batch of call records is committed (e.g. to start or finish recordings)
CommitHook = Callable[[list[CallRecord]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CallEventsStats:
    events: int
    journal_pending: int
    records_pending: int
    journal_dropped: int
    batches_written: int
    write_failures: int
    reconciled_interrupted: int


def normalise_interface(interface: str) -> str:
    """`Local/101@agents/n` and `local/101@agents` name the same endpoint."""
    value = interface.strip()
    if value.lower().endswith("/n"):
        value = value[:-2]
    return value.lower()


class OperatorDirectory:
    """Maps Asterisk member interfaces to operator ids, cached, refreshed on a miss."""

    def __init__(self, session_factory: Transactions, *, refresh_every: float = 5.0) -> None:
        self._factory = session_factory
        self._refresh_every = refresh_every
        self._by_interface: dict[str, int] = {}
        self._by_id: dict[int, str] = {}
        self._loaded_at: float | None = None

    async def refresh(self) -> None:
        async with self._factory() as tx:
            rows = await tx.operators.interfaces()
        self._by_interface = {normalise_interface(iface): op_id for op_id, iface in rows}
        self._by_id = {op_id: iface for op_id, iface in rows}
        self._loaded_at = asyncio.get_running_loop().time()

    async def operator_id(self, interface: str | None) -> int | None:
        if not interface:
            return None
        key = normalise_interface(interface)
        found = self._by_interface.get(key)
        now = asyncio.get_running_loop().time()
        stale = self._loaded_at is None or now - self._loaded_at > self._refresh_every
        if found is None and stale:
            await self.refresh()
            found = self._by_interface.get(key)
        return found

    def interface(self, operator_id: int | None) -> str | None:
        return self._by_id.get(operator_id) if operator_id is not None else None


def _fields(record: CallRecord, operator_id: int | None) -> CallFields:
    return CallFields(
        id=record.id,
        direction=record.direction,
        caller_number=record.caller_number,
        caller_name=record.caller_name,
        dialled_number=record.dialled_number,
        customer_id=record.customer_id,
        started_at=record.started_at,
        answered_at=record.answered_at,
        ended_at=record.ended_at,
        ivr_path=list(record.ivr_path),
        ivr_seconds=record.ivr_seconds,
        ivr_closed=record.ivr_closed,
        recording_notice_version=record.recording_notice_version,
        queue_name=record.queue_name,
        operator_id=operator_id,
        wait_seconds=record.wait_seconds,
        talk_seconds=record.talk_seconds,
        disposition=record.disposition,
        hangup_cause=record.hangup_cause,
        transfer_count=record.transfer_count,
        is_queued_callback=record.is_queued_callback,
        priority=record.priority,
    )


def record_from_row(row: Call, operator_interface: str | None) -> CallRecord:
    """Rebuild the record of an open call from its row (after our own restart)."""
    return CallRecord(
        id=row.id,
        linkedid=row.linkedid,
        direction=row.direction,
        caller_number=row.caller_number,
        caller_name=row.caller_name,
        dialled_number=row.dialled_number,
        customer_id=row.customer_id,
        started_at=row.started_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at,
        ivr_path=tuple(row.ivr_path or ()),
        ivr_seconds=row.ivr_seconds,
        ivr_closed=row.ivr_closed,
        queue_name=row.queue_name,
        operator_interface=operator_interface,
        operator_name=None,
        wait_seconds=row.wait_seconds,
        talk_seconds=row.talk_seconds,
        disposition=row.disposition,
        hangup_cause=row.hangup_cause,
        hangup_cause_text=None,
        transfer_count=row.transfer_count,
        transfers=(),
        is_queued_callback=row.is_queued_callback,
        priority=row.priority,
        originate_action_id=None,
        originate_reason=None,
        amd_status=None,
        amd_cause=None,
        ring_no_answer_count=0,
        recording_file=None,
        recording_notice_version=row.recording_notice_version,
        partial=True,
    )


class CallEvents:
    """The AMI listener that journals events and keeps call records (see module doc)."""

    def __init__(
        self,
        session_factory: Transactions,
        *,
        tracker: CallTracker,
        parser: EventParser | None = None,
        operators: OperatorDirectory | None = None,
        flush_interval: float = 0.05,
        batch_size: int = 2_000,
        records_per_batch: int = 200,
        max_journal_backlog: int = 500_000,
        retry_delay: float = 1.0,
    ) -> None:
        self._factory = session_factory
        self.tracker = tracker
        self.parser = parser or EventParser(uuid.uuid4().hex)
        self.operators = operators or OperatorDirectory(session_factory)
        self._flush_interval = flush_interval
        self._batch_size = batch_size
        self._records_per_batch = records_per_batch
        self._max_backlog = max_journal_backlog
        self._retry_delay = retry_delay
        self._journal: list[dict[str, Any]] = []
        self._records: dict[str, CallRecord] = {}
        self._transfers_saved: dict[str, int] = {}
        self._observers: list[CallObserver] = []
        self._commit_hooks: list[CommitHook] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None
        self._restored = False
        self._events = 0
        # events seen per AMI event name (names are bounded by the parser's own cap)
        self._by_name: Counter[str] = Counter()
        self._dropped = 0
        self._batches = 0
        self._failures = 0
        self._interrupted = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="call-journal-writer")

    async def stop(self) -> None:
        """Note the shutdown time on every open call, write what is pending (one last try),
        then stop the writer. A call Asterisk drops while we are down is later closed as
        ended at that noted time, not at our restart."""
        stopped_at = datetime.now(UTC)
        for linkedid in sorted(self.tracker.open_linkedids()):
            self._journal.append(
                {
                    "event_key": f"platform-stopped:{linkedid}:{stopped_at.isoformat()}",
                    "source": EventSource.PLATFORM,
                    "name": "PlatformStopped",
                    "received_at": stopped_at,
                    "payload": {},
                    "linkedid": linkedid,
                    "uniqueid": None,
                }
            )
        with contextlib.suppress(Exception):
            await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    def subscribe(self, observer: CallObserver) -> None:
        """`observer(record, ended_now)` runs on every change of a call; it must not block."""
        self._observers.append(observer)

    def after_commit(self, hook: CommitHook) -> None:
        """`await hook(records)` after each batch of call records is in the database."""
        self._commit_hooks.append(hook)

    def events_by_name(self) -> dict[str, int]:
        return dict(self._by_name)

    def journal_lag_seconds(self, now: datetime) -> float:
        """How long the oldest event not yet journaled has waited (0 when none waits)."""
        if not self._journal:
            return 0.0
        oldest: datetime = self._journal[0]["received_at"]
        return max(0.0, (now - oldest).total_seconds())

    def stats(self) -> CallEventsStats:
        return CallEventsStats(
            events=self._events,
            journal_pending=len(self._journal),
            records_pending=len(self._records),
            journal_dropped=self._dropped,
            batches_written=self._batches,
            write_failures=self._failures,
            reconciled_interrupted=self._interrupted,
        )

    # ------------------------------------------------------------------ AmiListener

    async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
        parsed = self.parser.parse(frame, received_at)
        if parsed is None:
            return
        with bound_call(parsed.event.linkedid):
            self._take(parsed, frame, received_at)

    def _take(self, parsed: ParsedEvent, frame: AmiFrame, received_at: datetime) -> None:
        self._events += 1
        event = parsed.event
        self._by_name[event.name] += 1
        self._journal.append(
            {
                "event_key": parsed.key,
                "source": EventSource.AMI,
                "name": event.name[:64],
                "received_at": received_at,
                "payload": frame.as_dict(),
                "linkedid": event.linkedid,
                "uniqueid": event.uniqueid,
            }
        )
        update = self.tracker.apply(event, parsed.key)
        if update is not None:
            self._changed(update.record, update.ended_now)
        self._trim_backlog()
        self._poke()

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        live = {ch.linkedid for ch in snapshot.channels} | {ch.uniqueid for ch in snapshot.channels}
        if not self._restored:
            await self._restore_open_calls(live, snapshot.connected_at)
            self._restored = True
        for linkedid in sorted(self.tracker.open_linkedids() - live):
            record = self.tracker.close_interrupted(linkedid, snapshot.connected_at)
            if record is not None:
                self._interrupted += 1
                self._changed(record, True)
        if snapshot.asterisk_restarted:
            log.warning("Asterisk restarted: calls it no longer has were closed as interrupted")
        self._poke()

    async def on_disconnected(self) -> None:
        log.warning("AMI link lost; call records resume after the resync")

    # ------------------------------------------------------------------ writing

    async def flush(self, max_wait: float = 30.0) -> None:
        """Wait until everything received so far is in the database (tests, shutdown)."""
        async with asyncio.timeout(max_wait):
            while self._journal or self._records:
                if self._writer is None:
                    await self._write_batch()
                else:
                    self._poke()
                    self._idle.clear()
                    await self._idle.wait()

    def _changed(self, record: CallRecord, ended_now: bool) -> None:
        self._records[record.linkedid] = record
        if ended_now:
            log.info(
                "call %s %s ended: %s%s%s",
                record.id,
                record.direction.value,
                record.disposition.value,
                f", queue {record.queue_name}" if record.queue_name else "",
                f", waited {record.wait_seconds:.1f} s" if record.wait_seconds is not None else "",
            )
        for observer in self._observers:
            try:
                observer(record, ended_now)
            except Exception:
                log.exception("call observer failed")

    def _poke(self) -> None:
        self._wake.set()

    def _trim_backlog(self) -> None:
        excess = len(self._journal) - self._max_backlog
        if excess > 0:
            del self._journal[:excess]
            self._dropped += excess
            log.error("journal backlog full: %d oldest events not journaled", excess)

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # let a burst gather so it is written as one batch
            await asyncio.sleep(self._flush_interval)
            while self._journal or self._records:
                try:
                    await self._write_batch()
                except Exception:
                    self._failures += 1
                    log.exception("writing call records failed; retrying")
                    await asyncio.sleep(self._retry_delay)
                    continue
                if (self._journal or self._records) and not self._backlogged():
                    # what arrived during the write gathers for one more interval: writing
                    # it at once would make one small transaction per handful of events
                    self._wake.set()
                    break
            else:
                self._idle.set()

    def _backlogged(self) -> bool:
        return (
            len(self._journal) >= self._batch_size or len(self._records) >= self._records_per_batch
        )

    async def _write_batch(self) -> None:
        # The journal goes first and in its own transaction (one statement per batch): it is
        # what must never be lost, and call records (several statements each) must not hold
        # it back under load. Records follow, at most `records_per_batch` per transaction.
        journal = self._journal[: self._batch_size]
        if journal:
            async with self._factory.begin() as tx:
                await tx.telephony_events.add_many(journal)
            # only now, after the commit: a failed batch stays pending for the retry
            del self._journal[: len(journal)]
        if not self._records:
            self._batches += 1
            return
        records = dict(itertools.islice(self._records.items(), self._records_per_batch))
        # operator ids first (a directory miss may read the operators): nothing but the
        # writes runs inside the transaction
        rows = [
            (linkedid, _fields(record, await self.operators.operator_id(record.operator_interface)))
            for linkedid, record in records.items()
        ]
        legs = [leg for record in records.values() for leg in await self._operator_legs(record)]
        async with self._factory.begin() as tx:
            await tx.calls.upsert_many(rows)
            await tx.calls.upsert_legs(legs)
            for record in records.values():
                await self._save_transfers(tx, record)
        for linkedid, record in records.items():
            if self._records.get(linkedid) is record:
                del self._records[linkedid]
            self._transfers_saved[linkedid] = len(record.transfers)
            if record.ended_at is not None:
                self._transfers_saved.pop(linkedid, None)
        self._batches += 1
        if records:
            written = list(records.values())
            for hook in self._commit_hooks:
                try:
                    await hook(written)
                except Exception:
                    log.exception("call commit hook failed")

    async def _operator_legs(self, record: CallRecord) -> list[LegFields]:
        """Every ring of an operator's phone: what the operator's missed-call history reads."""
        return [
            LegFields(
                call_id=record.id,
                uniqueid=leg.uniqueid,
                channel=leg.channel or leg.interface,
                role=LegRole.OPERATOR,
                started_at=leg.rang_at,
                answered_at=leg.answered_at,
                ended_at=leg.ended_at,
                operator_id=await self.operators.operator_id(leg.interface),
            )
            for leg in record.operator_legs
            if leg.uniqueid
        ]

    async def _save_transfers(self, tx: Stores, record: CallRecord) -> None:
        saved = self._transfers_saved.get(record.linkedid, 0)
        new: Iterable[Transfer] = record.transfers[saved:]
        for transfer in new:
            from_id = await self.operators.operator_id(transfer.from_operator)
            await tx.calls.add_transfer(
                record.id,
                kind=transfer.kind,
                to_target=transfer.to_target[:128],
                at=transfer.at,
                from_operator_id=from_id,
            )

    # ------------------------------------------------------------------ restart

    async def _restore_open_calls(self, live: set[str], now: datetime) -> None:
        """After our own restart: calls the database thinks are open are taken over when
        Asterisk still has them, else closed as interrupted."""
        await self.operators.refresh()
        async with self._factory() as tx:
            rows = await tx.calls.open_calls()
            saved = {row.linkedid: len(await tx.calls.transfers(row.id)) for row in rows}
            gone = [row.linkedid for row in rows if row.linkedid not in live]
            # the last moment each call was known to exist: our shutdown, or (after a crash)
            # its last event
            last_seen = await tx.telephony_events.last_seen(gone)
        for row in rows:
            record = record_from_row(row, self.operators.interface(row.operator_id))
            self._transfers_saved[row.linkedid] = saved[row.linkedid]
            if row.linkedid in live:
                self.tracker.restore(record)
                continue
            self._interrupted += 1
            closed = replace(
                record,
                ended_at=max(min(now, last_seen.get(row.linkedid, now)), row.started_at),
                disposition=Disposition.INTERRUPTED,
            )
            self._changed(closed, True)
