"""Voicemails left in the IVR: registration, the list for a support line, listened marks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Voicemail


async def create(
    session: AsyncSession,
    *,
    caller_number: str,
    created_at: datetime,
    call_id: uuid.UUID | None = None,
    appeal_id: uuid.UUID | None = None,
    recording_id: uuid.UUID | None = None,
    duration_seconds: float | None = None,
    support_line: int | None = None,
) -> Voicemail:
    voicemail = Voicemail(
        caller_number=caller_number,
        created_at=created_at,
        call_id=call_id,
        appeal_id=appeal_id,
        recording_id=recording_id,
        duration_seconds=duration_seconds,
        support_line=support_line,
    )
    session.add(voicemail)
    await session.flush()
    return voicemail


async def get(session: AsyncSession, voicemail_id: int) -> Voicemail | None:
    return await session.get(Voicemail, voicemail_id)


async def by_recording(session: AsyncSession, recording_id: uuid.UUID) -> Voicemail | None:
    stmt = select(Voicemail).where(Voicemail.recording_id == recording_id)
    return (await session.scalars(stmt)).first()


async def list_for_line(
    session: AsyncSession,
    support_line: int | None,
    *,
    unlistened_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[Voicemail]:
    """Voicemails for a line (None: every line, and those not assigned to one), newest first."""
    stmt = select(Voicemail)
    if support_line is not None:
        stmt = stmt.where(Voicemail.support_line == support_line)
    if unlistened_only:
        stmt = stmt.where(Voicemail.listened_at.is_(None))
    stmt = stmt.order_by(Voicemail.created_at.desc(), Voicemail.id.desc())
    return list(await session.scalars(stmt.limit(limit).offset(offset)))


async def mark_listened(session: AsyncSession, voicemail: Voicemail, at: datetime) -> None:
    """Record the first time anyone played it (later plays keep the first time)."""
    if voicemail.listened_at is None:
        voicemail.listened_at = at
        await session.flush()
