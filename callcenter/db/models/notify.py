"""Auto-informing by SMS and e-mail: one job per campaign and channel, one delivery per contact."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import BigIntKey, str_enum, utcnow
from callcenter.domain.notify import Channel, DeliveryOutcome, DeliveryStatus, JobStatus


class NotifyJob(Base):
    """A supervisor's "send this campaign's message by SMS (or e-mail)": the worker expands it
    into deliveries, a thousand contacts at a time, from `expanded_after` on."""

    __tablename__ = "notify_jobs"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus), default=JobStatus.EXPANDING, index=True
    )
    contact_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contact_lists.id", ondelete="SET NULL")
    )
    message_template: Mapped[str] = mapped_column(sa.Text, default="")
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    # contacts in the list when the job was created (the progress's 100 %)
    contacts_total: Mapped[int] = mapped_column(default=0)
    # the last contact id turned into a delivery (the expansion's cursor)
    expanded_after: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MessageDelivery(Base):
    """One message to one contact by one channel: its state, attempts and the gateway's word."""

    __tablename__ = "message_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "contact_id", "channel"),
        # the workers' queue: open deliveries of a channel by when they are due
        sa.Index(
            "ix_message_deliveries_channel_status_next_at", "channel", "status", "next_attempt_at"
        ),
        sa.Index("ix_message_deliveries_campaign_id_status", "campaign_id", "status"),
        sa.Index("ix_message_deliveries_campaign_id_sent_at", "campaign_id", "sent_at"),
        sa.Index("ix_message_deliveries_campaign_id_finished_at", "campaign_id", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True)
    job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notify_jobs.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    # sent to the gateway with every attempt: it never sends the same key twice
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    address: Mapped[str] = mapped_column(sa.String(320), default="")  # E.164 or e-mail
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    text: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.QUEUED
    )
    outcome: Mapped[DeliveryOutcome | None] = mapped_column(str_enum(DeliveryOutcome))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    # queued: due time; sending: the end of the worker's lease
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(sa.String(64))
    gateway_message_id: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
