"""State the process roles share through the database: durable ACD state (queue callbacks,
the emergency switch), the nodes that are running and what they publish, and the requests
an API node sends to a telephony node (operator sign-in, call control)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import BigIntKey


class QueueCallbackRow(Base):
    """A callback in queue promised to a caller: kept until it is made or given up."""

    __tablename__ = "queue_callbacks"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    node: Mapped[str] = mapped_column(sa.String(64), index=True)
    queue: Mapped[str] = mapped_column(sa.String(64))
    number: Mapped[str] = mapped_column(sa.String(32))
    original_uniqueid: Mapped[str] = mapped_column(sa.String(64))
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(sa.Integer, default=0)
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    customer_id: Mapped[int | None] = mapped_column(sa.Integer)
    state: Mapped[str] = mapped_column(sa.String(32), index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel_id: Mapped[str | None] = mapped_column(sa.String(64))
    dialled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outcome: Mapped[str | None] = mapped_column(sa.String(200))
    history: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EmergencySwitch(Base):
    """The emergency mode, one row (id 1) shared by every node."""

    __tablename__ = "emergency_switch"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    source: Mapped[str | None] = mapped_column(sa.String(32))
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    announcement: Mapped[str] = mapped_column(sa.Text, default="")
    baseline_per_hour: Mapped[float | None] = mapped_column(sa.Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ClusterNode(Base):
    """A running process role: its heartbeat and, for telephony nodes, the live picture of
    its Asterisk (queues, operators) that API nodes merge into the supervisor view."""

    __tablename__ = "cluster_nodes"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    site: Mapped[str] = mapped_column(sa.String(64), default="")
    pid: Mapped[int] = mapped_column(sa.Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class NodeRequest(Base):
    """Something an API node asks a telephony node to do (sign an operator in, an AMI
    action); the node that takes it writes the result or the error back."""

    __tablename__ = "node_requests"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    node: Mapped[str | None] = mapped_column(sa.String(64), index=True)  # None: any node
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    taken_by: Mapped[str | None] = mapped_column(sa.String(64))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    error_kind: Mapped[str | None] = mapped_column(sa.String(32))


class RedialJobRow(Base):
    """An operator's auto-redial: call the number again every interval until answered or the
    attempts run out. Kept here so a restart or another telephony node carries it on."""

    __tablename__ = "redial_jobs"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    node: Mapped[str | None] = mapped_column(sa.String(64))  # None: any telephony node
    operator_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    user_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    number: Mapped[str] = mapped_column(sa.String(32))
    context: Mapped[str] = mapped_column(sa.String(64))
    exten: Mapped[str] = mapped_column(sa.String(64))
    device: Mapped[str] = mapped_column(sa.String(128))  # the operator's phone, e.g. PJSIP/101
    interface: Mapped[str] = mapped_column(sa.String(128))  # normalised, for the call record
    attempts: Mapped[int] = mapped_column(sa.Integer)
    interval_seconds: Mapped[float] = mapped_column(sa.Float)
    made: Mapped[int] = mapped_column(sa.Integer, default=0)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    channel_ids: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    taken_by: Mapped[str | None] = mapped_column(sa.String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
