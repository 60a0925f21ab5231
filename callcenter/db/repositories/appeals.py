"""Appeals: registration, status changes with history, lookups, and the topic classifier."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Appeal, AppealStatusHistory, AppealTopic
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus

# statuses after which no deadline applies any more
_FINISHED = (AppealStatus.ANSWERED, AppealStatus.CLOSED)


async def get(session: AsyncSession, appeal_id: uuid.UUID) -> Appeal | None:
    return await session.get(Appeal, appeal_id)


async def get_by_number(session: AsyncSession, number: str) -> Appeal | None:
    result = await session.scalars(select(Appeal).where(Appeal.number == number))
    return result.one_or_none()


async def next_number(session: AsyncSession, day: date) -> str:
    """The next free number of the day, e.g. 20250114-0007.

    Two registrations racing for the same number make the second one fail on the unique
    constraint; the caller retries with a fresh number.
    """
    prefix = f"{day:%Y%m%d}-"
    taken = await session.scalar(
        select(func.count()).select_from(Appeal).where(Appeal.number.startswith(prefix))
    )
    return f"{prefix}{(taken or 0) + 1:04d}"


async def create(
    session: AsyncSession,
    *,
    number: str,
    channel: AppealChannel,
    created_at: datetime,
    kind: AppealKind = AppealKind.QUESTION,
    text: str = "",
    customer_id: int | None = None,
    call_id: uuid.UUID | None = None,
    topic_id: int | None = None,
    operator_id: int | None = None,
    handoff_due_at: datetime | None = None,
    answer_due_at: datetime | None = None,
    params: Mapping[str, Any] | None = None,
    registered_by: int | None = None,
) -> Appeal:
    """Register an appeal; its history starts with the registration."""
    appeal = Appeal(
        number=number,
        channel=channel,
        kind=kind,
        text=text,
        customer_id=customer_id,
        call_id=call_id,
        topic_id=topic_id,
        operator_id=operator_id,
        status=AppealStatus.REGISTERED,
        created_at=created_at,
        handoff_due_at=handoff_due_at,
        answer_due_at=answer_due_at,
        params=dict(params or {}),
    )
    session.add(appeal)
    await session.flush()
    session.add(
        AppealStatusHistory(
            appeal_id=appeal.id,
            from_status=None,
            to_status=AppealStatus.REGISTERED,
            changed_by=registered_by,
            at=created_at,
        )
    )
    await session.flush()
    return appeal


async def change_status(
    session: AsyncSession,
    appeal: Appeal,
    to_status: AppealStatus,
    *,
    at: datetime,
    changed_by: int | None = None,
    comment: str = "",
) -> AppealStatusHistory:
    """Move the appeal to `to_status` and record the transition (rules are the domain's)."""
    entry = AppealStatusHistory(
        appeal_id=appeal.id,
        from_status=appeal.status,
        to_status=to_status,
        changed_by=changed_by,
        at=at,
        comment=comment,
    )
    appeal.status = to_status
    if to_status is AppealStatus.CLOSED:
        appeal.closed_at = at
    session.add(entry)
    await session.flush()
    return entry


async def history(session: AsyncSession, appeal_id: uuid.UUID) -> list[AppealStatusHistory]:
    stmt = (
        select(AppealStatusHistory)
        .where(AppealStatusHistory.appeal_id == appeal_id)
        .order_by(AppealStatusHistory.at, AppealStatusHistory.id)
    )
    return list(await session.scalars(stmt))


async def list_for_customer(
    session: AsyncSession, customer_id: int, *, limit: int = 20
) -> list[Appeal]:
    """The customer's appeals, newest first (the operator's screen-pop history)."""
    stmt = (
        select(Appeal)
        .where(Appeal.customer_id == customer_id)
        .order_by(Appeal.created_at.desc())
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def open_due_before(session: AsyncSession, moment: datetime) -> list[Appeal]:
    """Unanswered appeals whose answer deadline (extended if so) falls before `moment`."""
    deadline = func.coalesce(Appeal.extended_until, Appeal.answer_due_at)
    stmt = (
        select(Appeal)
        .where(Appeal.status.not_in(_FINISHED), deadline.is_not(None), deadline < moment)
        .order_by(deadline)
    )
    return list(await session.scalars(stmt))


async def topics(session: AsyncSession) -> list[AppealTopic]:
    return list(await session.scalars(select(AppealTopic).order_by(AppealTopic.code)))


async def topic_by_code(session: AsyncSession, code: str) -> AppealTopic | None:
    result = await session.scalars(select(AppealTopic).where(AppealTopic.code == code))
    return result.one_or_none()


async def add_topic(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    parent_id: int | None = None,
    is_complaint: bool = False,
) -> AppealTopic:
    topic = AppealTopic(code=code, name=name, parent_id=parent_id, is_complaint=is_complaint)
    session.add(topic)
    await session.flush()
    return topic


async def get_topic(session: AsyncSession, topic_id: int) -> AppealTopic | None:
    return await session.get(AppealTopic, topic_id)
