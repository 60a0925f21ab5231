"""Meter readings given by callers (keypad, voice) or typed in by an operator."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import str_enum
from callcenter.domain.meter_readings import ReadingSource


class MeterReading(Base):
    __tablename__ = "meter_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    account_number: Mapped[str] = mapped_column(sa.String(32), index=True)
    # kept as given (digits, optional decimal point): no float rounding of a meter's value
    value: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[ReadingSource] = mapped_column(str_enum(ReadingSource))
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
