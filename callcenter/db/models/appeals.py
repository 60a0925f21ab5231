"""Appeals (обращения): the topic classifier, appeals and their status history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime, new_uuid
from callcenter.db.models._types import str_enum, utcnow
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus


class AppealTopic(Base):
    __tablename__ = "appeal_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appeal_topics.id", ondelete="SET NULL"), index=True
    )
    # complaints get the 14-day deadline
    is_complaint: Mapped[bool] = mapped_column(default=False)


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    # what the customer is told to quote, e.g. 20250114-0007
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[AppealChannel] = mapped_column(str_enum(AppealChannel))
    topic_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appeal_topics.id", ondelete="SET NULL"), index=True
    )
    text: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[AppealKind] = mapped_column(str_enum(AppealKind), default=AppealKind.QUESTION)
    status: Mapped[AppealStatus] = mapped_column(
        str_enum(AppealStatus), default=AppealStatus.REGISTERED, index=True
    )
    operator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("operators.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    handoff_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    extended_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # call parameters the operator's script collected
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class AppealStatusHistory(Base):
    __tablename__ = "appeal_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True
    )
    # empty for the first entry (registration)
    from_status: Mapped[AppealStatus | None] = mapped_column(str_enum(AppealStatus))
    to_status: Mapped[AppealStatus] = mapped_column(str_enum(AppealStatus))
    changed_by: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
