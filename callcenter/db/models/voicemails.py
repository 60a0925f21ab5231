"""Voice messages left in the IVR (each becomes an appeal)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import utcnow


class Voicemail(Base):
    __tablename__ = "voicemails"
    # operators list the voicemails of their line, newest first
    __table_args__ = (
        sa.Index("ix_voicemails_support_line_created_at", "support_line", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("appeals.id", ondelete="SET NULL"), index=True
    )
    caller_number: Mapped[str] = mapped_column(sa.String(32), index=True)
    recording_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("recordings.id", ondelete="SET NULL"), index=True
    )
    duration_seconds: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    listened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the line whose operators should listen to it
    support_line: Mapped[int | None]
