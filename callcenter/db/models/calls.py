"""Call records: one row per call (Asterisk linkedid), its channels (legs) and transfers."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime, new_uuid
from callcenter.db.models._types import str_enum, utcnow
from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.transfers import TransferKind


class Call(Base):
    __tablename__ = "calls"
    # history and recording searches filter by one of these and a time range
    __table_args__ = (
        sa.Index("ix_calls_queue_name_started_at", "queue_name", "started_at"),
        sa.Index("ix_calls_operator_id_started_at", "operator_id", "started_at"),
        sa.Index("ix_calls_direction_started_at", "direction", "started_at"),
        # the report roll-up finds the calls changed since its last run
        sa.Index("ix_calls_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    linkedid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    caller_number: Mapped[str] = mapped_column(sa.String(32), index=True)
    caller_name: Mapped[str | None] = mapped_column(sa.String(128))
    dialled_number: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # IVR node ids the caller went through, in order
    ivr_path: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    ivr_seconds: Mapped[float | None]
    ivr_closed: Mapped[bool] = mapped_column(default=False)
    # which "this call is recorded" notice played (it must play before an operator hears anyone)
    recording_notice_version: Mapped[str | None] = mapped_column(sa.String(32))
    queue_name: Mapped[str | None] = mapped_column(sa.String(64))
    operator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("operators.id", ondelete="SET NULL")
    )
    wait_seconds: Mapped[float | None]
    talk_seconds: Mapped[float | None]
    disposition: Mapped[Disposition] = mapped_column(
        str_enum(Disposition), default=Disposition.IN_PROGRESS, index=True
    )
    # Q.850 cause code Asterisk reported on hangup
    hangup_cause: Mapped[int | None]
    transfer_count: Mapped[int] = mapped_column(default=0)
    is_queued_callback: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[int] = mapped_column(default=0)
    # no foreign key: call_attempts.call_id already points here, and a cycle of foreign keys
    # would leave the tables without a safe creation/deletion order
    campaign_attempt_id: Mapped[int | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CallLeg(Base):
    """One Asterisk channel (uniqueid) taking part in a call."""

    __tablename__ = "call_legs"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    uniqueid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(128))
    role: Mapped[LegRole] = mapped_column(str_enum(LegRole))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    operator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("operators.id", ondelete="SET NULL"), index=True
    )


class CallTransfer(Base):
    __tablename__ = "call_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[TransferKind] = mapped_column(str_enum(TransferKind))
    from_operator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("operators.id", ondelete="SET NULL"), index=True
    )
    # extension, queue name, external number or dialplan target
    to_target: Mapped[str] = mapped_column(sa.String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
