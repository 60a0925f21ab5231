"""ACD queues (one per support line plus the branch overflow) and their members."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callcenter.db.base import Base
from callcenter.db.models._types import str_enum
from callcenter.domain.queues import QueueStrategy


class Queue(Base):
    __tablename__ = "queues"
    __table_args__ = (
        sa.CheckConstraint(
            "support_line IS NULL OR support_line BETWEEN 1 AND 3", name="support_line"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    support_line: Mapped[int | None]
    strategy: Mapped[QueueStrategy] = mapped_column(
        str_enum(QueueStrategy), default=QueueStrategy.LEASTRECENT
    )
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # target (and average) wait before an operator answers, from the service standard
    wait_target_seconds: Mapped[int] = mapped_column(default=40)
    # a branch call centre's queue that takes calls when every line is busy too long
    is_overflow: Mapped[bool] = mapped_column(default=False)

    members: Mapped[list[QueueMember]] = relationship(
        back_populates="queue", lazy="selectin", cascade="all, delete-orphan"
    )


class QueueMember(Base):
    __tablename__ = "queue_members"
    __table_args__ = (sa.UniqueConstraint("queue_id", "operator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int] = mapped_column(sa.ForeignKey("queues.id", ondelete="CASCADE"))
    operator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    # Asterisk member penalty: lower is rung first
    penalty: Mapped[int] = mapped_column(default=0)

    queue: Mapped[Queue] = relationship(back_populates="members")
