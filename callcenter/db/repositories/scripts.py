"""Call scripts (question trees the operator walks with a caller)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import CallScript


async def get(session: AsyncSession, script_id: int) -> CallScript | None:
    return await session.get(CallScript, script_id)


async def get_by_name(session: AsyncSession, name: str) -> CallScript | None:
    result = await session.scalars(select(CallScript).where(CallScript.name == name))
    return result.one_or_none()


async def list_all(session: AsyncSession) -> list[CallScript]:
    return list(await session.scalars(select(CallScript).order_by(CallScript.name)))


async def create(
    session: AsyncSession, *, name: str, tree: Mapping[str, Any], updated_at: datetime
) -> CallScript:
    script = CallScript(name=name, tree=dict(tree), updated_at=updated_at)
    session.add(script)
    await session.flush()
    return script


async def update(
    session: AsyncSession,
    script: CallScript,
    *,
    updated_at: datetime,
    name: str | None = None,
    tree: Mapping[str, Any] | None = None,
) -> CallScript:
    if name is not None:
        script.name = name
    if tree is not None:
        script.tree = dict(tree)
    script.updated_at = updated_at
    await session.flush()
    return script
