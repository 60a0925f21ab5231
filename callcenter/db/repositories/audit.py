"""The audit log: append-only record of who did what."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import AuditLogEntry


async def append(
    session: AsyncSession,
    action: str,
    *,
    at: datetime,
    user_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
    details: Mapping[str, Any] | None = None,
    remote_addr: str | None = None,
) -> AuditLogEntry:
    entry = AuditLogEntry(
        action=action,
        at=at,
        user_id=user_id,
        object_type=object_type,
        object_id=object_id,
        details=dict(details or {}),
        remote_addr=remote_addr,
    )
    session.add(entry)
    await session.flush()
    return entry


async def search(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    user_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = 100,
) -> list[AuditLogEntry]:
    """Entries matching every given criterion, newest first."""
    stmt = select(AuditLogEntry)
    if since is not None:
        stmt = stmt.where(AuditLogEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditLogEntry.at < until)
    if user_id is not None:
        stmt = stmt.where(AuditLogEntry.user_id == user_id)
    if action is not None:
        stmt = stmt.where(AuditLogEntry.action == action)
    if object_type is not None:
        stmt = stmt.where(AuditLogEntry.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditLogEntry.object_id == object_id)
    stmt = stmt.order_by(AuditLogEntry.at.desc(), AuditLogEntry.id.desc()).limit(limit)
    return list(await session.scalars(stmt))
