"""Voicemail: a message a caller leaves in the IVR becomes a recording, a voicemail and an
appeal; operators list the voicemails of their line and play them through the recordings API.
"""

from __future__ import annotations

from collections.abc import Sequence

from callcenter.ports.stores import StoreConflict, Stores

import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo


from callcenter.ports.records import Appeal, Call, Recording, Voicemail
from callcenter.domain import deadlines
from callcenter.domain.appeals import AppealChannel, AppealKind
from callcenter.domain.recordings import RecordingState
from callcenter.domain.roles import Role
from callcenter.domain import phones
from callcenter.recordings.registry import (
    VOICEMAIL_PART,
    AuditAction,
    CompletionStatus,
    RecordingService,
    Viewer,
)

# appeal numbers carry the local date the customer sees, as the appeals service does
DEFAULT_TIMEZONE = ZoneInfo("Europe/Moscow")
_NUMBER_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class VoicemailSaved:
    voicemail_id: int
    recording_id: uuid.UUID
    appeal_id: uuid.UUID
    appeal_number: str
    duration_seconds: float


class VoicemailService:
    def __init__(
        self, recordings: RecordingService, *, local_tz: tzinfo = DEFAULT_TIMEZONE
    ) -> None:
        self._core = recordings
        self._local_tz = local_tz

    async def save_voicemail(
        self,
        call_id: uuid.UUID,
        *,
        caller_number: str,
        support_line: int | None,
        recorded_at: datetime,
    ) -> VoicemailSaved | None:
        """Turn the message the IVR recorded at `voicemail_path` into a voicemail and an appeal.

        Returns None when there is no message (no file, or no audio in it). Call it after the
        IVR's RECORD FILE returned (the file is closed then).
        """
        async with self._core.sessions() as tx:
            call = await tx.calls.get(call_id)
            if call is None:
                raise LookupError(f"no call {call_id}")
            path = self._core.store.relative_path_for(call.id, call.started_at, part=VOICEMAIL_PART)
            rec = await tx.recordings.get_by_path(path)
            if rec is None:
                decision = self._core.policy.decide(await self._core.call_facts(tx, call.id))
                rec = await self._core.create_row(
                    tx,
                    path=path,
                    started_at=recorded_at,
                    call_id=call.id,
                    appeal_id=None,
                    decision=decision,
                )
            if rec.state is RecordingState.RECORDING:
                # the IVR has closed the file: no need to wait for it to settle
                outcome = await self._core.complete_in(tx, rec, settle_seconds=0.0)
                if outcome.status is not CompletionStatus.COMPLETE:
                    await tx.rollback()
                    return None
            existing = await tx.voicemails.by_recording(rec.id)
            if existing is not None and existing.appeal_id is not None:
                appeal = await tx.appeals.get(existing.appeal_id)
                await tx.commit()
                return VoicemailSaved(
                    existing.id,
                    rec.id,
                    existing.appeal_id,
                    appeal.number if appeal else "",
                    rec.duration_seconds or 0.0,
                )
            if not rec.duration_seconds:
                await tx.rollback()
                return None
            number = phones.normalise_or_keep(caller_number)
            appeal = await self._register_appeal(tx, call, number, recorded_at, rec)
            rec.appeal_id = appeal.id
            voicemail = await tx.voicemails.create(caller_number=number,
                created_at=recorded_at,
                call_id=call.id,
                appeal_id=appeal.id,
                recording_id=rec.id,
                duration_seconds=rec.duration_seconds,
                support_line=support_line,
            )
            await self._core.audit(
                tx,
                AuditAction.VOICEMAIL,
                rec.id,
                details={"voicemail_id": voicemail.id, "appeal": appeal.number},
            )
            await tx.commit()
            return VoicemailSaved(
                voicemail.id, rec.id, appeal.id, appeal.number, rec.duration_seconds
            )

    async def _register_appeal(
        self,
        tx: Stores,
        call: Call,
        number: str,
        at: datetime,
        rec: Recording,
    ) -> Appeal:
        minutes, seconds = divmod(round(rec.duration_seconds or 0), 60)
        due = deadlines.initial_deadlines(AppealKind.QUESTION, at)
        for _attempt in range(_NUMBER_ATTEMPTS):
            day = at.astimezone(self._local_tz).date()
            appeal_number = await tx.appeals.next_number(day)
            try:
                async with tx.savepoint():
                    return await tx.appeals.create(number=appeal_number,
                        channel=AppealChannel.IVR_VOICEMAIL,
                        created_at=at,
                        text=f"Голосовое сообщение от {number}, {minutes} мин {seconds} с",
                        customer_id=call.customer_id,
                        call_id=call.id,
                        handoff_due_at=due.handoff_due_at,
                        answer_due_at=due.answer_due_at,
                    )
            except StoreConflict:
                continue  # another appeal took the number: take the next one
        raise RuntimeError("could not allocate an appeal number for a voicemail")

    async def voicemails(
        self, viewer: Viewer, *, unlistened_only: bool = False, limit: int = 50, offset: int = 0
    ) -> Sequence[Voicemail]:
        """Voicemails for the viewer's line (supervisors not tied to a line and admins: all)."""
        async with self._core.sessions() as tx:
            line = await self._core.viewer_line(tx, viewer)
            if viewer.role is Role.OPERATOR and line is None:
                return []
            return await tx.voicemails.list_for_line(line if viewer.role is not Role.ADMINISTRATOR else None,
                unlistened_only=unlistened_only,
                limit=limit,
                offset=offset,
            )
