"""The current state of many operators at once (the monitoring board, table 9 function 15)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import OperatorStateHistory


async def current_states(
    session: AsyncSession, operator_ids: Collection[int]
) -> dict[int, OperatorStateHistory]:
    """operator id -> their open state row; operators with none are left out."""
    if not operator_ids:
        return {}
    stmt = (
        select(OperatorStateHistory)
        .where(
            OperatorStateHistory.operator_id.in_(list(operator_ids)),
            OperatorStateHistory.ended_at.is_(None),
        )
        .order_by(OperatorStateHistory.started_at, OperatorStateHistory.id)
    )
    # should there be several open rows, the latest wins (later rows overwrite earlier ones)
    return {row.operator_id: row for row in await session.scalars(stmt)}
