"""Operators and the history of their workstation states."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Operator, OperatorStateHistory
from callcenter.domain.agents import OperatorState


async def get(session: AsyncSession, operator_id: int) -> Operator | None:
    return await session.get(Operator, operator_id)


async def get_by_extension(session: AsyncSession, extension: str) -> Operator | None:
    result = await session.scalars(select(Operator).where(Operator.extension == extension))
    return result.one_or_none()


async def list_all(
    session: AsyncSession, *, support_lines: Sequence[int] | None = None, active_only: bool = True
) -> list[Operator]:
    stmt = select(Operator).order_by(Operator.extension)
    if support_lines is not None:
        stmt = stmt.where(Operator.support_line.in_(support_lines))
    if active_only:
        stmt = stmt.where(Operator.is_active.is_(True))
    return list(await session.scalars(stmt))


async def create(
    session: AsyncSession,
    *,
    extension: str,
    full_name: str,
    support_line: int,
    skills: Mapping[str, int] | None = None,
    interface: str | None = None,
) -> Operator:
    operator = Operator(
        extension=extension,
        full_name=full_name,
        support_line=support_line,
        skills=dict(skills or {}),
        interface=interface or f"PJSIP/{extension}",
    )
    session.add(operator)
    await session.flush()
    return operator


async def current_state(session: AsyncSession, operator_id: int) -> OperatorStateHistory | None:
    result = await session.scalars(
        select(OperatorStateHistory)
        .where(
            OperatorStateHistory.operator_id == operator_id,
            OperatorStateHistory.ended_at.is_(None),
        )
        .order_by(OperatorStateHistory.started_at.desc(), OperatorStateHistory.id.desc())
        .limit(1)
    )
    return result.first()


async def set_state(
    session: AsyncSession,
    operator_id: int,
    state: OperatorState,
    *,
    at: datetime,
    pause_reason: str | None = None,
) -> OperatorStateHistory:
    """Close the operator's open state (if any) at `at` and open `state` from `at`."""
    open_rows = await session.scalars(
        select(OperatorStateHistory).where(
            OperatorStateHistory.operator_id == operator_id,
            OperatorStateHistory.ended_at.is_(None),
        )
    )
    for row in open_rows:
        row.ended_at = at
    entry = OperatorStateHistory(
        operator_id=operator_id, state=state, pause_reason=pause_reason, started_at=at
    )
    session.add(entry)
    await session.flush()
    return entry


async def state_history(
    session: AsyncSession, operator_id: int, *, since: datetime, until: datetime
) -> list[OperatorStateHistory]:
    """States that overlap [since, until), oldest first."""
    stmt = (
        select(OperatorStateHistory)
        .where(
            OperatorStateHistory.operator_id == operator_id,
            OperatorStateHistory.started_at < until,
            (OperatorStateHistory.ended_at.is_(None)) | (OperatorStateHistory.ended_at > since),
        )
        .order_by(OperatorStateHistory.started_at, OperatorStateHistory.id)
    )
    return list(await session.scalars(stmt))


async def interfaces(session: AsyncSession) -> list[tuple[int, str]]:
    """Every operator's id and Asterisk member interface (for mapping PBX events)."""
    rows = (await session.execute(select(Operator.id, Operator.interface))).all()
    return [(op_id, iface) for op_id, iface in rows]
