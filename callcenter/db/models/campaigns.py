"""Outbound campaigns: call lists, contacts, dial attempts and the do-not-call list."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import str_enum, utcnow
from callcenter.domain.campaigns import (
    AttemptOutcome,
    CampaignKind,
    CampaignStatus,
    DialMode,
    MachineAction,
)


def _all_weekdays() -> list[int]:
    return [1, 2, 3, 4, 5, 6, 7]


def _default_retry_delays() -> list[int]:
    return [900, 3600, 14400]


class ContactList(Base):
    __tablename__ = "contact_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (sa.UniqueConstraint("list_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("contact_lists.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    # values substituted into the message template (amount owed, date of the outage, ...)
    variables: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # IANA zone of the called party: calls only inside the campaign window, local time
    timezone: Mapped[str | None] = mapped_column(sa.String(64))


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    kind: Mapped[CampaignKind] = mapped_column(str_enum(CampaignKind))
    mode: Mapped[DialMode] = mapped_column(str_enum(DialMode), default=DialMode.NONE)
    status: Mapped[CampaignStatus] = mapped_column(
        str_enum(CampaignStatus), default=CampaignStatus.DRAFT, index=True
    )
    contact_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact_lists.id", ondelete="SET NULL"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # daily calling window in the called party's local time
    window_start: Mapped[time | None] = mapped_column(sa.Time)
    window_end: Mapped[time | None] = mapped_column(sa.Time)
    # ISO weekdays (1 = Monday) on which calls may be made
    weekdays: Mapped[list[int]] = mapped_column(sa.JSON, default=_all_weekdays)
    max_attempts: Mapped[int] = mapped_column(default=3)
    # seconds to wait before attempt 2, 3, ...; the last value repeats
    retry_delays: Mapped[list[int]] = mapped_column(sa.JSON, default=_default_retry_delays)
    message_template: Mapped[str] = mapped_column(sa.Text, default="")
    survey_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("surveys.id", ondelete="SET NULL"), index=True
    )
    amd_machine_action: Mapped[MachineAction] = mapped_column(
        str_enum(MachineAction), default=MachineAction.HANGUP
    )
    # abandoned calls allowed, as a percentage of live answers (the rolling hour's ceiling)
    max_abandon_pct: Mapped[float] = mapped_column(default=3.0)
    # what predictive pacing aims at, as a percentage of live answers (<= max_abandon_pct)
    target_abandon_pct: Mapped[float] = mapped_column(default=2.5, server_default="2.5")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the platform instance dialling this campaign and when it last said so (a lease, so that
    # only one instance dials it even on SQLite, which has no advisory locks)
    dialer_owner: Mapped[str | None] = mapped_column(sa.String(64))
    dialer_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CallAttempt(Base):
    __tablename__ = "call_attempts"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "contact_id", "attempt_no"),
        sa.Index("ix_call_attempts_campaign_id_next_attempt_at", "campaign_id", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    attempt_no: Mapped[int]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[AttemptOutcome] = mapped_column(
        str_enum(AttemptOutcome), default=AttemptOutcome.PENDING, index=True
    )
    # Asterisk's originate failure reason (0 no such extension, 3 no answer, 5 busy, 8 congestion)
    reason_code: Mapped[int | None]
    # AMDSTATUS / AMDCAUSE as Asterisk set them (MACHINE, HUMAN, NOTSURE, HANGUP)
    amd_status: Mapped[str | None] = mapped_column(sa.String(16))
    amd_cause: Mapped[str | None] = mapped_column(sa.String(64))
    # what the attempt came to (domain.dial_outcomes.DialResult: abandoned, machine, busy...);
    # NULL while pending and for attempts closed before this was stored
    result: Mapped[str | None] = mapped_column(sa.String(24))
    call_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("calls.id", ondelete="SET NULL"), index=True
    )
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DoNotCall(Base):
    __tablename__ = "do_not_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(255), default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
