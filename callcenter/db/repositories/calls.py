"""Call records: upsert by Asterisk linkedid, search with filters, legs and transfers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Call, CallLeg, CallTransfer
from callcenter.db.models._types import utcnow
from callcenter.db.repositories._upsert import dialect_insert
from callcenter.domain.call_legs import LegRole
from callcenter.domain.transfers import TransferKind
from callcenter.ports.queries import CallFields, CallFilter, UnknownCallError

_CREATION_FIELDS = frozenset({"direction", "caller_number", "started_at"})


def _filtered(stmt: Select[Any], flt: CallFilter) -> Select[Any]:
    if flt.since is not None:
        stmt = stmt.where(Call.started_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Call.started_at < flt.until)
    if flt.number is not None:
        forms = flt.number_forms or (flt.number,)
        stmt = stmt.where(or_(Call.caller_number.in_(forms), Call.dialled_number.in_(forms)))
    if flt.queue_name is not None:
        stmt = stmt.where(Call.queue_name == flt.queue_name)
    if flt.operator_id is not None:
        stmt = stmt.where(Call.operator_id == flt.operator_id)
    if flt.disposition is not None:
        stmt = stmt.where(Call.disposition == flt.disposition)
    if flt.direction is not None:
        stmt = stmt.where(Call.direction == flt.direction)
    if flt.customer_id is not None:
        stmt = stmt.where(Call.customer_id == flt.customer_id)
    return stmt


async def get(session: AsyncSession, call_id: uuid.UUID) -> Call | None:
    return await session.get(Call, call_id)


async def get_by_linkedid(session: AsyncSession, linkedid: str) -> Call | None:
    result = await session.scalars(select(Call).where(Call.linkedid == linkedid))
    return result.one_or_none()


async def search(session: AsyncSession, flt: CallFilter | None = None) -> list[Call]:
    """Calls matching `flt`, newest first."""
    flt = flt or CallFilter()
    stmt = _filtered(select(Call), flt).order_by(Call.started_at.desc(), Call.id)
    return list(await session.scalars(stmt.limit(flt.limit).offset(flt.offset)))


async def count(session: AsyncSession, flt: CallFilter | None = None) -> int:
    """How many calls match `flt` (limit and offset ignored), for paging."""
    stmt = _filtered(select(func.count()).select_from(Call), flt or CallFilter())
    return await session.scalar(stmt) or 0


async def upsert(session: AsyncSession, linkedid: str, /, **fields: Unpack[CallFields]) -> Call:
    """Create the call with this linkedid, or overwrite the given fields of the existing one.

    Given `direction`, `caller_number` and `started_at` (what a new call needs), this is one
    INSERT ... ON CONFLICT DO UPDATE, so two event handlers racing on the first event of a
    call cannot create it twice. Without them it only updates, and raises UnknownCallError
    when the call does not exist. `id` is used for a new call only: a call keeps its id.
    """
    now = utcnow()
    changes: dict[str, Any] = {k: v for k, v in fields.items() if k != "id"}
    changes["updated_at"] = now
    options = {"populate_existing": True}
    if _CREATION_FIELDS.issubset(fields):
        insert = (
            dialect_insert(session, Call)
            .values(linkedid=linkedid, **fields, updated_at=now)
            .on_conflict_do_update(index_elements=[Call.linkedid], set_=changes)
            .returning(Call)
        )
        return (await session.scalars(insert, execution_options=options)).one()
    stmt = update(Call).where(Call.linkedid == linkedid).values(changes).returning(Call)
    call = (await session.scalars(stmt, execution_options=options)).one_or_none()
    if call is None:
        missing = ", ".join(sorted(_CREATION_FIELDS - set(fields)))
        raise UnknownCallError(f"no call with linkedid {linkedid!r}; a new call needs {missing}")
    return call


async def add_leg(
    session: AsyncSession,
    call_id: uuid.UUID,
    *,
    uniqueid: str,
    channel: str,
    role: LegRole,
    started_at: datetime,
    operator_id: int | None = None,
) -> CallLeg:
    leg = CallLeg(
        call_id=call_id,
        uniqueid=uniqueid,
        channel=channel,
        role=role,
        started_at=started_at,
        operator_id=operator_id,
    )
    session.add(leg)
    await session.flush()
    return leg


async def get_leg(session: AsyncSession, uniqueid: str) -> CallLeg | None:
    result = await session.scalars(select(CallLeg).where(CallLeg.uniqueid == uniqueid))
    return result.one_or_none()


async def legs(session: AsyncSession, call_id: uuid.UUID) -> list[CallLeg]:
    stmt = select(CallLeg).where(CallLeg.call_id == call_id).order_by(CallLeg.started_at)
    return list(await session.scalars(stmt))


async def add_transfer(
    session: AsyncSession,
    call_id: uuid.UUID,
    *,
    kind: TransferKind,
    to_target: str,
    at: datetime,
    from_operator_id: int | None = None,
) -> CallTransfer:
    transfer = CallTransfer(
        call_id=call_id,
        kind=kind,
        to_target=to_target,
        at=at,
        from_operator_id=from_operator_id,
    )
    session.add(transfer)
    await session.flush()
    return transfer


async def transfers(session: AsyncSession, call_id: uuid.UUID) -> list[CallTransfer]:
    stmt = select(CallTransfer).where(CallTransfer.call_id == call_id).order_by(CallTransfer.at)
    return list(await session.scalars(stmt))


async def upsert_leg(
    session: AsyncSession,
    call_id: uuid.UUID,
    *,
    uniqueid: str,
    channel: str,
    role: LegRole,
    started_at: datetime,
    answered_at: datetime | None,
    ended_at: datetime | None,
    operator_id: int | None,
) -> None:
    """Create a leg, or bring its answer and end times up to date (one statement)."""
    values = {
        "call_id": call_id,
        "uniqueid": uniqueid,
        "channel": channel,
        "role": role,
        "started_at": started_at,
        "answered_at": answered_at,
        "ended_at": ended_at,
        "operator_id": operator_id,
    }
    stmt = (
        dialect_insert(session, CallLeg)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[CallLeg.uniqueid],
            set_={"answered_at": answered_at, "ended_at": ended_at, "operator_id": operator_id},
        )
    )
    await session.execute(stmt)


async def open_calls(session: AsyncSession) -> list[Call]:
    """Calls the database still thinks are in progress (no end time)."""
    return list(await session.scalars(select(Call).where(Call.ended_at.is_(None))))
