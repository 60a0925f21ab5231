"""Planned and emergency power outages, per locality."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import str_enum
from callcenter.domain.outages import OutageKind


class Outage(Base):
    __tablename__ = "outages"
    __table_args__ = (
        sa.Index("ix_outages_locality_id_starts_at", "locality_id", "starts_at"),
        sa.Index("ix_outages_ends_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    locality_id: Mapped[int] = mapped_column(sa.ForeignKey("localities.id", ondelete="CASCADE"))
    kind: Mapped[OutageKind] = mapped_column(str_enum(OutageKind))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # empty while an emergency's end is not known
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.String(255), default="")
    description_ru: Mapped[str] = mapped_column(sa.Text, default="")
