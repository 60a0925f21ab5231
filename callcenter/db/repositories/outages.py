"""Power outages: what the IVR tells a caller about their locality."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Outage
from callcenter.domain.outages import OutageKind


async def for_locality(
    session: AsyncSession, locality_id: int, *, at: datetime, horizon: timedelta = timedelta(days=7)
) -> list[Outage]:
    """Outages going on at `at` or starting within `horizon` after it, soonest first."""
    stmt = (
        select(Outage)
        .where(
            Outage.locality_id == locality_id,
            Outage.starts_at < at + horizon,
            or_(Outage.ends_at.is_(None), Outage.ends_at > at),
        )
        .order_by(Outage.starts_at, Outage.id)
    )
    return list(await session.scalars(stmt))


async def add(
    session: AsyncSession,
    *,
    locality_id: int,
    kind: OutageKind,
    starts_at: datetime,
    ends_at: datetime | None = None,
    reason: str = "",
    description_ru: str = "",
) -> Outage:
    outage = Outage(
        locality_id=locality_id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        description_ru=description_ru,
    )
    session.add(outage)
    await session.flush()
    return outage
