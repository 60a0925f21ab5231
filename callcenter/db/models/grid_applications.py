"""Grid-connection applications whose progress callers ask the IVR about."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import str_enum, utcnow
from callcenter.domain.grid_applications import GridApplicationStatus


class GridApplication(Base):
    __tablename__ = "grid_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[GridApplicationStatus] = mapped_column(str_enum(GridApplicationStatus))
    # what the IVR says about the application's state
    status_text_ru: Mapped[str] = mapped_column(sa.String(512))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
