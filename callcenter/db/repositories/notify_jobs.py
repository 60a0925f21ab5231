"""SQL of the SMS / e-mail jobs (`outbound/notify_jobs.py`'s NotifyStore).

The queue is the `message_deliveries` table. A worker claims due rows in one UPDATE whose
row choice is `FOR UPDATE SKIP LOCKED` on PostgreSQL (workers never wait for nor take each
other's rows); SQLite ignores the clause and serialises the UPDATE with every other write,
which gives the same guarantee for the one worker it runs. A claimed row is `sending` with
`next_attempt_at` as the end of its lease: when a worker dies, its rows are due again once
the lease ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Campaign, Contact, MessageDelivery, NotifyJob
from callcenter.db.repositories._upsert import dialect_insert
from callcenter.domain.campaigns import CampaignStatus
from callcenter.domain.notify import (
    OPEN_STATUSES,
    REPORTABLE_STATUSES,
    CampaignForSend,
    Channel,
    ChannelProgress,
    Claimed,
    ContactRow,
    DeliveryOutcome,
    DeliveryRow,
    DeliveryStatus,
    ExpansionJob,
    JobStatus,
    JobView,
    MinuteFigures,
    NewDelivery,
    Outcome,
    ReportResult,
    ReportStatus,
)

_D: sa.Table = MessageDelivery.__table__  # type: ignore[assignment]
_OPEN = [s.value for s in OPEN_STATUSES]


# --- jobs ---------------------------------------------------------------------------


async def campaign_for_send(session: AsyncSession, campaign_id: int) -> CampaignForSend | None:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    contacts = 0
    if campaign.contact_list_id is not None:
        contacts = int(
            await session.scalar(
                select(func.count())
                .select_from(Contact)
                .where(Contact.list_id == campaign.contact_list_id)
            )
            or 0
        )
    return CampaignForSend(
        campaign.id,
        campaign.name,
        campaign.status,
        campaign.contact_list_id,
        campaign.message_template,
        contacts,
    )


async def create_job(
    session: AsyncSession,
    campaign: CampaignForSend,
    channel: Channel,
    subject: str,
    *,
    user_id: int | None,
    now: datetime,
) -> JobView:
    """The campaign's job for the channel; `created` is False when it existed already."""
    stmt = (
        dialect_insert(session, NotifyJob)
        .values(
            campaign_id=campaign.id,
            channel=channel,
            status=JobStatus.EXPANDING,
            contact_list_id=campaign.contact_list_id,
            message_template=campaign.message_template,
            subject=subject or campaign.name[:200],
            contacts_total=campaign.contacts,
            expanded_after=0,
            created_by=user_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["campaign_id", "channel"])
        .returning(NotifyJob.id)
    )
    new_id = await session.scalar(stmt)
    job = (
        await session.scalars(
            select(NotifyJob).where(
                NotifyJob.campaign_id == campaign.id, NotifyJob.channel == channel
            )
        )
    ).one()
    return JobView(
        job.id,
        job.campaign_id,
        job.channel,
        job.status,
        job.contacts_total,
        job.created_at,
        created=new_id is not None,
    )


