"""Raw AMI/AGI events, kept once each (by an idempotency key) for replay and audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import BigIntKey, str_enum
from callcenter.domain.telephony_events import EventSource


class TelephonyEvent(Base):
    __tablename__ = "telephony_events"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    # the same event seen twice (reconnect, replay) has the same key and is stored once
    event_key: Mapped[str] = mapped_column(sa.String(128), unique=True)
    source: Mapped[EventSource] = mapped_column(str_enum(EventSource))
    name: Mapped[str] = mapped_column(sa.String(64))
    linkedid: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    uniqueid: Mapped[str | None] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
