"""Request and response bodies of `callcenter.api.routes.notify`."""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from callcenter.domain.notify import (
    Channel,
    ChannelProgress,
    DeliveryOutcome,
    DeliveryStatus,
    JobStatus,
    JobView,
)


class SendIn(BaseModel):
    channel: Channel
    subject: str = Field(default="", max_length=200, description="e-mail subject")

    model_config = ConfigDict(json_schema_extra={"examples": [{"channel": "sms"}]})


class SendOut(BaseModel):
    job_id: int
    campaign_id: int
    channel: Channel
    status: JobStatus
    contacts: int = Field(description="contacts in the list when the job was created")
    created: bool = Field(description="false: this campaign was already being sent this way")
    created_at: datetime

    @classmethod
    def of(cls, job: JobView) -> SendOut:
        return cls(
            job_id=job.id,
            campaign_id=job.campaign_id,
            channel=job.channel,
            status=job.status,
            contacts=job.contacts_total,
            created=job.created,
            created_at=job.created_at,
        )


class MinuteOut(BaseModel):
    minute: datetime
    sent: int
    delivered: int
    failed: int


class ChannelProgressOut(BaseModel):
    channel: Channel
    job_id: int
    job_status: JobStatus
    contacts: int
    queued: int
    sending: int
    sent: int = Field(description="accepted by the gateway, no delivery report yet")
    delivered: int
    failed: int
    skipped: int
    positive: int = Field(description="the customer received the message")
    negative: int = Field(description="sent or tried, not received")
    handled: int = Field(description="deliveries no worker has to act on any more")
    percent_done: float
    started_at: datetime | None
    finished_at: datetime | None
    per_minute: list[MinuteOut] = Field(description="the last hour, minutes with activity")

    @classmethod
    def of(cls, p: ChannelProgress) -> ChannelProgressOut:
        total = max(p.contacts, sum(p.by_status.values()))
        return cls(
            channel=p.channel,
            job_id=p.job_id,
            job_status=p.job_status,
            contacts=p.contacts,
            queued=p.count(DeliveryStatus.QUEUED),
            sending=p.count(DeliveryStatus.SENDING),
            sent=p.count(DeliveryStatus.SENT),
            delivered=p.count(DeliveryStatus.DELIVERED),
            failed=p.count(DeliveryStatus.FAILED),
            skipped=p.count(DeliveryStatus.SKIPPED),
            positive=p.positive,
            negative=p.negative,
            handled=p.handled,
            percent_done=round(100.0 * p.handled / total, 1) if total else 100.0,
            started_at=p.started_at,
            finished_at=p.finished_at,
            per_minute=[
                MinuteOut(minute=m.minute, sent=m.sent, delivered=m.delivered, failed=m.failed)
                for m in p.per_minute
            ],
        )


class MessagesProgressOut(BaseModel):
    campaign_id: int
    channels: list[ChannelProgressOut]


class DeliveryOut(BaseModel):
    id: int
    contact_id: int
    channel: Channel
    address: str
    status: DeliveryStatus
    outcome: DeliveryOutcome | None
    reason: str
    attempts: int
    gateway_message_id: str | None
    sent_at: datetime | None
    finished_at: datetime | None


class ReportsOut(BaseModel):
    applied: int
    ignored: int = Field(description="repeated, interim or for an unknown message")


class ReportIn(BaseModel):
    id: str = Field(
        default="",
        max_length=128,
        validation_alias=AliasChoices("id", "message_id"),
        description="the gateway's message id",
    )
    client_ref: str = Field(
        default="",
        max_length=64,
        validation_alias=AliasChoices("client_ref", "idempotency_key"),
        description="the idempotency key the platform sent with the message",
    )
    status: str = Field(max_length=32, description="delivered, failed, expired, rejected, ...")
    reason: str = Field(
        default="", max_length=500, validation_alias=AliasChoices("reason", "error")
    )

    model_config = ConfigDict(extra="ignore")
