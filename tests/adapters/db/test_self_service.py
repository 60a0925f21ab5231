"""Outages, grid-connection applications and meter readings: what the IVR reads and writes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import GridApplication
from callcenter.db.repositories import calls as calls_repo
from callcenter.db.repositories import grid_applications as grid_repo
from callcenter.db.repositories import localities as localities_repo
from callcenter.db.repositories import meter_readings as readings_repo
from callcenter.db.repositories import outages as outages_repo
from callcenter.domain.calls import Direction
from callcenter.domain.grid_applications import GridApplicationStatus
from callcenter.domain.meter_readings import ReadingSource
from callcenter.domain.outages import OutageKind
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def test_outages_for_a_locality_are_current_and_upcoming_ones(
    session_factory: SessionFactory,
) -> None:
    hour = timedelta(hours=1)
    async with session_factory.begin() as session:
        tver = await localities_repo.create(session, name="Тверь", region="Тверская область")
        rzhev = await localities_repo.create(session, name="Ржев", region="Тверская область")
        outages = {
            "over": (tver.id, OutageKind.PLANNED, NOW - 5 * hour, NOW - hour),
            "now": (tver.id, OutageKind.EMERGENCY, NOW - hour, NOW + 2 * hour),
            "open-ended": (tver.id, OutageKind.EMERGENCY, NOW - 30 * hour, None),
            "tomorrow": (tver.id, OutageKind.PLANNED, NOW + 24 * hour, NOW + 30 * hour),
            "next-month": (tver.id, OutageKind.PLANNED, NOW + 30 * 24 * hour, None),
            "elsewhere": (rzhev.id, OutageKind.EMERGENCY, NOW - hour, NOW + hour),
        }
        for reason, (locality_id, kind, starts_at, ends_at) in outages.items():
            await outages_repo.add(
                session,
                locality_id=locality_id,
                kind=kind,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                description_ru="ул. Советская",
            )
    async with session_factory() as session:
        found = await outages_repo.for_locality(session, tver.id, at=NOW)
        within_day = await outages_repo.for_locality(
            session, tver.id, at=NOW, horizon=timedelta(hours=12)
        )
    assert [o.reason for o in found] == ["open-ended", "now", "tomorrow"]
    assert [o.reason for o in within_day] == ["open-ended", "now"]
    assert found[1].kind is OutageKind.EMERGENCY
    assert found[1].ends_at == NOW + 2 * hour


async def test_grid_application_is_found_by_its_number(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        session.add(
            GridApplication(
                number="2500123",
                status=GridApplicationStatus.CONTRACT_SENT,
                status_text_ru="Договор направлен заявителю",
                submitted_at=NOW - timedelta(days=20),
            )
        )
    async with session_factory() as session:
        found = await grid_repo.by_number(session, "2500123")
        missing = await grid_repo.by_number(session, "2500999")
    assert found is not None
    assert found.status is GridApplicationStatus.CONTRACT_SENT
    assert found.status_text_ru == "Договор направлен заявителю"
    assert missing is None


async def test_meter_readings_are_kept_verbatim_and_latest_is_found(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        call = await calls_repo.upsert(
            session,
            "1700000000.1",
            id=uuid.uuid4(),
            direction=Direction.INBOUND,
            caller_number="+79157001122",
            started_at=NOW,
        )
        await readings_repo.add(
            session,
            account_number="6901000001",
            value="012345",
            source=ReadingSource.KEYPAD,
            taken_at=NOW - timedelta(days=30),
        )
        await readings_repo.add(
            session,
            account_number="6901000001",
            value="012480.5",
            source=ReadingSource.VOICE,
            taken_at=NOW,
            call_id=call.id,
        )
    async with session_factory() as session:
        latest = await readings_repo.latest_for_account(session, "6901000001")
        none = await readings_repo.latest_for_account(session, "6901000002")
    assert latest is not None
    assert (latest.value, latest.source, latest.call_id) == (
        "012480.5",
        ReadingSource.VOICE,
        call.id,
    )
    assert none is None
