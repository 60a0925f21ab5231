"""Localities (towns and villages) of the service area."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Locality


async def get(session: AsyncSession, locality_id: int) -> Locality | None:
    return await session.get(Locality, locality_id)


async def get_by_name(session: AsyncSession, name: str) -> Locality | None:
    result = await session.scalars(select(Locality).where(Locality.name == name))
    return result.one_or_none()


async def list_all(session: AsyncSession) -> list[Locality]:
    return list(await session.scalars(select(Locality).order_by(Locality.name)))


async def create(
    session: AsyncSession, *, name: str, region: str, timezone: str = "Europe/Moscow"
) -> Locality:
    locality = Locality(name=name, region=region, timezone=timezone)
    session.add(locality)
    await session.flush()
    return locality
