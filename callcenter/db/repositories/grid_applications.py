"""Grid-connection applications: status lookup by the number the caller keys in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import GridApplication


async def by_number(session: AsyncSession, number: str) -> GridApplication | None:
    result = await session.scalars(select(GridApplication).where(GridApplication.number == number))
    return result.one_or_none()
