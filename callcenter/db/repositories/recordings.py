"""Recordings: rows of the recording store, search with filters and access scopes, access log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, false, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import (
    Appeal,
    Call,
    CallLeg,
    Operator,
    Queue,
    Recording,
    RecordingAccessLog,
    Voicemail,
)
from callcenter.domain.recordings import RecordingAction, RecordingState
from callcenter.ports.queries import RecordingFilter, RecordingListItem, RecordingScope

# a query over any number of columns
AnySelect = Select[*tuple[Any, ...]]

_LIST_COLUMNS: tuple[Any, ...] = (
    Recording.id,
    Recording.call_id,
    Recording.appeal_id,
    Recording.started_at,
    Recording.ended_at,
    Recording.duration_seconds,
    Recording.size_bytes,
    Recording.state,
    Recording.archived_at,
    Recording.rule_name,
    Call.caller_number,
    Call.dialled_number,
    Call.direction,
    Call.operator_id,
    Call.queue_name,
)


def scope_clause(scope: RecordingScope) -> ColumnElement[bool] | None:
    """SQL condition for `scope` over recordings joined to their calls (None: no limit).

    Each part is an IN over an indexed lookup, so an operator's reach costs about as much
    as their own number of calls, whatever the table's size.
    """
    if scope.everything:
        return None
    conditions: list[ColumnElement[bool]] = []
    if scope.operator_id is not None:
        taken = select(Call.id).where(Call.operator_id == scope.operator_id)
        legs = select(CallLeg.call_id).where(CallLeg.operator_id == scope.operator_id)
        conditions.append(Recording.call_id.in_(union(taken, legs)))
    if scope.support_line is not None:
        conditions.append(
            Call.queue_name.in_(select(Queue.name).where(Queue.support_line == scope.support_line))
        )
        conditions.append(
            Call.operator_id.in_(
                select(Operator.id).where(Operator.support_line == scope.support_line)
            )
        )
    if scope.voicemail_line is not None:
        conditions.append(
            Recording.id.in_(
                select(Voicemail.recording_id).where(
                    Voicemail.support_line == scope.voicemail_line,
                    Voicemail.recording_id.is_not(None),
                )
            )
        )
    return or_(*conditions) if conditions else false()


def _selective(flt: RecordingFilter) -> bool:
    """A filter that matches few recordings, found through an index of its own."""
    return bool(flt.numbers) or flt.call_id is not None or flt.appeal_id is not None


def _call_driven(flt: RecordingFilter) -> bool:
    """Queue, direction and operator are attributes of the call: the search then walks the
    calls in time order through their (attribute, started_at) indexes and stops after a page,
    rather than sorting every matching recording."""
    return not _selective(flt) and any(
        v is not None for v in (flt.queue_name, flt.direction, flt.operator_id)
    )


def _filtered(stmt: AnySelect, flt: RecordingFilter, started: Any) -> AnySelect:
    if flt.since is not None:
        stmt = stmt.where(started >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(started < flt.until)
    if flt.numbers:
        # two indexed lookups (caller / dialled) rather than an OR across the join
        by_caller = select(Call.id).where(Call.caller_number.in_(flt.numbers))
        by_dialled = select(Call.id).where(Call.dialled_number.in_(flt.numbers))
        stmt = stmt.where(Recording.call_id.in_(union(by_caller, by_dialled)))
    if flt.operator_id is not None:
        stmt = stmt.where(Call.operator_id == flt.operator_id)
    if flt.queue_name is not None:
        stmt = stmt.where(Call.queue_name == flt.queue_name)
    if flt.appeal_id is not None:
        # linked directly, or through the call the appeal was registered from
        direct = select(Recording.id).where(Recording.appeal_id == flt.appeal_id)
        via_call = (
            select(Recording.id)
            .join(Appeal, Appeal.call_id == Recording.call_id)
            .where(Appeal.id == flt.appeal_id)
        )
        stmt = stmt.where(Recording.id.in_(union(direct, via_call)))
    if flt.call_id is not None:
        stmt = stmt.where(Recording.call_id == flt.call_id)
    if flt.direction is not None:
        stmt = stmt.where(Call.direction == flt.direction)
    if flt.min_duration is not None:
        stmt = stmt.where(Recording.duration_seconds >= flt.min_duration)
    if flt.max_duration is not None:
        stmt = stmt.where(Recording.duration_seconds <= flt.max_duration)
    if flt.state is not None:
        stmt = stmt.where(Recording.state == flt.state)
    return stmt


def _list_item(row: Row[*tuple[Any, ...]]) -> RecordingListItem:
    return RecordingListItem(**row._mapping)


def search_statement(flt: RecordingFilter, scope: RecordingScope) -> AnySelect:
    """The search query (one extra row past `limit` tells whether another page exists).

    Newest first by start time. A recording starts with its call, so walking calls by their
    start (for queue and direction) and recordings by theirs give the same order; a
    recording without a call can match no call attribute anyway.
    """
    stmt: AnySelect
    order: tuple[Any, ...]
    if _call_driven(flt):
        stmt = (
            select(*_LIST_COLUMNS).select_from(Call).join(Recording, Recording.call_id == Call.id)
        )
        stmt = _filtered(stmt, flt, Call.started_at)
        order = (Call.started_at.desc(), Recording.started_at.desc(), Recording.id.desc())
    else:
        stmt = (
            select(*_LIST_COLUMNS)
            .select_from(Recording)
            .outerjoin(Call, Recording.call_id == Call.id)
        )
        stmt = _filtered(stmt, flt, Recording.started_at)
        order = (Recording.started_at.desc(), Recording.id.desc())
    clause = scope_clause(scope)
    if clause is not None:
        stmt = stmt.where(clause)
    return stmt.order_by(*order).limit(flt.limit + 1).offset(flt.offset)


async def search(
    session: AsyncSession, flt: RecordingFilter, scope: RecordingScope
) -> tuple[list[RecordingListItem], bool]:
    """Recordings matching `flt` within `scope`, newest first, and whether more follow."""
    rows = (await session.execute(search_statement(flt, scope))).all()
    items = [_list_item(row) for row in rows[: flt.limit]]
    return items, len(rows) > flt.limit


async def item(session: AsyncSession, recording_id: uuid.UUID) -> RecordingListItem | None:
    stmt = (
        select(*_LIST_COLUMNS)
        .select_from(Recording)
        .outerjoin(Call, Recording.call_id == Call.id)
        .where(Recording.id == recording_id)
    )
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else _list_item(row)


async def in_scope(session: AsyncSession, recording_id: uuid.UUID, scope: RecordingScope) -> bool:
    clause = scope_clause(scope)
    stmt = (
        select(Recording.id)
        .select_from(Recording)
        .outerjoin(Call, Recording.call_id == Call.id)
        .where(Recording.id == recording_id)
    )
    if clause is not None:
        stmt = stmt.where(clause)
    return (await session.scalar(stmt)) is not None


async def get(session: AsyncSession, recording_id: uuid.UUID) -> Recording | None:
    return await session.get(Recording, recording_id)


async def get_for_update(session: AsyncSession, recording_id: uuid.UUID) -> Recording | None:
    """The row, locked against concurrent changes on PostgreSQL (SQLite locks on write)."""
    stmt = select(Recording).where(Recording.id == recording_id).with_for_update()
    return (await session.scalars(stmt, execution_options={"populate_existing": True})).first()


async def get_by_path(session: AsyncSession, path: str) -> Recording | None:
    return (await session.scalars(select(Recording).where(Recording.path == path))).first()


async def for_call(session: AsyncSession, call_id: uuid.UUID) -> list[Recording]:
    stmt = select(Recording).where(Recording.call_id == call_id).order_by(Recording.started_at)
    return list(await session.scalars(stmt))


async def create(
    session: AsyncSession,
    *,
    path: str,
    started_at: datetime,
    call_id: uuid.UUID | None = None,
    appeal_id: uuid.UUID | None = None,
    state: RecordingState = RecordingState.RECORDING,
    delete_after: datetime | None = None,
    rule_name: str | None = None,
) -> Recording:
    recording = Recording(
        path=path,
        started_at=started_at,
        call_id=call_id,
        appeal_id=appeal_id,
        state=state,
        delete_after=delete_after,
        rule_name=rule_name,
    )
    session.add(recording)
    await session.flush()
    return recording


async def link_appeal(session: AsyncSession, call_id: uuid.UUID, appeal_id: uuid.UUID) -> int:
    """Point every recording of the call at the appeal; returns how many rows changed."""
    stmt = (
        update(Recording)
        .where(Recording.call_id == call_id, Recording.appeal_id.is_(None))
        .values(appeal_id=appeal_id)
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def appeal_for_call(session: AsyncSession, call_id: uuid.UUID) -> uuid.UUID | None:
    stmt = select(Appeal.id).where(Appeal.call_id == call_id).order_by(Appeal.created_at).limit(1)
    return await session.scalar(stmt)


async def awaiting_completion(
    session: AsyncSession, *, limit: int = 500
) -> list[tuple[Recording, datetime | None]]:
    """Recordings still "recording" whose call has ended, with the hang-up time.

    Rows with no call at all come too (their time is None): only the file can tell.
    """
    stmt = (
        select(Recording, Call.ended_at)
        .outerjoin(Call, Recording.call_id == Call.id)
        .where(
            Recording.state == RecordingState.RECORDING,
            or_(Call.ended_at.is_not(None), Recording.call_id.is_(None)),
        )
        .order_by(Recording.started_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


async def known_paths(session: AsyncSession) -> dict[str, tuple[uuid.UUID, RecordingState]]:
    """Every stored path with its recording and state (for the sweep)."""
    stmt = select(Recording.path, Recording.id, Recording.state)
    return {path: (rid, state) for path, rid, state in (await session.execute(stmt)).all()}


async def due_for_archiving(
    session: AsyncSession, *, started_before: datetime, limit: int
) -> list[Recording]:
    stmt = (
        select(Recording)
        .where(Recording.state == RecordingState.COMPLETE, Recording.started_at < started_before)
        .order_by(Recording.started_at)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def due_for_deletion(session: AsyncSession, *, now: datetime, limit: int) -> list[Recording]:
    """Recordings past their retention limit whose file may still exist."""
    stmt = (
        select(Recording)
        .where(
            Recording.delete_after <= now,
            Recording.state.in_(
                [
                    RecordingState.COMPLETE,
                    RecordingState.ARCHIVED,
                    RecordingState.MISSING,
                    RecordingState.EMPTY,
                ]
            ),
        )
        .order_by(Recording.delete_after)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Recording]:
    if not ids:
        return []
    return list(await session.scalars(select(Recording).where(Recording.id.in_(list(ids)))))


async def log_access(
    session: AsyncSession,
    recording_id: uuid.UUID,
    action: RecordingAction,
    *,
    at: datetime,
    user_id: int | None,
    remote_addr: str | None = None,
) -> RecordingAccessLog:
    entry = RecordingAccessLog(
        recording_id=recording_id,
        user_id=user_id,
        action=action,
        at=at,
        remote_addr=remote_addr,
    )
    session.add(entry)
    await session.flush()
    return entry


async def access_log(
    session: AsyncSession, recording_id: uuid.UUID, *, limit: int = 100
) -> list[RecordingAccessLog]:
    stmt = (
        select(RecordingAccessLog)
        .where(RecordingAccessLog.recording_id == recording_id)
        .order_by(RecordingAccessLog.at.desc(), RecordingAccessLog.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def count_in_states(
    session: AsyncSession, states: Sequence[RecordingState]
) -> dict[RecordingState, int]:
    """How many recordings are in each of `states` (an indexed count, for /metrics)."""
    rows = await session.execute(
        select(Recording.state, func.count())
        .where(Recording.state.in_(list(states)))
        .group_by(Recording.state)
    )
    found = {RecordingState(state): int(count) for state, count in rows.all()}
    return {state: found.get(state, 0) for state in states}
