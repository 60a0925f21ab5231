"""Who may reach which recording, and handing it out: search, details, playback, export.

The rule (personal data, 152-FZ):
  - an administrator: every recording;
  - a supervisor: when their account is linked to an operator, the calls of that operator's
    support line (calls through the line's queues or taken by the line's operators) and the
    line's voicemails; a supervisor not linked to an operator supervises every line;
  - an operator: calls they took (the call's operator, or the operator of any of its legs, so
    a transferred call stays with both) and voicemails left for their line.

Recordings are addressed only by their opaque UUID. Every play, download and export is written
to `recording_access_log` and the audit log; refusals too (403), and unknown or malformed ids
(404) go to the audit log with what was asked for.
"""

from __future__ import annotations

from callcenter.ports.stores import Stores

import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn


from callcenter.ports.queries import RecordingFilter, RecordingListItem, RecordingScope
from callcenter.domain.recordings import RecordingAction, RecordingState
from callcenter.domain.roles import Role
from callcenter.domain import phones
from callcenter.recordings.registry import (
    PLAYABLE_STATES,
    AuditAction,
    ExportLimitExceeded,
    RecordingAccessDenied,
    RecordingNotFound,
    RecordingService,
    RecordingUnavailable,
    Viewer,
)
from callcenter.storage.recordings import (
    BYTES_PER_SECOND,
    HEADER_BYTES,
    ExportFormat,
    ExportTooLargeError,
    Readable,
    UnsafePathError,
    WavFormatError,
    ZipEntry,
)

log = logging.getLogger(__name__)

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ACCESS_AUDIT = {
    RecordingAction.PLAY: AuditAction.PLAY,
    RecordingAction.DOWNLOAD: AuditAction.DOWNLOAD,
    RecordingAction.EXPORT: AuditAction.EXPORT,
}


@dataclass(frozen=True, slots=True)
class AudioFile:
    """A recording ready to stream (open it through the store)."""

    item: RecordingListItem
    readable: Readable

    @property
    def file_name(self) -> str:
        return f"{self.item.started_at:%Y%m%d-%H%M%S}_{self.item.id}.{self.readable.extension}"


def number_variants(raw: str) -> tuple[str, ...]:
    """Every spelling a number may be stored in, for a search by phone.

    Raises phones.InvalidPhoneNumber for text that is no phone number.
    """
    e164 = phones.normalise(raw)
    if not e164.startswith("+7") or len(e164) != 12:
        return (e164,)
    national = e164[2:]
    return (e164, f"7{national}", f"8{national}", national)


def _estimated_wav_bytes(item: RecordingListItem) -> int:
    if item.duration_seconds is not None:
        return HEADER_BYTES + int(item.duration_seconds * BYTES_PER_SECOND)
    return item.size_bytes or 0


