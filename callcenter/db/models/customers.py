"""The customer base: localities, customers (accounts) and their phone numbers (for ANI)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import str_enum, utcnow
from callcenter.domain.customers import CustomerCategory


class Locality(Base):
    __tablename__ = "localities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    region: Mapped[str] = mapped_column(sa.String(128))
    # IANA zone name: outbound calls respect the called party's local time
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Moscow")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(255))
    category: Mapped[CustomerCategory] = mapped_column(str_enum(CustomerCategory))
    address: Mapped[str] = mapped_column(sa.String(512), default="")
    locality_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("localities.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(255))
    # positive: the customer owes this much
    balance_kopecks: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    locality: Mapped[Locality | None] = relationship(lazy="selectin")
    phones: Mapped[list[CustomerPhone]] = relationship(
        back_populates="customer",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="CustomerPhone.id",
    )


class CustomerPhone(Base):
    __tablename__ = "customer_phones"
    __table_args__ = (sa.UniqueConstraint("customer_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="CASCADE"))
    # E.164, e.g. +74822123456
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)

    customer: Mapped[Customer] = relationship(back_populates="phones")
