"""Address books: the corporate directory and each user's personal contacts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import utcnow


class CorporateContact(Base):
    __tablename__ = "corporate_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    department: Mapped[str] = mapped_column(sa.String(255), default="")
    position: Mapped[str] = mapped_column(sa.String(255), default="")
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    extension: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(255))


class PersonalContact(Base):
    """A user's own address book entry (no limit on how many)."""

    __tablename__ = "personal_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    phone: Mapped[str] = mapped_column(sa.String(32))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
