"""Call records: upsert by Asterisk linkedid, search with filters, legs and transfers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import Select, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Call, CallLeg, CallTransfer
from callcenter.db.models._types import utcnow
from callcenter.db.repositories._upsert import dialect_insert
from callcenter.domain.call_legs import LegRole
from callcenter.domain.transfers import TransferKind
from callcenter.ports.queries import CallFields, CallFilter, LegFields, UnknownCallError

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


# The columns a whole call record sets (CallFields but the dialer's own campaign_attempt_id),
# with their PostgreSQL array types for `unnest`.
_RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "uuid"),
    ("direction", "varchar"),
    ("caller_number", "varchar"),
    ("caller_name", "varchar"),
    ("dialled_number", "varchar"),
    ("customer_id", "int8"),
    ("started_at", "timestamptz"),
    ("answered_at", "timestamptz"),
    ("ended_at", "timestamptz"),
    ("ivr_path", "text"),
    ("ivr_seconds", "float8"),
    ("ivr_closed", "bool"),
    ("recording_notice_version", "varchar"),
    ("queue_name", "varchar"),
    ("operator_id", "int8"),
    ("wait_seconds", "float8"),
    ("talk_seconds", "float8"),
    ("disposition", "varchar"),
    ("hangup_cause", "int8"),
    ("transfer_count", "int8"),
    ("is_queued_callback", "bool"),
    ("priority", "int8"),
)
_PG_UPSERT_MANY = text(
    "INSERT INTO calls (linkedid, updated_at, {cols})\n"
    "SELECT linkedid, CAST(:now AS timestamptz), {selected}\n"
    "FROM unnest(CAST(:linkedid AS varchar[]), {arrays}) AS t(linkedid, {cols})\n"
    "ON CONFLICT (linkedid) DO UPDATE SET updated_at = EXCLUDED.updated_at, {updates}".format(
        cols=", ".join(name for name, _ in _RECORD_COLUMNS),
        selected=", ".join(
            "CAST(ivr_path AS json)" if name == "ivr_path" else name for name, _ in _RECORD_COLUMNS
        ),
        arrays=", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _RECORD_COLUMNS),
        updates=", ".join(
            f"{name} = EXCLUDED.{name}" for name, _ in _RECORD_COLUMNS if name != "id"
        ),
    )
)


def _column_value(name: str, value: Any) -> Any:
    if name == "ivr_path":
        return json.dumps(list(value or ()), ensure_ascii=False)
    return getattr(value, "value", value)  # enums are stored as their values


async def upsert_many(session: AsyncSession, records: Sequence[tuple[str, CallFields]]) -> None:
    """Create or overwrite whole call records (every column of `_RECORD_COLUMNS` given), each
    keyed by its linkedid; an existing call keeps its id.

    The call journal writes every changed call of a batch at once: on PostgreSQL one statement
    over column arrays (`unnest`), with no ORM objects built or read back, since an ORM upsert
    per record was the largest CPU cost of a call in the telephony role. Linkedids must be
    unique within the batch. Elsewhere one `upsert` per record.
    """
    if not records:
        return
    if session.get_bind().dialect.name != "postgresql":
        for linkedid, fields in records:
            await upsert(session, linkedid, **fields)
        return
    params: dict[str, Any] = {"now": utcnow(), "linkedid": [linkedid for linkedid, _ in records]}
    for name, _ in _RECORD_COLUMNS:
        params[name] = [_column_value(name, fields.get(name)) for _, fields in records]
    await session.execute(_PG_UPSERT_MANY, params)


_PG_UPSERT_LEGS = text(
    """
    INSERT INTO call_legs
        (call_id, uniqueid, channel, role, started_at, answered_at, ended_at, operator_id)
    SELECT * FROM unnest(
        CAST(:call_id AS uuid[]), CAST(:uniqueid AS varchar[]), CAST(:channel AS varchar[]),
        CAST(:role AS varchar[]), CAST(:started_at AS timestamptz[]),
        CAST(:answered_at AS timestamptz[]), CAST(:ended_at AS timestamptz[]),
        CAST(:operator_id AS int8[])
    )
    ON CONFLICT (uniqueid) DO UPDATE SET answered_at = EXCLUDED.answered_at,
        ended_at = EXCLUDED.ended_at, operator_id = EXCLUDED.operator_id
    """
)


async def upsert_legs(session: AsyncSession, legs: Sequence[LegFields]) -> None:
    """`upsert_leg` for many legs at once (one statement on PostgreSQL); a uniqueid given
    twice keeps its last values."""
    unique = list({leg["uniqueid"]: leg for leg in legs}.values())
    if not unique:
        return
    if session.get_bind().dialect.name != "postgresql":
        for leg in unique:
            await upsert_leg(session, **leg)
        return
    columns = (
        "call_id",
        "uniqueid",
        "channel",
        "role",
        "started_at",
        "answered_at",
        "ended_at",
        "operator_id",
    )
    params = {
        name: [getattr(leg[name], "value", leg[name]) for leg in unique]  # type: ignore[literal-required]
        for name in columns
    }
    await session.execute(_PG_UPSERT_LEGS, params)


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
