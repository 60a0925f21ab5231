"""An operator's own call history (table 9, function 11): inbound, outbound, missed, unanswered.

What the call recorder must write for these to be right:
- inbound: one `call_legs` row (role operator, operator_id) per time an operator's phone
  rang, `answered_at` set when they picked up, `ended_at` when that leg ended; `calls`
  gets operator_id of the operator who took the call and disposition "answered" once an
  operator talked (the IVR answering the call sets `calls.answered_at`, so that column
  does not tell whether an operator answered);
- outbound: `calls.operator_id` is the dialling operator, disposition "answered" when the
  other side picked up.

Definitions:
- inbound:    an inbound call this operator answered;
- missed:     an inbound call that rang this operator (a leg of theirs that ended
              unanswered, or the call was theirs and was abandoned) and that they did not
              answer on another leg;
- outbound:   an outbound call this operator placed, answered or not;
- unanswered: such an outbound call that ended without the other side answering.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Call, CallLeg
from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import Direction, Disposition
from callcenter.ports.queries import HistoryEntry, HistoryKind


def _answered_by(operator_id: int) -> ColumnElement[bool]:
    answered_leg = exists().where(
        CallLeg.call_id == Call.id,
        CallLeg.operator_id == operator_id,
        CallLeg.answered_at.is_not(None),
    )
    return or_(
        answered_leg,
        and_(Call.operator_id == operator_id, Call.disposition == Disposition.ANSWERED),
    )


def _rang_unanswered(operator_id: int) -> ColumnElement[bool]:
    unanswered_leg = exists().where(
        CallLeg.call_id == Call.id,
        CallLeg.operator_id == operator_id,
        CallLeg.role == LegRole.OPERATOR,
        CallLeg.answered_at.is_(None),
        CallLeg.ended_at.is_not(None),
    )
    return or_(
        unanswered_leg,
        and_(Call.operator_id == operator_id, Call.disposition == Disposition.ABANDONED),
    )


def condition(kind: HistoryKind, operator_id: int) -> ColumnElement[bool]:
    inbound = Call.direction == Direction.INBOUND
    outbound = and_(Call.direction == Direction.OUTBOUND, Call.operator_id == operator_id)
    if kind is HistoryKind.INBOUND:
        return and_(inbound, _answered_by(operator_id))
    if kind is HistoryKind.MISSED:
        return and_(inbound, ~_answered_by(operator_id), _rang_unanswered(operator_id))
    if kind is HistoryKind.OUTBOUND:
        return outbound
    return and_(
        outbound,
        Call.disposition.not_in([Disposition.ANSWERED, Disposition.IN_PROGRESS]),
    )


def _statement(
    operator_id: int, kinds: tuple[HistoryKind, ...], since: datetime | None, until: datetime | None
) -> Select[Any]:
    stmt = select(Call).where(or_(*(condition(k, operator_id) for k in kinds)))
    if since is not None:
        stmt = stmt.where(Call.started_at >= since)
    if until is not None:
        stmt = stmt.where(Call.started_at < until)
    return stmt


def _classify(call: Call, answered: bool) -> HistoryKind:
    if call.direction is Direction.OUTBOUND:
        if call.disposition in (Disposition.ANSWERED, Disposition.IN_PROGRESS):
            return HistoryKind.OUTBOUND
        return HistoryKind.UNANSWERED
    return HistoryKind.INBOUND if answered else HistoryKind.MISSED


async def _history(
    session: AsyncSession,
    operator_id: int,
    kinds: tuple[HistoryKind, ...],
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
    offset: int,
) -> list[HistoryEntry]:
    answered = _answered_by(operator_id).label("answered")
    stmt = (
        _statement(operator_id, kinds, since, until)
        .add_columns(answered)
        .order_by(Call.started_at.desc(), Call.id)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = await session.execute(stmt)
    entries = []
    for call, was_answered in rows:
        kind = kinds[0] if len(kinds) == 1 else _classify(call, bool(was_answered))
        entries.append(HistoryEntry(call=call, kind=kind))
    return entries


async def history(
    session: AsyncSession,
    operator_id: int,
    *,
    kind: HistoryKind | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[HistoryEntry]:
    """The operator's calls of `kind` (all four kinds when None), newest first.

    Without a kind, an unanswered outbound call is listed once, as "unanswered".
    """
    kinds = (kind,) if kind is not None else tuple(HistoryKind)
    return await _history(
        session, operator_id, kinds, since=since, until=until, limit=limit, offset=offset
    )


async def received(
    session: AsyncSession, operator_id: int, *, since: datetime, until: datetime
) -> list[HistoryEntry]:
    """Inbound calls that reached the operator in [since, until): answered and missed."""
    return await _history(
        session,
        operator_id,
        (HistoryKind.INBOUND, HistoryKind.MISSED),
        since=since,
        until=until,
        limit=None,
        offset=0,
    )


async def involves(session: AsyncSession, operator_id: int, call_id: uuid.UUID) -> Call | None:
    """The call, when it is in the operator's history (of any kind); None otherwise."""
    stmt = _statement(operator_id, tuple(HistoryKind), None, None).where(Call.id == call_id)
    result = await session.scalars(stmt)
    return result.one_or_none()