class RecordingAccess:
    def __init__(
        self, recordings: RecordingService, *, export_max_bytes: int = 256 * 1024 * 1024
    ) -> None:
        self._core = recordings
        self.store = recordings.store
        self.export_max_bytes = export_max_bytes

    async def search(
        self, viewer: Viewer, flt: RecordingFilter
    ) -> tuple[list[RecordingListItem], bool]:
        async with self._core.sessions() as tx:
            scope = await self.scope_for(tx, viewer)
            return await tx.recordings.search(flt, scope)

    async def scope_for(self, tx: Stores, viewer: Viewer) -> RecordingScope:
        """The recordings a user may reach (the rule is in the module's docstring)."""
        if viewer.role is Role.ADMINISTRATOR:
            return RecordingScope.all()
        line = await self._core.viewer_line(tx, viewer)
        if viewer.role is Role.SUPERVISOR:
            if line is None:
                return RecordingScope.all()
            return RecordingScope(support_line=line, voicemail_line=line)
        if viewer.operator_id is None:
            return RecordingScope()
        return RecordingScope(operator_id=viewer.operator_id, voicemail_line=line)

    async def get_item(
        self, viewer: Viewer, raw_id: str, *, remote_addr: str | None = None
    ) -> RecordingListItem:
        """A recording's details, if the viewer may reach it."""
        async with self._core.sessions() as tx:
            item = await self._authorise(tx, viewer, raw_id, remote_addr)
            await tx.commit()
            return item

    async def open_audio(
        self,
        viewer: Viewer,
        raw_id: str,
        *,
        action: RecordingAction = RecordingAction.PLAY,
        fmt: ExportFormat = ExportFormat.WAV,
        remote_addr: str | None = None,
    ) -> AudioFile:
        """Check access, log it, and hand back the recording's audio in `fmt`."""
        async with self._core.sessions() as tx:
            item = await self._authorise(tx, viewer, raw_id, remote_addr)
            self._require_playable(item)
            path = await self._stored_path(tx, item, viewer, remote_addr)
            readable = await self._readable(tx, item, path, fmt, viewer, remote_addr)
            await self._log_access(tx, item.id, action, viewer, remote_addr, fmt)
            if action is RecordingAction.PLAY:
                voicemail = await tx.voicemails.by_recording(item.id)
                if voicemail is not None:
                    await tx.voicemails.mark_listened(voicemail, self._core.now())
            await tx.commit()
            return AudioFile(item, readable)

    async def export_zip(
        self,
        viewer: Viewer,
        raw_ids: Sequence[str],
        *,
        fmt: ExportFormat = ExportFormat.WAV,
        remote_addr: str | None = None,
    ) -> Readable:
        """One zip of several recordings; all of them must be reachable and playable.

        Refused with ExportLimitExceeded before any work when the estimated size is over
        `export_max_bytes` (and again, exactly, while the zip is written).
        """
        unique = list(dict.fromkeys(raw_ids))
        async with self._core.sessions() as tx:
            items = [await self._authorise(tx, viewer, raw, remote_addr) for raw in unique]
            for item in items:
                self._require_playable(item)
            estimate = sum(_estimated_wav_bytes(i) for i in items)
            if estimate > self.export_max_bytes:
                await self._refuse_export(tx, viewer, remote_addr, items, estimate)
            entries = [
                ZipEntry(
                    await self._stored_path(tx, i, viewer, remote_addr),
                    f"{i.started_at:%Y%m%d-%H%M%S}_{i.id}",
                    fmt,
                )
                for i in items
            ]
            try:
                readable = await self.store.build_zip(entries, limit_bytes=self.export_max_bytes)
            except ExportTooLargeError as exc:
                await self._refuse_export(tx, viewer, remote_addr, items, exc.needed_bytes)
            except FileNotFoundError:
                raise RecordingUnavailable(
                    "a recording's file is missing from the store", RecordingState.MISSING
                ) from None
            for item in items:
                await self._log_access(
                    tx, item.id, RecordingAction.EXPORT, viewer, remote_addr
                )
            await tx.commit()
            return readable

    async def _refuse_export(
        self,
        tx: Stores,
        viewer: Viewer,
        remote_addr: str | None,
        items: Sequence[RecordingListItem],
        needed: int,
    ) -> NoReturn:
        await self._core.audit(
            tx,
            AuditAction.EXPORT_REFUSED,
            "",
            user_id=viewer.id,
            remote_addr=remote_addr,
            details={
                "recordings": len(items),
                "needed_bytes": needed,
                "limit_bytes": self.export_max_bytes,
            },
        )
        await tx.commit()
        raise ExportLimitExceeded(self.export_max_bytes, needed)

    async def _authorise(
        self, tx: Stores, viewer: Viewer, raw_id: str, remote_addr: str | None
    ) -> RecordingListItem:
        recording_id = _parse_id(raw_id)
        item = await tx.recordings.item(recording_id) if recording_id else None
        if item is None:
            await self._core.audit(
                tx,
                AuditAction.NOT_FOUND,
                raw_id[:64],
                user_id=viewer.id,
                remote_addr=remote_addr,
                details={
                    "requested": raw_id[:256],
                    "reason": "malformed id" if recording_id is None else "no such recording",
                },
            )
            await tx.commit()
            raise RecordingNotFound("no such recording")
        scope = await self.scope_for(tx, viewer)
        if not await tx.recordings.in_scope(item.id, scope):
            await tx.recordings.log_access(item.id,
                RecordingAction.DENIED,
                at=self._core.now(),
                user_id=viewer.id,
                remote_addr=remote_addr,
            )
            await self._core.audit(
                tx,
                AuditAction.DENIED,
                item.id,
                user_id=viewer.id,
                remote_addr=remote_addr,
                details={"role": viewer.role.value, "operator_id": viewer.operator_id},
            )
            await tx.commit()
            raise RecordingAccessDenied("this recording belongs to a call you may not reach")
        return item

    @staticmethod
    def _require_playable(item: RecordingListItem) -> None:
        if item.state in PLAYABLE_STATES:
            return
        reasons = {
            RecordingState.RECORDING: "the call is still being recorded",
            RecordingState.MISSING: "the recording's file is missing",
            RecordingState.EMPTY: "the call ended before anything was recorded",
            RecordingState.DELETED: "the recording was deleted at the end of its retention",
        }
        raise RecordingUnavailable(reasons.get(item.state, "not playable"), item.state)

    async def _stored_path(
        self,
        tx: Stores,
        item: RecordingListItem,
        viewer: Viewer,
        remote_addr: str | None,
    ) -> str:
        rec = await tx.recordings.get(item.id)
        path = rec.path if rec else ""
        try:
            self.store.resolve(path)
        except UnsafePathError:
            await self._unsafe(tx, item.id, path, viewer, remote_addr)
        return path

    async def _readable(
        self,
        tx: Stores,
        item: RecordingListItem,
        path: str,
        fmt: ExportFormat,
        viewer: Viewer,
        remote_addr: str | None,
    ) -> Readable:
        try:
            return await self.store.readable(path, fmt)
        except UnsafePathError:
            await self._unsafe(tx, item.id, path, viewer, remote_addr)
        except FileNotFoundError:
            raise RecordingUnavailable(
                "the recording's file is missing from the store", RecordingState.MISSING
            ) from None
        except WavFormatError as exc:
            raise RecordingUnavailable(str(exc), item.state) from None

    async def _unsafe(
        self,
        tx: Stores,
        recording_id: uuid.UUID,
        path: str,
        viewer: Viewer,
        remote_addr: str | None,
    ) -> NoReturn:
        # a row pointing outside the store is tampering: refuse as "not found", loudly
        log.error("recording %s has an unsafe path %r", recording_id, path[:200])
        await self._core.audit(
            tx,
            AuditAction.UNSAFE_PATH,
            recording_id,
            user_id=viewer.id,
            remote_addr=remote_addr,
            details={"path": path[:256]},
        )
        await tx.commit()
        raise RecordingNotFound("no such recording")

    async def _log_access(
        self,
        tx: Stores,
        recording_id: uuid.UUID,
        action: RecordingAction,
        viewer: Viewer,
        remote_addr: str | None,
        fmt: ExportFormat | None = None,
    ) -> None:
        now = self._core.now()
        await tx.recordings.log_access(recording_id, action, at=now, user_id=viewer.id, remote_addr=remote_addr
        )
        details = {"format": fmt.value} if fmt else {}
        await self._core.audit(
            tx,
            _ACCESS_AUDIT[action],
            recording_id,
            user_id=viewer.id,
            remote_addr=remote_addr,
            details=details,
        )


def _parse_id(raw: str) -> uuid.UUID | None:
    """Only the canonical lower-case form is an id: anything else never reaches the database."""
    text = raw.strip().lower()
    if not _CANONICAL_UUID.fullmatch(text):
        return None
    return uuid.UUID(text)
