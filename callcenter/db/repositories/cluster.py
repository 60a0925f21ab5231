"""SQL for the shared state of the process roles: queue callbacks, the emergency switch,
node heartbeats and snapshots, and requests from API nodes to telephony nodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import (
    ClusterNode,
    EmergencySwitch,
    NodeRequest,
    QueueCallbackRow,
    RedialJobRow,
)
from callcenter.db.repositories._upsert import dialect_insert

ACTIVE_CALLBACK_STATES = ("waiting", "dialing", "in_queue")

# --- queue callbacks --------------------------------------------------------------------------


async def save_callbacks(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Insert or update callbacks by id (each dict holds every column)."""
    for row in rows:
        stmt = dialect_insert(session, QueueCallbackRow).values(**row)
        changed = {k: stmt.excluded[k] for k in row if k not in ("id", "booked_at")}
        await session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changed))


async def active_callbacks(session: AsyncSession, node: str) -> Sequence[QueueCallbackRow]:
    stmt = (
        select(QueueCallbackRow)
        .where(
            QueueCallbackRow.node == node,
            QueueCallbackRow.state.in_(ACTIVE_CALLBACK_STATES),
        )
        .order_by(QueueCallbackRow.booked_at)
    )
    return (await session.scalars(stmt)).all()


async def get_callback(session: AsyncSession, callback_id: uuid.UUID) -> QueueCallbackRow | None:
    return await session.get(QueueCallbackRow, callback_id)


# --- the emergency switch ---------------------------------------------------------------------


async def load_emergency(session: AsyncSession) -> EmergencySwitch | None:
    return await session.get(EmergencySwitch, 1)


async def save_emergency(
    session: AsyncSession,
    *,
    active: bool,
    source: str | None,
    since: datetime | None,
    announcement: str,
    baseline_per_hour: float | None,
    now: datetime,
) -> None:
    values: dict[str, Any] = {
        "active": active,
        "source": source,
        "since": since,
        "announcement": announcement,
        "baseline_per_hour": baseline_per_hour,
        "updated_at": now,
    }
    stmt = dialect_insert(session, EmergencySwitch).values(id=1, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))


# --- nodes ------------------------------------------------------------------------------------


async def heartbeat(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    site: str,
    pid: int,
    started_at: datetime,
    now: datetime,
    snapshot: dict[str, Any] | None,
) -> None:
    values: dict[str, Any] = {
        "role": role,
        "site": site,
        "pid": pid,
        "started_at": started_at,
        "heartbeat_at": now,
        "snapshot": snapshot,
    }
    stmt = dialect_insert(session, ClusterNode).values(name=name, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))


async def live_nodes(
    session: AsyncSession, *, role: str | None, seen_since: datetime
) -> Sequence[ClusterNode]:
    stmt = select(ClusterNode).where(ClusterNode.heartbeat_at >= seen_since)
    if role is not None:
        stmt = stmt.where(ClusterNode.role == role)
    return (await session.scalars(stmt.order_by(ClusterNode.name))).all()


async def forget_node(session: AsyncSession, name: str) -> None:
    await session.execute(delete(ClusterNode).where(ClusterNode.name == name))


# --- requests ---------------------------------------------------------------------------------


async def submit_request(
    session: AsyncSession, *, node: str | None, kind: str, payload: dict[str, Any], now: datetime
) -> int:
    row = NodeRequest(node=node, kind=kind, payload=payload, created_at=now)
    session.add(row)
    await session.flush()
    return row.id


async def take_requests(
    session: AsyncSession, *, node: str, not_before: datetime, limit: int = 50
) -> Sequence[NodeRequest]:
    """Pending requests this node may do, locked so no other node takes them too."""
    stmt = (
        select(NodeRequest)
        .where(
            NodeRequest.taken_by.is_(None),
            NodeRequest.created_at >= not_before,
            or_(NodeRequest.node.is_(None), NodeRequest.node == node),
        )
        .order_by(NodeRequest.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = (await session.scalars(stmt)).all()
    for row in rows:
        row.taken_by = node
    await session.flush()
    return rows


async def finish_request(
    session: AsyncSession,
    request_id: int,
    *,
    now: datetime,
    result: dict[str, Any] | None,
    error: str | None = None,
    error_kind: str | None = None,
) -> None:
    await session.execute(
        update(NodeRequest)
        .where(NodeRequest.id == request_id)
        .values(done_at=now, result=result, error=error, error_kind=error_kind)
    )


async def get_request(session: AsyncSession, request_id: int) -> NodeRequest | None:
    return await session.get(NodeRequest, request_id)


async def purge_requests(session: AsyncSession, *, before: datetime) -> None:
    await session.execute(delete(NodeRequest).where(NodeRequest.created_at < before))


# --- auto-redial jobs ------------------------------------------------------------------------


async def add_redial(session: AsyncSession, values: dict[str, Any]) -> RedialJobRow:
    row = RedialJobRow(**values)
    session.add(row)
    await session.flush()
    return row


async def get_redial(session: AsyncSession, job_id: uuid.UUID) -> RedialJobRow | None:
    return await session.get(RedialJobRow, job_id)


async def redials_of(
    session: AsyncSession, *, user_id: int | None, limit: int = 100
) -> Sequence[RedialJobRow]:
    """The newest jobs of one user (None: everybody's)."""
    stmt = select(RedialJobRow).order_by(RedialJobRow.created_at.desc()).limit(limit)
    if user_id is not None:
        stmt = stmt.where(RedialJobRow.user_id == user_id)
    return (await session.scalars(stmt)).all()


async def running_redial_of(session: AsyncSession, operator_id: int) -> RedialJobRow | None:
    stmt = select(RedialJobRow).where(
        RedialJobRow.operator_id == operator_id, RedialJobRow.status == "running"
    )
    return (await session.scalars(stmt.limit(1))).first()


async def take_due_redials(
    session: AsyncSession, *, node: str, now: datetime, lease_until: datetime, limit: int = 20
) -> Sequence[RedialJobRow]:
    """Running jobs whose next attempt is due, for this node or any, that no living node
    holds; leased to `node` until `lease_until` so no other node makes the same attempt."""
    stmt = (
        select(RedialJobRow)
        .where(
            RedialJobRow.status == "running",
            RedialJobRow.next_attempt_at <= now,
            or_(RedialJobRow.node.is_(None), RedialJobRow.node == node),
            or_(RedialJobRow.lease_until.is_(None), RedialJobRow.lease_until < now),
        )
        .order_by(RedialJobRow.next_attempt_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = (await session.scalars(stmt)).all()
    for row in rows:
        row.taken_by = node
        row.lease_until = lease_until
    await session.flush()
    return rows


async def update_redial(session: AsyncSession, job_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(RedialJobRow).where(RedialJobRow.id == job_id).values(**values))


async def next_redial_at(session: AsyncSession, *, node: str) -> datetime | None:
    """When the earliest running job this node may make is due."""
    stmt = select(RedialJobRow.next_attempt_at).where(
        RedialJobRow.status == "running",
        or_(RedialJobRow.node.is_(None), RedialJobRow.node == node),
    )
    return (await session.scalars(stmt.order_by(RedialJobRow.next_attempt_at).limit(1))).first()


# --- live events ------------------------------------------------------------------------------


async def notify(session: AsyncSession, channel: str, payload: str = "") -> None:
    """PostgreSQL NOTIFY, sent when the transaction commits (nothing on SQLite: one process)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
    )
