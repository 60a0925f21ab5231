"""Meter readings taken in the IVR or by an operator."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import MeterReading
from callcenter.domain.meter_readings import ReadingSource


async def add(
    session: AsyncSession,
    *,
    account_number: str,
    value: str,
    source: ReadingSource,
    taken_at: datetime,
    customer_id: int | None = None,
    call_id: uuid.UUID | None = None,
) -> MeterReading:
    reading = MeterReading(
        account_number=account_number,
        value=value,
        source=source,
        taken_at=taken_at,
        customer_id=customer_id,
        call_id=call_id,
    )
    session.add(reading)
    await session.flush()
    return reading


async def latest_for_account(session: AsyncSession, account_number: str) -> MeterReading | None:
    result = await session.scalars(
        select(MeterReading)
        .where(MeterReading.account_number == account_number)
        .order_by(MeterReading.taken_at.desc(), MeterReading.id.desc())
        .limit(1)
    )
    return result.first()
