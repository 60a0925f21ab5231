"""Keeping the recording store and the database in step: sweep, archive, retention.

- sweep: files without a row are linked to their calls by the UUID in their name (or kept
  without a call); rows whose file is gone become "missing"; recordings whose call has ended
  are completed; files left behind by an interrupted archive or deletion are removed.
- archive: on a schedule (each rule's archive age) and on an administrator's command, a
  complete recording is compressed to FLAC into the archive area; it stays searchable and
  playable.
- retention: a recording past its rule's retention is deleted; the destruction record (what,
  when, which rule) goes to the audit log and the row stays in the "deleted" state.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from callcenter.domain.recording_rules import due_for_archiving
from callcenter.domain.recordings import RecordingAction, RecordingState
from callcenter.domain.roles import Role
from callcenter.recordings.registry import (
    PLAYABLE_STATES,
    AuditAction,
    CompletionStatus,
    RecordingAccessDenied,
    RecordingService,
    Viewer,
)
from callcenter.storage.recordings import DiskStatus, StoredFile, UnsafePathError

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SweepReport:
    disk: DiskStatus | None = None
    linked_to_calls: int = 0
    without_call: int = 0
    completed: int = 0
    marked_missing: int = 0
    leftovers_removed: int = 0
    cache_files_removed: int = 0


@dataclass(slots=True)
class ArchiveReport:
    archived: list[uuid.UUID] = field(default_factory=list)
    skipped: list[uuid.UUID] = field(default_factory=list)  # not complete (yet)
    failed: list[uuid.UUID] = field(default_factory=list)


@dataclass(slots=True)
class RetentionReport:
    deleted: list[uuid.UUID] = field(default_factory=list)
    files_removed: int = 0


class RecordingUpkeep:
    def __init__(
        self,
        recordings: RecordingService,
        *,
        batch_size: int = 200,
        cache_max_age_seconds: float = 3600.0,
    ) -> None:
        self._core = recordings
        self.store = recordings.store
        self.batch_size = batch_size
        self.cache_max_age_seconds = cache_max_age_seconds

    async def sweep(self) -> SweepReport:
        """Reconcile the store with the database.

        Files without a row are linked to their calls by the UUID in their name (or kept
        without a call); rows whose file is gone become "missing"; recordings whose call has
        ended are completed; files left behind by an interrupted archive or deletion are
        removed; stale cache files are pruned.
        """
        report = SweepReport()
        async with self._core.sessions() as tx:
            report.disk = await self._core.check_disk(tx)
            await tx.commit()
        files = await self.store.scan()
        async with self._core.sessions() as tx:
            known = await tx.recordings.known_paths()
        on_disk = {f.relative_path for f in files}
        for stored in files:
            await self._reconcile_file(stored, known, report)
        for path, (rid, state) in known.items():
            if state in PLAYABLE_STATES and path not in on_disk:
                await self._mark_missing(rid, path, state, report)
        async with self._core.sessions() as tx:
            waiting = await tx.recordings.awaiting_completion(limit=self.batch_size)
        for rec, _ended in waiting:
            outcome = await self._core.complete(rec.id)
            if outcome.status is CompletionStatus.COMPLETE:
                report.completed += 1
            elif outcome.status is CompletionStatus.MISSING:
                report.marked_missing += 1
        report.cache_files_removed = await self.store.prune_cache(self.cache_max_age_seconds)
        return report

    async def _reconcile_file(
        self,
        stored: StoredFile,
        known: Mapping[str, tuple[uuid.UUID, RecordingState]],
        report: SweepReport,
    ) -> None:
        row = known.get(stored.relative_path)
        if row is not None:
            rid, state = row
            if state is RecordingState.DELETED:
                # the deletion was recorded but the file outlived it: finish the job
                if await self.store.delete(stored.relative_path):
                    report.leftovers_removed += 1
            elif state is RecordingState.MISSING:
                await self._revive(rid, report)
            return
        if not stored.archived:
            stem = stored.relative_path.rsplit(".", 1)[0]
            for twin in (f"archive/{stem}.flac", f"archive/{stem}.wav"):
                twin_row = known.get(twin)
                if twin_row is not None and twin_row[1] in (
                    RecordingState.ARCHIVED,
                    RecordingState.DELETED,
                ):
                    # the archive copy is in the database: this is the original it replaced
                    if await self.store.delete(stored.relative_path):
                        report.leftovers_removed += 1
                    return
        await self._adopt(stored, report)

    async def _revive(self, recording_id: uuid.UUID, report: SweepReport) -> None:
        """A "missing" recording's file is back (restored from a backup): complete it again."""
        async with self._core.sessions() as tx:
            rec = await tx.recordings.get(recording_id)
            if rec is None or rec.state is not RecordingState.MISSING:
                return
            if self.store.is_archived_path(rec.path):
                rec.state = RecordingState.ARCHIVED
                await tx.commit()
                return
            rec.state = RecordingState.RECORDING
            outcome = await self._core.complete_in(tx, rec)
            if outcome.status not in (CompletionStatus.COMPLETE, CompletionStatus.EMPTY):
                rec.state = RecordingState.MISSING
            else:
                report.completed += 1
            await tx.commit()

    async def _adopt(self, stored: StoredFile, report: SweepReport) -> None:
        """Give a file found without a row its recording, linked to its call if there is one."""
        async with self._core.sessions() as tx:
            call = await tx.calls.get(uuid.UUID(stored.call_ref))
            if call is None:
                call = await tx.calls.get_by_linkedid(stored.call_ref)
            if call is not None:
                decision = self._core.policy.decide(await self._core.call_facts(tx, call.id))
                started_at = call.started_at
            else:
                decision = self._core.policy.for_rule(None)
                started_at = datetime.fromtimestamp(stored.modified_at, UTC)
            rec = await self._core.create_row(
                tx,
                path=stored.relative_path,
                started_at=started_at,
                call_id=call.id if call else None,
                appeal_id=await tx.recordings.appeal_for_call(call.id) if call else None,
                decision=decision,
            )
            await self._core.audit(
                tx,
                AuditAction.LINKED,
                rec.id,
                details={
                    "path": stored.relative_path,
                    "call_id": str(call.id) if call else None,
                    "reason": "file found without a recording row",
                },
            )
            if call is not None:
                report.linked_to_calls += 1
            else:
                report.without_call += 1
            if stored.archived:
                rec.state = RecordingState.ARCHIVED
                rec.archived_at = datetime.fromtimestamp(stored.modified_at, UTC)
                rec.size_bytes = stored.size
                rec.duration_seconds = await self.store.audio_duration(stored.relative_path)
            elif call is None or call.ended_at is not None:
                outcome = await self._core.complete_in(tx, rec)
                if outcome.status is CompletionStatus.COMPLETE:
                    report.completed += 1
            await tx.commit()

    async def _mark_missing(
        self,
        recording_id: uuid.UUID,
        path: str,
        state: RecordingState,
        report: SweepReport,
    ) -> None:
        async with self._core.sessions() as tx:
            rec = await tx.recordings.get_for_update(recording_id)
            # changed since the scan (archived, deleted, moved): not ours to judge now
            if rec is None or rec.state is not state or rec.path != path:
                return
            try:
                if await self.store.file_state(path) is not None:
                    return
            except UnsafePathError:
                pass
            rec.state = RecordingState.MISSING
            await self._core.audit(
                tx, AuditAction.MISSING, rec.id, details={"path": path, "was": state.value}
            )
            await tx.commit()
            report.marked_missing += 1

    async def archive_due(self) -> ArchiveReport:
        """The scheduled archive: complete recordings older than their rule's archive age."""
        now = self._core.now()
        cutoff = now - timedelta(days=self._core.policy.shortest_archive_after_days())
        async with self._core.sessions() as tx:
            rows = await tx.recordings.due_for_archiving(started_before=cutoff, limit=self.batch_size
            )
        due = [
            r.id
            for r in rows
            if due_for_archiving(self._core.policy.for_rule(r.rule_name), r.started_at, now)
        ]
        return await self._archive_ids(due, actor=None, remote_addr=None)

    async def archive(
        self,
        viewer: Viewer,
        *,
        ids: Sequence[uuid.UUID] | None = None,
        older_than_days: int | None = None,
        remote_addr: str | None = None,
    ) -> ArchiveReport:
        """An administrator's archive command: given recordings, or all complete ones older
        than `older_than_days` (at most `batch_size` per command)."""
        if viewer.role is not Role.ADMINISTRATOR:
            raise RecordingAccessDenied("archiving needs the administrator role")
        if ids is None:
            days = older_than_days if older_than_days is not None else 0
            async with self._core.sessions() as tx:
                rows = await tx.recordings.due_for_archiving(started_before=self._core.now() - timedelta(days=days),
                    limit=self.batch_size,
                )
            ids = [r.id for r in rows]
        return await self._archive_ids(list(ids), actor=viewer, remote_addr=remote_addr)

    async def _archive_ids(
        self,
        ids: Sequence[uuid.UUID],
        *,
        actor: Viewer | None,
        remote_addr: str | None,
    ) -> ArchiveReport:
        report = ArchiveReport()
        for rid in ids:
            try:
                done = await self._archive_one(rid, actor, remote_addr)
            except Exception:
                log.exception("archiving recording %s failed", rid)
                report.failed.append(rid)
                continue
            (report.archived if done else report.skipped).append(rid)
        return report

    async def _archive_one(
        self, recording_id: uuid.UUID, actor: Viewer | None, remote_addr: str | None
    ) -> bool:
        async with self._core.sessions() as tx:
            rec = await tx.recordings.get_for_update(recording_id)
            if rec is None or rec.state is not RecordingState.COMPLETE:
                return False
            original, original_size = rec.path, rec.size_bytes
            archived = await self.store.archive(original)
            rec.path = archived.relative_path
            rec.state = RecordingState.ARCHIVED
            rec.archived_at = self._core.now()
            rec.size_bytes = archived.size_bytes
            await self._core.audit(
                tx,
                AuditAction.ARCHIVED,
                rec.id,
                user_id=actor.id if actor else None,
                remote_addr=remote_addr,
                details={
                    "from": original,
                    "to": archived.relative_path,
                    "codec": "flac" if archived.compressed else "wav",
                    "size_before": original_size,
                    "size_after": archived.size_bytes,
                    "by": "administrator" if actor else "schedule",
                },
            )
            await tx.commit()
        # only now that the database points at the copy may the original go
        await self.store.delete(original)
        return True

    async def run_retention(
        self, viewer: Viewer | None = None, *, remote_addr: str | None = None
    ) -> RetentionReport:
        """Delete every recording past its retention limit, each with a destruction record.

        The record (audit action "recording.destroyed") says what was destroyed (recording,
        call, file, checksum), when, and by which rule and retention period; the row itself
        stays in the "deleted" state. The file is removed after the record is committed, so a
        crash in between leaves a file the sweep removes, never a deletion without a record.
        """
        if viewer is not None and viewer.role is not Role.ADMINISTRATOR:
            raise RecordingAccessDenied("running retention needs the administrator role")
        report = RetentionReport()
        while True:
            now = self._core.now()
            async with self._core.sessions() as tx:
                due = await tx.recordings.due_for_deletion(now=now, limit=self.batch_size
                )
            if not due:
                return report
            progress = False
            for rec in due:
                path = await self._destroy(rec.id, viewer, remote_addr)
                if path is None:
                    continue
                progress = True
                report.deleted.append(rec.id)
                if await self._delete_file(path):
                    report.files_removed += 1
            if not progress:
                return report

    async def _destroy(
        self, recording_id: uuid.UUID, viewer: Viewer | None, remote_addr: str | None
    ) -> str | None:
        async with self._core.sessions() as tx:
            now = self._core.now()
            rec = await tx.recordings.get_for_update(recording_id)
            if (
                rec is None
                or rec.delete_after is None
                or rec.delete_after > now
                or rec.state
                not in (*PLAYABLE_STATES, RecordingState.MISSING, RecordingState.EMPTY)
            ):
                return None
            rule = self._core.policy.for_rule(rec.rule_name)
            state_before = rec.state
            rec.state = RecordingState.DELETED
            await tx.recordings.log_access(rec.id,
                RecordingAction.DELETE,
                at=now,
                user_id=viewer.id if viewer else None,
                remote_addr=remote_addr,
            )
            await self._core.audit(
                tx,
                AuditAction.DESTROYED,
                rec.id,
                user_id=viewer.id if viewer else None,
                remote_addr=remote_addr,
                details={
                    "reason": "retention",
                    "rule": rec.rule_name or rule.rule_name,
                    "retention_days": rule.retention_days,
                    "delete_after": rec.delete_after.isoformat(),
                    "destroyed_at": now.isoformat(),
                    "call_id": str(rec.call_id) if rec.call_id else None,
                    "appeal_id": str(rec.appeal_id) if rec.appeal_id else None,
                    "path": rec.path,
                    "started_at": rec.started_at.isoformat(),
                    "duration_seconds": rec.duration_seconds,
                    "size_bytes": rec.size_bytes,
                    "sha256": rec.sha256,
                    "state_before": state_before.value,
                    "by": "administrator" if viewer else "schedule",
                },
            )
            await tx.commit()
            return rec.path

    async def _delete_file(self, path: str) -> bool:
        try:
            return await self.store.delete(path)
        except (OSError, UnsafePathError):
            log.exception("could not delete recording file %r (the sweep retries)", path)
            return False

    async def run_maintenance(self, *, interval_seconds: float, stop: asyncio.Event) -> None:
        """Sweep, scheduled archive and retention every `interval_seconds` until `stop` is set.

        Each step's failure is logged and the loop goes on: a database hiccup must not stop
        the housekeeping for good.
        """
        while not stop.is_set():
            for step in (self.sweep, self.archive_due, self.run_retention):
                try:
                    await step()
                except Exception:
                    log.exception("recording maintenance step %s failed", step.__name__)
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
            except TimeoutError:
                continue
