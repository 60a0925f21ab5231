"""Appeal lists for the workstation: filters, the viewer's visibility scope, overdue ones.

An appeal's line is its owner's (the operator it is assigned to); unassigned appeals
belong to no line and every scope includes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Appeal, Operator
from callcenter.domain.appeals import AppealStatus
from callcenter.domain.deadlines import FINISHED_STATUSES
from callcenter.ports.queries import AppealFilter, AppealScope


def _scoped(stmt: Select[Any], scope: AppealScope) -> Select[Any]:
    if scope.lines is None:
        return stmt
    visible: list[ColumnElement[bool]] = [
        Appeal.operator_id.is_(None),
        Operator.support_line.in_(list(scope.lines)),
    ]
    if scope.operator_id is not None:
        visible.append(Appeal.operator_id == scope.operator_id)
    return stmt.outerjoin(Operator, Operator.id == Appeal.operator_id).where(or_(*visible))


def _filtered(stmt: Select[Any], flt: AppealFilter) -> Select[Any]:
    if flt.status is not None:
        stmt = stmt.where(Appeal.status == flt.status)
    if flt.kind is not None:
        stmt = stmt.where(Appeal.kind == flt.kind)
    if flt.topic_id is not None:
        stmt = stmt.where(Appeal.topic_id == flt.topic_id)
    if flt.customer_id is not None:
        stmt = stmt.where(Appeal.customer_id == flt.customer_id)
    if flt.owner_operator_id is not None:
        stmt = stmt.where(Appeal.operator_id == flt.owner_operator_id)
    if flt.number is not None:
        stmt = stmt.where(Appeal.number == flt.number)
    if flt.open_only:
        stmt = stmt.where(Appeal.status.not_in(FINISHED_STATUSES))
    if flt.since is not None:
        stmt = stmt.where(Appeal.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Appeal.created_at < flt.until)
    return stmt


async def search(session: AsyncSession, scope: AppealScope, flt: AppealFilter) -> list[Appeal]:
    """Visible appeals matching `flt`, newest first."""
    stmt = _filtered(_scoped(select(Appeal), scope), flt)
    # numbers rise within a day: they break ties between appeals registered at one moment
    stmt = stmt.order_by(Appeal.created_at.desc(), Appeal.number.desc())
    stmt = stmt.limit(flt.limit).offset(flt.offset)
    return list(await session.scalars(stmt))


async def count(session: AsyncSession, scope: AppealScope, flt: AppealFilter) -> int:
    stmt = _filtered(_scoped(select(func.count(Appeal.id)), scope), flt).select_from(Appeal)
    return await session.scalar(stmt) or 0


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Open appeals past a deadline: the hand-off one while still registered, or the answer
    one (the extended deadline once extended). Same rule as domain.deadlines.overdue_stages."""
    answer_deadline = func.coalesce(Appeal.extended_until, Appeal.answer_due_at)
    return and_(
        Appeal.status.not_in(FINISHED_STATUSES),
        or_(
            and_(Appeal.status == AppealStatus.REGISTERED, Appeal.handoff_due_at < now),
            answer_deadline < now,
        ),
    )


def _first_deadline() -> ColumnElement[datetime]:
    """The appeal's earliest deadline still in force: the hand-off one while registered."""
    return case(
        (
            and_(Appeal.status == AppealStatus.REGISTERED, Appeal.handoff_due_at.is_not(None)),
            Appeal.handoff_due_at,
        ),
        else_=func.coalesce(Appeal.extended_until, Appeal.answer_due_at),
    )


async def overdue(
    session: AsyncSession, scope: AppealScope, now: datetime, *, limit: int = 200
) -> list[Appeal]:
    """Visible overdue appeals, the longest overdue first."""
    stmt = (
        _scoped(select(Appeal), scope)
        .where(overdue_condition(now))
        .order_by(_first_deadline(), Appeal.number)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def owner_line(session: AsyncSession, appeal: Appeal) -> int | None:
    if appeal.operator_id is None:
        return None
    line: int | None = await session.scalar(
        select(Operator.support_line).where(Operator.id == appeal.operator_id)
    )
    return line
