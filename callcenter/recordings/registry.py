"""Call recordings: registration and completion without loss (the call-event service's hooks).

Life of a recording (`RecordingState`):

    register (MixMonitorStart / call start)          -> recording
    complete (call hung up, file closed and checked) -> complete
    archive (schedule or administrator)              -> archived   (FLAC in the archive area)
    retention limit reached                          -> deleted    (row kept, destruction audited)
    the file never appeared / vanished               -> missing

Completion never trusts an event: Asterisk emits MixMonitorStop only for an explicit stop, so a
recording is complete when its call has hung up *and* the file is closed. A closed file is one
whose WAV header Asterisk has finalised; a header left unfinished (Asterisk or the machine
died) is repaired from the file's size once the file has not changed for `settle_seconds`.
While the disk is nearly full nothing is marked complete: writes may have failed, and a
recording that ended then is flagged "partial" in the audit log and never completed.

Siblings: `recording_access` (search, playback, export: who may reach what),
`recording_upkeep` (sweep, archive, retention), `voicemails`.
"""

from __future__ import annotations

from callcenter.ports.stores import StoreConflict, Stores, Transactions

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol


from callcenter.ports.records import CallAttempt, Recording
from callcenter.domain.recording_rules import CallFacts, RecordingDecision, RecordingPolicy
from callcenter.domain.recordings import RecordingState
from callcenter.domain.roles import Role
from callcenter.storage.recordings import (
    HEADER_BYTES,
    DiskLevel,
    DiskStatus,
    RecordingStore,
    UnsafePathError,
    WavFormatError,
    WavInfo,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sessions = Transactions

OBJECT_TYPE = "recording"
# a voicemail is recorded by the IVR beside the call's own recording, under this part number
VOICEMAIL_PART = 9000
PLAYABLE_STATES = (RecordingState.COMPLETE, RecordingState.ARCHIVED)


class AuditAction(StrEnum):
    """Audit-log actions about recordings (object_type "recording", object_id its id)."""

    PLAY = "recording.play"
    DOWNLOAD = "recording.download"
    EXPORT = "recording.export"
    EXPORT_REFUSED = "recording.export_refused"
    DESTROYED = "recording.destroyed"
    DENIED = "recording.access_denied"
    NOT_FOUND = "recording.not_found"
    UNSAFE_PATH = "recording.unsafe_path"
    REPAIRED = "recording.repaired"
    MISSING = "recording.missing"
    PARTIAL = "recording.partial"
    LINKED = "recording.linked"
    ARCHIVED = "recording.archived"
    DISK_LOW = "recording.disk_low"
    VOICEMAIL = "voicemail.received"


class Viewer(Protocol):
    """The signed-in user (the API's CurrentUser fits)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Role: ...

    @property
    def operator_id(self) -> int | None: ...


class RecordingError(Exception):
    """Base of the recording use cases' errors (the API maps each to an HTTP status)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RecordingNotFound(RecordingError):
    """Unknown, malformed or unreachable id (404). Audited."""


class RecordingAccessDenied(RecordingError):
    """The recording exists but is not the viewer's, or the role is too low (403). Audited."""


class RecordingUnavailable(RecordingError):
    """Allowed, but there is nothing to play: still recording, missing or deleted (409/410)."""

    def __init__(self, message: str, state: RecordingState) -> None:
        super().__init__(message)
        self.state = state


class ExportLimitExceeded(RecordingError):
    """A bulk export would be larger than allowed (413)."""

    def __init__(self, limit_bytes: int, needed_bytes: int) -> None:
        super().__init__(
            f"the export would take about {_mib(needed_bytes)} MiB, over the limit of "
            f"{_mib(limit_bytes)} MiB: choose fewer recordings"
        )
        self.limit_bytes = limit_bytes
        self.needed_bytes = needed_bytes


class CompletionStatus(StrEnum):
    COMPLETE = "complete"
    EMPTY = "empty"  # a header and no audio: kept, never shown as a complete recording
    ALREADY_DONE = "already_done"  # not in the "recording" state any more
    PENDING = "pending"  # the file is still being written (or only just stopped)
    NO_FILE_YET = "no_file_yet"  # nothing on disk yet, within the grace period
    MISSING = "missing"  # nothing on disk after the grace period
    DISK_FULL = "disk_full"  # flagged partial: never completed
    UNREADABLE = "unreadable"  # not a WAV the store can read or repair (left for a person)


@dataclass(frozen=True, slots=True)
class CompletionOutcome:
    recording_id: uuid.UUID
    status: CompletionStatus
    duration_seconds: float | None = None
    repaired: bool = False


@dataclass(frozen=True, slots=True)
class RecordingAlert:
    kind: str  # "disk_low" | "disk_critical" | "disk_ok"
    message: str
    details: Mapping[str, Any]


AlertSink = Callable[[RecordingAlert], Awaitable[None]]


async def log_alert(alert: RecordingAlert) -> None:
    """The default alert sink: the log (the notify adapters can take over later)."""
    level = logging.INFO if alert.kind == "disk_ok" else logging.ERROR
    log.log(level, "%s %s", alert.message, dict(alert.details))


def utcnow() -> datetime:
    return datetime.now(UTC)


def _mib(size: int) -> int:
    return -(-size // (1024 * 1024))


class RecordingService:
    """The recordings' shared context (store, rules, clock, alerts) and the call hooks."""

    def __init__(
        self,
        sessions: Sessions,
        store: RecordingStore,
        *,
        policy: RecordingPolicy | None = None,
        clock: Clock = utcnow,
        alert: AlertSink = log_alert,
        settle_seconds: float = 5.0,
        missing_after_seconds: float = 120.0,
        completion_retry_seconds: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.policy = policy or RecordingPolicy()
        self._clock = clock
        self._alert = alert
        self.settle_seconds = settle_seconds
        self.missing_after_seconds = missing_after_seconds
        self.completion_retry_seconds = completion_retry_seconds
        self._last_disk_level = DiskLevel.OK

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return timezone-aware datetimes")
        return now

    # == hooks for the call-event service ===================================================

    async def decide(self, tx: Stores, call_id: uuid.UUID) -> RecordingDecision:
        """Whether the rules record this call (ask before starting MixMonitor)."""
        return self.policy.decide(await self.call_facts(tx, call_id))

    def recording_path(self, call_id: uuid.UUID, call_started_at: datetime, part: int = 0) -> str:
        """The absolute file name to give MixMonitor: <store>/YYYY/MM/DD/<call uuid>.wav."""
        return str(self.store.absolute_path_for(call_id, call_started_at, part=part))

    def voicemail_path(self, call_id: uuid.UUID, call_started_at: datetime) -> str:
        """The file name for the IVR's RECORD FILE (without ".wav", as AGI wants it)."""
        path = self.store.absolute_path_for(call_id, call_started_at, part=VOICEMAIL_PART)
        return str(path.with_suffix(""))

    async def register(
        self,
        tx: Stores,
        call_id: uuid.UUID,
        *,
        started_at: datetime | None = None,
        part: int = 0,
    ) -> Recording:
        """Record that Asterisk is recording this call (on MixMonitorStart, or at call start).

        Runs in the caller's transaction. Idempotent: a second call for the same file returns
        the same row. The file name comes from the call's id and start date, as
        `recording_path` gave it to MixMonitor. Raises LookupError for an unknown call.
        """
        call = await tx.calls.get(call_id)
        if call is None:
            raise LookupError(f"no call {call_id}")
        path = self.store.relative_path_for(call.id, call.started_at, part=part)
        existing = await tx.recordings.get_by_path(path)
        if existing is not None:
            return existing
        decision = self.policy.decide(await self.call_facts(tx, call.id))
        begun = started_at or call.started_at
        return await self.create_row(
            tx,
            path=path,
            started_at=begun,
            call_id=call.id,
            appeal_id=await tx.recordings.appeal_for_call(call.id),
            decision=decision,
        )

    async def register_call(
        self,
        tx: Stores,
        call_id: uuid.UUID,
        *,
        call_started_at: datetime,
        decision: RecordingDecision,
    ) -> Recording:
        """`register` for a call whose start the caller knows and whose rules it has applied
        (the call journal's commit hook, once per call): four statements, not nine, since it
        runs for every call. Idempotent like `register`."""
        return await self.create_row(
            tx,
            path=self.store.relative_path_for(call_id, call_started_at, part=0),
            started_at=call_started_at,
            call_id=call_id,
            appeal_id=await tx.recordings.appeal_for_call(call_id),
            decision=decision,
        )

    async def link_appeal(
        self, tx: Stores, call_id: uuid.UUID, appeal_id: uuid.UUID
    ) -> int:
        """Point the call's recordings at an appeal registered from it (caller's transaction)."""
        return await tx.recordings.link_appeal(call_id, appeal_id)

    async def on_call_hung_up(
        self, call_id: uuid.UUID, *, wait: bool = True
    ) -> list[CompletionOutcome]:
        """Complete the call's recordings; call it after the hang-up is committed.

        Asterisk closes the file a moment after the hang-up, so with `wait` this retries
        while a file is still settling (for `settle_seconds` plus a little); anything left
        after that is finished by the periodic sweep.
        """
        async with self.sessions() as tx:
            # the first attempt in the same session (usually the only one: Asterisk has
            # closed the file by the time the hang-up is committed)
            outcomes = [
                await self.complete_in(tx, rec)
                for rec in await tx.recordings.for_call(call_id)
                if rec.state is RecordingState.RECORDING
            ]
            await tx.commit()
        deadline = self.now() + timedelta(seconds=self.settle_seconds * 2 + 1)
        waiting = (CompletionStatus.PENDING, CompletionStatus.NO_FILE_YET)
        while wait and self.now() < deadline and any(o.status in waiting for o in outcomes):
            await asyncio.sleep(self.completion_retry_seconds)
            outcomes = [
                await self.complete(o.recording_id) if o.status in waiting else o for o in outcomes
            ]
        return outcomes

    async def complete(self, recording_id: uuid.UUID) -> CompletionOutcome:
        """One attempt to complete a recording (see the module's docstring for the rules)."""
        async with self.sessions() as tx:
            rec = await tx.recordings.get(recording_id)
            if rec is None:
                raise LookupError(f"no recording {recording_id}")
            if rec.state is not RecordingState.RECORDING:
                return CompletionOutcome(rec.id, CompletionStatus.ALREADY_DONE)
            outcome = await self.complete_in(tx, rec)
            await tx.commit()
            return outcome

    async def complete_in(
        self, tx: Stores, rec: Recording, *, settle_seconds: float | None = None
    ) -> CompletionOutcome:
        now = self.now()
        settle = self.settle_seconds if settle_seconds is None else settle_seconds
        if await self._flagged_partial(tx, rec.id):
            return CompletionOutcome(rec.id, CompletionStatus.DISK_FULL)
        disk = await self.check_disk(tx)
        if disk.level is DiskLevel.CRITICAL:
            await self.audit(
                tx,
                AuditAction.PARTIAL,
                rec.id,
                details={
                    "path": rec.path,
                    "free_bytes": disk.free_bytes,
                    "reason": "the disk was nearly full when the call ended: the file may "
                    "be incomplete, so it is never marked complete",
                },
            )
            return CompletionOutcome(rec.id, CompletionStatus.DISK_FULL)
        call = await tx.calls.get(rec.call_id) if rec.call_id else None
        try:
            state = await self.store.file_state(rec.path)
        except UnsafePathError:
            await self.audit(tx, AuditAction.UNSAFE_PATH, rec.id, details={"path": rec.path})
            rec.state = RecordingState.MISSING
            return CompletionOutcome(rec.id, CompletionStatus.MISSING)
        if state is None:
            since = (call.ended_at if call and call.ended_at else None) or rec.started_at
            if (now - since).total_seconds() < self.missing_after_seconds:
                return CompletionOutcome(rec.id, CompletionStatus.NO_FILE_YET)
            rec.state = RecordingState.MISSING
            rec.ended_at = call.ended_at if call else None
            await self.audit(
                tx, AuditAction.MISSING, rec.id, details={"path": rec.path, "at": "complete"}
            )
            return CompletionOutcome(rec.id, CompletionStatus.MISSING)
        settled = now.timestamp() - state.modified_at >= settle
        info: WavInfo | None
        try:
            info = await self.store.inspect_wav(rec.path)
        except WavFormatError:
            if state.size >= HEADER_BYTES:
                log.warning("recording %s: %s is not a readable WAV", rec.id, rec.path)
                return CompletionOutcome(rec.id, CompletionStatus.UNREADABLE)
            info = None  # header cut short: repaired below once the file has settled
        repaired, trimmed = False, 0
        if info is None or not info.header_final:
            if not settled:
                return CompletionOutcome(rec.id, CompletionStatus.PENDING)
            try:
                repair = await self.store.repair_wav(rec.path)
            except WavFormatError:
                log.warning("recording %s: %s cannot be repaired", rec.id, rec.path)
                return CompletionOutcome(rec.id, CompletionStatus.UNREADABLE)
            info, repaired, trimmed = repair.after, True, repair.trimmed_bytes
            await self.audit(
                tx,
                AuditAction.REPAIRED,
                rec.id,
                details={
                    "path": rec.path,
                    "declared_data_bytes": repair.before.declared_data_bytes
                    if repair.before
                    else None,
                    "data_bytes": repair.after.data_bytes,
                    "trimmed_bytes": trimmed,
                },
            )
        empty = info.data_bytes == 0
        rec.state = RecordingState.EMPTY if empty else RecordingState.COMPLETE
        rec.duration_seconds = round(info.duration_seconds, 3)
        rec.size_bytes = info.file_size
        rec.sha256 = await self.store.sha256(rec.path)
        rec.ended_at = (call.ended_at if call else None) or datetime.fromtimestamp(
            state.modified_at, UTC
        )
        if rec.appeal_id is None and rec.call_id is not None:
            rec.appeal_id = await tx.recordings.appeal_for_call(rec.call_id)
        await tx.flush()
        status = CompletionStatus.EMPTY if empty else CompletionStatus.COMPLETE
        return CompletionOutcome(rec.id, status, rec.duration_seconds, repaired)

    # == helpers ============================================================================

    async def disk_status(self) -> DiskStatus:
        async with self.sessions() as tx:
            status = await self.check_disk(tx)
            await tx.commit()
            return status

    async def check_disk(self, tx: Stores) -> DiskStatus:
        """Measure free space; alert (and audit) when the level changes."""
        status = await self.store.disk_status()
        if status.level is not self._last_disk_level:
            previous, self._last_disk_level = self._last_disk_level, status.level
            details = {
                "level": status.level.value,
                "previous": previous.value,
                "free_bytes": status.free_bytes,
                "total_bytes": status.total_bytes,
                "free_ratio": round(status.free_ratio, 4),
                "min_free_ratio": self.store.min_free_ratio,
                "min_free_bytes": self.store.min_free_bytes,
            }
            if status.level is DiskLevel.OK:
                alert = RecordingAlert("disk_ok", "recording disk has room again", details)
            elif status.level is DiskLevel.LOW:
                alert = RecordingAlert(
                    "disk_low",
                    "recording disk is running out of space: free some before it fills",
                    details,
                )
            else:
                alert = RecordingAlert(
                    "disk_critical",
                    "recording disk is nearly full: recordings ending now are not marked complete",
                    details,
                )
            await self.audit(tx, AuditAction.DISK_LOW, "", details=details)
            try:
                await self._alert(alert)
            except Exception:
                log.exception("the recording disk alert could not be delivered")
        return status

    async def _flagged_partial(self, tx: Stores, recording_id: uuid.UUID) -> bool:
        entries = await tx.audit.search(action=AuditAction.PARTIAL.value,
            object_type=OBJECT_TYPE,
            object_id=str(recording_id),
            limit=1,
        )
        return bool(entries)

    async def call_facts(self, tx: Stores, call_id: uuid.UUID) -> CallFacts:
        call = await tx.calls.get(call_id)
        if call is None:
            raise LookupError(f"no call {call_id}")
        campaign_id = None
        if call.campaign_attempt_id is not None:
            campaign_id = await tx.campaigns.campaign_of_attempt(call.campaign_attempt_id)
        return CallFacts(
            direction=call.direction, queue_name=call.queue_name, campaign_id=campaign_id
        )

    async def create_row(
        self,
        tx: Stores,
        *,
        path: str,
        started_at: datetime,
        call_id: uuid.UUID | None,
        appeal_id: uuid.UUID | None,
        decision: RecordingDecision,
    ) -> Recording:
        try:
            async with tx.savepoint():
                return await tx.recordings.create(path=path,
                    started_at=started_at,
                    call_id=call_id,
                    appeal_id=appeal_id,
                    delete_after=decision.delete_after(started_at),
                    rule_name=decision.rule_name,
                )
        except StoreConflict:
            # registered at the same moment by the sweep or a second event (unique path)
            existing = await tx.recordings.get_by_path(path)
            if existing is None:
                raise
            return existing

    async def viewer_line(self, tx: Stores, viewer: Viewer) -> int | None:
        if viewer.operator_id is None:
            return None
        operator = await tx.operators.get(viewer.operator_id)
        return operator.support_line if operator else None

    async def audit(
        self,
        tx: Stores,
        action: AuditAction,
        object_id: object,
        *,
        user_id: int | None = None,
        remote_addr: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        await tx.audit.append(action.value,
            at=self.now(),
            user_id=user_id,
            object_type=OBJECT_TYPE,
            object_id=str(object_id),
            details=details,
            remote_addr=remote_addr,
        )
