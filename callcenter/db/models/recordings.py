"""Call recordings (files in the recording store) and the log of who accessed them."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime, new_uuid
from callcenter.db.models._types import str_enum
from callcenter.domain.recordings import RecordingAction, RecordingState


class Recording(Base):
    __tablename__ = "recordings"
    # searches filter a time range, often with a duration bound
    __table_args__ = (
        sa.Index("ix_recordings_started_at_duration", "started_at", "duration_seconds"),
    )

    # opaque: the id appears in URLs, so it must not be guessable
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("appeals.id", ondelete="SET NULL"), index=True
    )
    # relative to the recording store's root
    path: Mapped[str] = mapped_column(sa.String(512), unique=True)
    state: Mapped[RecordingState] = mapped_column(
        str_enum(RecordingState), default=RecordingState.RECORDING, index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float | None]
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # retention limit: the file is deleted after this moment
    delete_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # the recording rule that started it
    rule_name: Mapped[str | None] = mapped_column(sa.String(64))


class RecordingAccessLog(Base):
    """Every access to a recording, allowed or refused (personal data, 152-FZ)."""

    __tablename__ = "recording_access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    # the log outlives the file: a recording's row stays (state "deleted") and cannot be
    # removed while its access history exists
    recording_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("recordings.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[RecordingAction] = mapped_column(str_enum(RecordingAction))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))
