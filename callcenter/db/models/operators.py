"""Operators (agents) on support lines 1-3, and the history of their states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import ExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import str_enum, utcnow
from callcenter.domain.agents import OperatorState


def _default_interface(context: ExecutionContext) -> str:
    params: dict[str, Any] = context.get_current_parameters()  # type: ignore[attr-defined]
    return f"PJSIP/{params['extension']}"


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (sa.CheckConstraint("support_line BETWEEN 1 AND 3", name="support_line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    extension: Mapped[str] = mapped_column(sa.String(32), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(255))
    support_line: Mapped[int] = mapped_column(index=True)
    # the Asterisk device that rings for this operator
    interface: Mapped[str] = mapped_column(sa.String(128), default=_default_interface)
    # skill name -> level 1..10, used by intelligent routing
    skills: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OperatorStateHistory(Base):
    """One row per state an operator was in; `ended_at` is empty for the current state."""

    __tablename__ = "operator_state_history"
    __table_args__ = (
        sa.Index("ix_operator_state_history_operator_id_started_at", "operator_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(sa.ForeignKey("operators.id", ondelete="CASCADE"))
    state: Mapped[OperatorState] = mapped_column(str_enum(OperatorState))
    pause_reason: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # indexed for the report roll-up, which finds the states that ended since its last run
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