async def lock_expanding_job(session: AsyncSession) -> ExpansionJob | None:
    """A job still being expanded, locked for this transaction (another worker skips it)."""
    job = (
        await session.scalars(
            select(NotifyJob)
            .where(NotifyJob.status == JobStatus.EXPANDING)
            .order_by(NotifyJob.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).one_or_none()
    if job is None:
        return None
    return ExpansionJob(
        job.id,
        job.campaign_id,
        job.channel,
        job.message_template,
        job.subject,
        job.contact_list_id,
        job.expanded_after,
    )


async def contacts_after(
    session: AsyncSession, list_id: int, after_id: int, limit: int
) -> list[ContactRow]:
    rows = await session.execute(
        select(Contact.id, Contact.phone, Contact.name, Contact.variables)
        .where(Contact.list_id == list_id)
        .where(Contact.id > after_id)
        .order_by(Contact.id)
        .limit(limit)
    )
    return [ContactRow(r[0], r[1], r[2], dict(r[3] or {})) for r in rows]


async def add_deliveries(
    session: AsyncSession, job: ExpansionJob, planned: Sequence[NewDelivery], now: datetime
) -> None:
    """Insert the planned deliveries; one that exists already (same contact and channel)
    is left as it is."""
    if not planned:
        return
    values = [
        {
            "job_id": job.id,
            "campaign_id": job.campaign_id,
            "contact_id": p.contact_id,
            "channel": job.channel,
            "idempotency_key": p.idempotency_key,
            "address": p.address[:320],
            "subject": p.subject[:200],
            "text": p.text,
            "status": p.status,
            "reason": p.reason[:500],
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "finished_at": now if p.status is DeliveryStatus.SKIPPED else None,
        }
        for p in planned
    ]
    # executemany: SQLAlchemy batches it ("insertmanyvalues") with a cached statement
    await session.execute(
        dialect_insert(session, MessageDelivery).on_conflict_do_nothing(
            index_elements=["campaign_id", "contact_id", "channel"]
        ),
        values,
    )


async def advance_job(
    session: AsyncSession, job_id: int, expanded_after: int, *, expanded: bool
) -> None:
    """Move the expansion's cursor; `expanded`: every contact has its delivery now."""
    values: dict[str, Any] = {"expanded_after": expanded_after}
    if expanded:
        values["status"] = JobStatus.RUNNING
    await session.execute(
        update(NotifyJob)
        .where(NotifyJob.id == job_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def close_finished_jobs(session: AsyncSession, now: datetime) -> int:
    open_rows = (
        select(MessageDelivery.id)
        .where(MessageDelivery.job_id == NotifyJob.id)
        .where(MessageDelivery.status.in_(_OPEN))
        .exists()
    )
    running = select(NotifyJob.id).where(NotifyJob.status == JobStatus.RUNNING).limit(1)
    if await session.scalar(running) is None:
        return 0
    result = await session.execute(
        update(NotifyJob)
        .where(NotifyJob.status == JobStatus.RUNNING)
        .where(~open_rows)
        .values(status=JobStatus.DONE, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- the queue ----------------------------------------------------------------------


async def claim(
    session: AsyncSession,
    channel: Channel,
    worker: str,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[Claimed]:
    due = (
        select(MessageDelivery.id)
        .join(Campaign, Campaign.id == MessageDelivery.campaign_id)
        .where(MessageDelivery.channel == channel)
        .where(MessageDelivery.status.in_(_OPEN))
        .where(MessageDelivery.next_attempt_at <= now)
        .where(Campaign.status != CampaignStatus.PAUSED)
        .order_by(MessageDelivery.next_attempt_at)
        .limit(limit)
    )
    # a plain read first: an idle queue costs no write (SQLite has one writer)
    if await session.scalar(due.limit(1)) is None:
        return []
    due = due.with_for_update(of=MessageDelivery, skip_locked=True)
    ids = list(
        await session.scalars(
            update(MessageDelivery)
            .where(MessageDelivery.id.in_(due.scalar_subquery()))
            .values(
                status=DeliveryStatus.SENDING,
                locked_by=worker,
                next_attempt_at=lease_until,
            )
            .returning(MessageDelivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not ids:
        return []
    rows = await session.execute(
        select(
            MessageDelivery.id,
            MessageDelivery.idempotency_key,
            MessageDelivery.address,
            MessageDelivery.subject,
            MessageDelivery.text,
            MessageDelivery.attempts,
            Campaign.status,
            Contact.timezone,
            Campaign.window_start,
            Campaign.window_end,
            Campaign.weekdays,
            Campaign.starts_at,
            Campaign.ends_at,
        )
        .join(Campaign, Campaign.id == MessageDelivery.campaign_id)
        .join(Contact, Contact.id == MessageDelivery.contact_id)
        .where(MessageDelivery.id.in_(ids))
        .order_by(MessageDelivery.id)
    )
    return [
        Claimed(
            id=r[0],
            idempotency_key=r[1],
            address=r[2],
            subject=r[3],
            text=r[4],
            attempts=r[5],
            campaign_status=r[6],
            timezone=r[7],
            window_start=r[8],
            window_end=r[9],
            weekdays=list(r[10] or []),
            starts_at=r[11],
            ends_at=r[12],
        )
        for r in rows
    ]


async def renew(
    session: AsyncSession, worker: str, ids: Sequence[int], lease_until: datetime
) -> None:
    await session.execute(
        update(MessageDelivery)
        .where(MessageDelivery.id.in_(list(ids)))
        .where(MessageDelivery.status == DeliveryStatus.SENDING)
        .where(MessageDelivery.locked_by == worker)
        .values(next_attempt_at=lease_until)
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, worker: str, now: datetime) -> int:
    """A worker stopping gives back what it holds: due again at once (with the same keys)."""
    result = await session.execute(
        update(MessageDelivery)
        .where(MessageDelivery.status == DeliveryStatus.SENDING)
        .where(MessageDelivery.locked_by == worker)
        .values(status=DeliveryStatus.QUEUED, locked_by=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def finish(
    session: AsyncSession, worker: str, outcomes: Sequence[Outcome], now: datetime
) -> None:
    """Store a batch of results. Only rows this worker still holds change state (a row
    whose lease ran out and was taken by another worker is that worker's now); a delivery
    report that arrived before the worker's own write keeps its verdict."""
    held = and_(
        _D.c.id == bindparam("b_id"),
        _D.c.status == DeliveryStatus.SENDING.value,
        _D.c.locked_by == worker,
    )
    state_rows: list[dict[str, Any]] = []
    sent_rows: list[dict[str, Any]] = []
    for o in outcomes:
        final = o.status in (
            DeliveryStatus.DELIVERED,
            DeliveryStatus.FAILED,
            DeliveryStatus.SKIPPED,
        )
        sent = o.status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
        state_rows.append(
            {
                "b_id": o.id,
                "b_status": o.status.value,
                "b_outcome": o.outcome.value if o.outcome is not None else None,
                "b_reason": o.reason,
                "b_tried": 1 if o.counts_attempt else 0,
                "b_next": o.next_attempt_at or now,
                "b_finished": now if final else None,
            }
        )
        if sent:
            sent_rows.append({"b_id": o.id, "b_gw": o.gateway_message_id or None, "b_at": now})
    if state_rows:
        await session.execute(
            _D.update()
            .where(held)
            .values(
                status=bindparam("b_status"),
                outcome=bindparam("b_outcome"),
                reason=bindparam("b_reason"),
                attempts=_D.c.attempts + bindparam("b_tried"),
                next_attempt_at=bindparam("b_next", type_=MessageDelivery.next_attempt_at.type),
                finished_at=bindparam("b_finished", type_=MessageDelivery.finished_at.type),
                locked_by=None,
            ),
            state_rows,
        )
    if sent_rows:
        # also when a report got there first (the row is delivered or failed already)
        await session.execute(
            _D.update()
            .where(_D.c.id == bindparam("b_id"))
            .where(_D.c.sent_at.is_(None))
            .values(
                sent_at=bindparam("b_at", type_=MessageDelivery.sent_at.type),
                gateway_message_id=func.coalesce(bindparam("b_gw"), _D.c.gateway_message_id),
            ),
            sent_rows,
        )


# --- delivery reports -----------------------------------------------------------------


async def apply_report(
    session: AsyncSession,
    *,
    gateway_message_id: str,
    idempotency_key: str,
    status: ReportStatus,
    reason: str,
    now: datetime,
) -> ReportResult:
    match = []
    if idempotency_key:
        match.append(MessageDelivery.idempotency_key == idempotency_key)
    if gateway_message_id:
        match.append(MessageDelivery.gateway_message_id == gateway_message_id)
    delivered = status is ReportStatus.DELIVERED
    values: dict[str, Any] = {
        "status": DeliveryStatus.DELIVERED if delivered else DeliveryStatus.FAILED,
        "outcome": DeliveryOutcome.POSITIVE if delivered else DeliveryOutcome.NEGATIVE,
        "finished_at": now,
        # a report for a message still `sending` means the gateway took it: the worker's
        # own write will then only add the time and the gateway's id
        "locked_by": None,
    }
    if not delivered:
        values["reason"] = reason or "шлюз сообщил: не доставлено"
    if gateway_message_id:
        values["gateway_message_id"] = func.coalesce(
            MessageDelivery.gateway_message_id, gateway_message_id
        )
    which = and_(MessageDelivery.channel == Channel.SMS, or_(*match))
    # one conditional UPDATE: a repeated report (or two at once) changes a row once
    changed = await session.scalar(
        update(MessageDelivery)
        .where(which)
        .where(MessageDelivery.status.in_([s.value for s in REPORTABLE_STATUSES]))
        .values(**values)
        .returning(MessageDelivery.id)
        .execution_options(synchronize_session=False)
    )
    if changed is not None:
        return ReportResult(applied=True, known=True)
    known = await session.scalar(select(MessageDelivery.id).where(which).limit(1))
    return ReportResult(applied=False, known=known is not None)


# --- progress ---------------------------------------------------------------------------


async def progress(
    session: AsyncSession, campaign_id: int, *, since: datetime
) -> list[ChannelProgress]:
    jobs = list(
        await session.scalars(
            select(NotifyJob).where(NotifyJob.campaign_id == campaign_id).order_by(NotifyJob.id)
        )
    )
    if not jobs:
        return []
    result: dict[Channel, ChannelProgress] = {
        j.channel: ChannelProgress(
            j.channel,
            j.id,
            j.status,
            j.contacts_total,
            started_at=j.created_at,
            finished_at=j.finished_at,
        )
        for j in jobs
    }
    counts = await session.execute(
        select(
            MessageDelivery.channel,
            MessageDelivery.status,
            MessageDelivery.outcome,
            func.count(),
        )
        .where(MessageDelivery.campaign_id == campaign_id)
        .group_by(MessageDelivery.channel, MessageDelivery.status, MessageDelivery.outcome)
    )
    for channel, status, outcome, n in counts:
        p = result.get(channel)
        if p is None:
            continue
        p.by_status[status] = p.by_status.get(status, 0) + int(n)
        if outcome is DeliveryOutcome.POSITIVE:
            p.positive += int(n)
        elif outcome is DeliveryOutcome.NEGATIVE:
            p.negative += int(n)
    minutes: dict[tuple[Channel, datetime], dict[str, int]] = {}
    dialect = session.get_bind().dialect.name
    for column, statuses, label in (
        (MessageDelivery.sent_at, None, "sent"),
        (MessageDelivery.finished_at, [DeliveryStatus.DELIVERED], "delivered"),
        (MessageDelivery.finished_at, [DeliveryStatus.FAILED], "failed"),
    ):
        minute = _minute(column, dialect)
        stmt = (
            select(MessageDelivery.channel, minute, func.count())
            .where(MessageDelivery.campaign_id == campaign_id)
            .where(column >= since)
            .group_by(MessageDelivery.channel, minute)
        )
        if statuses is not None:
            stmt = stmt.where(MessageDelivery.status.in_(statuses))
        for channel, at, n in await session.execute(stmt):
            moment = _as_minute(at)
            minutes.setdefault((channel, moment), {})[label] = int(n)
    for (channel, moment), figures in sorted(minutes.items(), key=lambda kv: kv[0][1]):
        p = result.get(channel)
        if p is not None:
            p.per_minute.append(MinuteFigures(moment, **figures))
    return list(result.values())


async def deliveries(
    session: AsyncSession,
    campaign_id: int,
    *,
    channel: Channel | None,
    status: DeliveryStatus | None,
    limit: int,
    offset: int,
) -> list[DeliveryRow]:
    stmt = select(MessageDelivery).where(MessageDelivery.campaign_id == campaign_id)
    if channel is not None:
        stmt = stmt.where(MessageDelivery.channel == channel)
    if status is not None:
        stmt = stmt.where(MessageDelivery.status == status)
    stmt = stmt.order_by(MessageDelivery.id).limit(limit).offset(offset)
    return [
        DeliveryRow(
            d.id,
            d.contact_id,
            d.channel,
            d.address,
            d.status,
            d.outcome,
            d.reason,
            d.attempts,
            d.gateway_message_id,
            d.sent_at,
            d.finished_at,
        )
        for d in await session.scalars(stmt)
    ]


def _minute(column: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.date_trunc("minute", column)
    return func.strftime("%Y-%m-%d %H:%M:00", column)


def _as_minute(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
