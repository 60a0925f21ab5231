"""Raw AMI/AGI events, each stored once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import TelephonyEvent
from callcenter.db.repositories._upsert import dialect_insert
from callcenter.domain.telephony_events import EventSource


async def add_if_new(
    session: AsyncSession,
    event_key: str,
    *,
    source: EventSource,
    name: str,
    received_at: datetime,
    payload: Mapping[str, Any],
    linkedid: str | None = None,
    uniqueid: str | None = None,
) -> bool:
    """Store the event unless one with this key exists; True when it was new.

    ON CONFLICT DO NOTHING rather than catching IntegrityError: a failed INSERT would
    abort the caller's whole PostgreSQL transaction.
    """
    stmt = (
        dialect_insert(session, TelephonyEvent)
        .values(
            event_key=event_key,
            source=source,
            name=name,
            received_at=received_at,
            payload=dict(payload),
            linkedid=linkedid,
            uniqueid=uniqueid,
        )
        .on_conflict_do_nothing(index_elements=[TelephonyEvent.event_key])
        .returning(TelephonyEvent.id)
    )
    inserted = (await session.execute(stmt)).scalar_one_or_none()
    return inserted is not None


async def for_linkedid(session: AsyncSession, linkedid: str) -> list[TelephonyEvent]:
    """Every event of one call, in the order they were stored."""
    stmt = (
        select(TelephonyEvent)
        .where(TelephonyEvent.linkedid == linkedid)
        .order_by(TelephonyEvent.id)
    )
    return list(await session.scalars(stmt))


# PostgreSQL: the whole batch as one array per column, one prepared statement whatever the
# batch size (a multi-row VALUES costs SQLAlchemy ~1 s to compile for 2,000 rows)
_PG_ADD_MANY = text(
    """
    INSERT INTO telephony_events (event_key, source, name, linkedid, uniqueid, received_at, payload)
    SELECT k, s, n, l, u, r, CAST(p AS json)
    FROM unnest(
        CAST(:keys AS varchar[]), CAST(:sources AS varchar[]), CAST(:names AS varchar[]),
        CAST(:linkedids AS varchar[]), CAST(:uniqueids AS varchar[]),
        CAST(:received AS timestamptz[]), CAST(:payloads AS text[])
    ) AS t(k, s, n, l, u, r, p)
    ON CONFLICT (event_key) DO NOTHING
    """
)


async def add_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Store a batch of events (dicts of TelephonyEvent columns); keys already stored are skipped.

    One INSERT ... ON CONFLICT DO NOTHING per batch: the journal takes thousands of events a
    second in an outage storm, far more than one statement per event allows. On PostgreSQL
    the rows go as column arrays through `unnest` (one prepared statement, no SQL built per
    batch); on SQLite as a multi-row VALUES.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            _PG_ADD_MANY,
            {
                "keys": [r["event_key"] for r in rows],
                "sources": [str(getattr(r["source"], "value", r["source"])) for r in rows],
                "names": [r["name"] for r in rows],
                "linkedids": [r.get("linkedid") for r in rows],
                "uniqueids": [r.get("uniqueid") for r in rows],
                "received": [r["received_at"] for r in rows],
                "payloads": [json.dumps(r.get("payload") or {}, ensure_ascii=False) for r in rows],
            },
        )
        return
    stmt = (
        dialect_insert(session, TelephonyEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=[TelephonyEvent.event_key])
    )
    await session.execute(stmt)


async def last_seen(session: AsyncSession, linkedids: list[str]) -> dict[str, datetime]:
    """The time of the latest journaled event of each call (those that have any)."""
    if not linkedids:
        return {}
    stmt = (
        select(TelephonyEvent.linkedid, func.max(TelephonyEvent.received_at))
        .where(TelephonyEvent.linkedid.in_(linkedids))
        .group_by(TelephonyEvent.linkedid)
    )
    return {linkedid: at for linkedid, at in (await session.execute(stmt)).all() if linkedid}
