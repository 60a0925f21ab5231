"""The IVR's self-service against the database (SQLite and PostgreSQL): who is calling,
readings, applications, outages and amounts worded for the voice, callbacks and messages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import Appeal, GridApplication, MeterReading
from callcenter.db.repositories import calls as calls_repo
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import localities as localities_repo
from callcenter.db.repositories import outages as outages_repo
from callcenter.domain.appeals import AppealChannel, AppealKind
from callcenter.domain.calls import Direction
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.grid_applications import GridApplicationStatus
from callcenter.domain.ivr import (
    ApplicationStatus,
    Balance,
    CallerInfo,
    CreateCallback,
    Digits,
    Outages,
    Said,
    SaveReading,
)
from callcenter.domain.meter_readings import ReadingSource
from callcenter.domain.outages import OutageKind
from callcenter.inbound.self_service import CallContext, IvrSelfService, support_line_of

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)  # 12:30 in Tver
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def service(session_factory: Sessions, tmp_path: Path) -> IvrSelfService:
    return IvrSelfService(session_factory, clock=lambda: NOW, recordings_dir=tmp_path)


async def add_customers(sessions: Sessions) -> tuple[int, int, int]:
    async with sessions() as session:
        tver = await localities_repo.create(session, name="Тверь", region="Тверская область")
        rzhev = await localities_repo.create(session, name="Ржев", region="Тверская область")
        one = await customers_repo.create(
            session,
            account_number="6901000001",
            full_name="Соколова Анна",
            category=CustomerCategory.INDIVIDUAL,
            phones=["+79157001122", "+74822000001"],
            locality_id=tver.id,
            balance_kopecks=184_550,
        )
        await customers_repo.create(
            session,
            account_number="6901000002",
            full_name="Школа № 1",
            category=CustomerCategory.SOCIAL_FACILITY,
            phones=["+74822000001"],
            locality_id=tver.id,
            balance_kopecks=-1000,
        )
        await customers_repo.create(
            session,
            account_number="6902000003",
            full_name="Петров Пётр",
            category=CustomerCategory.INDIVIDUAL,
            phones=["+74822000009"],
            locality_id=rzhev.id,
        )
        await session.commit()
        return one.id, tver.id, rzhev.id


def context(caller: CallerInfo | None = None, call_id: uuid.UUID | None = None) -> CallContext:
    return CallContext((call_id or uuid.uuid4(),), caller or CallerInfo(), "2>1>1", NOW)


async def test_callers_are_known_by_their_number(
    service: IvrSelfService, session_factory: Sessions
) -> None:
    customer_id, tver_id, _ = await add_customers(session_factory)
    known = await service.identify("89157001122")  # as a trunk may send it
    assert known == CallerInfo(
        phone="+79157001122",
        customer_id=customer_id,
        account="6901000001",
        locality_id=tver_id,
        locality_name="Тверь",
    )
    shared = await service.identify("+74822000001")  # two customers: only the locality
    assert shared == CallerInfo(phone="+74822000001", locality_id=tver_id, locality_name="Тверь")
    assert await service.identify("+79990000000") == CallerInfo(phone="+79990000000")
    assert await service.identify("") == CallerInfo()
    school = await service.find_account("6901000002")
    assert school.ok
    assert school.caller is not None
    assert school.caller.social_facility
    assert not (await service.find_account("0000")).ok


async def test_a_reading_is_stored_and_linked_to_its_call_once_the_call_exists(
    service: IvrSelfService, session_factory: Sessions
) -> None:
    customer_id, _, _ = await add_customers(session_factory)
    async with session_factory() as session:
        call = await calls_repo.upsert(
            session,
            "1741944600.1",
            id=uuid.uuid4(),
            direction=Direction.INBOUND,
            caller_number="+79157001122",
            started_at=NOW,
        )
        await session.commit()
        call_id = call.id
    request = SaveReading("6901000001", customer_id, "012345", ReadingSource.VOICE)
    assert (await service.save_reading(context(call_id=call_id), request)).ok
    assert (await service.save_reading(context(), request)).ok  # no call record (yet)
    async with session_factory() as session:
        rows = list(await session.scalars(select(MeterReading).order_by(MeterReading.id)))
    assert [(r.value, r.source, r.customer_id, r.call_id) for r in rows] == [
        ("012345", ReadingSource.VOICE, customer_id, call_id),
        ("012345", ReadingSource.VOICE, customer_id, None),
    ]
    assert rows[0].taken_at == NOW


async def test_application_status_is_worded(
    service: IvrSelfService, session_factory: Sessions
) -> None:
    async with session_factory() as session:
        session.add(
            GridApplication(
                number="2500101",
                status=GridApplicationStatus.CONTRACT_SENT,
                status_text_ru="",
                submitted_at=NOW - timedelta(days=9),
                updated_at=NOW - timedelta(days=2),
            )
        )
        await session.commit()
    result = await service.application_status(ApplicationStatus("2500101"))
    assert result.ok
    assert dict(result.fields) == {
        "number": Digits("2500101"),
        "status": Said("Договор направлен заявителю на подписание"),
        "updated": Said("двенадцатое марта"),
    }
    assert not (await service.application_status(ApplicationStatus("1"))).ok


async def test_outages_are_worded_in_local_time_and_counted(
    service: IvrSelfService, session_factory: Sessions
) -> None:
    _, tver_id, rzhev_id = await add_customers(session_factory)
    async with session_factory() as session:
        await outages_repo.add(
            session,
            locality_id=tver_id,
            kind=OutageKind.EMERGENCY,
            starts_at=datetime(2025, 3, 14, 8, 15, tzinfo=UTC),  # 11:15 in Tver, today
        )
        await outages_repo.add(
            session,
            locality_id=tver_id,
            kind=OutageKind.PLANNED,
            starts_at=datetime(2025, 3, 15, 7, 0, tzinfo=UTC),
            ends_at=datetime(2025, 3, 15, 13, 0, tzinfo=UTC),
        )
        await outages_repo.add(
            session,
            locality_id=tver_id,
            kind=OutageKind.PLANNED,
            starts_at=datetime(2025, 3, 17, 7, 0, tzinfo=UTC),
            ends_at=datetime(2025, 3, 18, 6, 0, tzinfo=UTC),
        )
        await session.commit()
    result = await service.outages(Outages(tver_id, "Тверь", 2))
    assert (result.ok, result.variant) == (True, "found")
    fields = dict(result.fields)
    assert fields["count"] == Said("три отключения")
    assert fields["outages"] == Said(
        "аварийное отключение с одиннадцати часов пятнадцати минут, время восстановления "
        "уточняется; плановое отключение пятнадцатое марта с десяти часов до шестнадцати "
        "часов; и ещё одно отключение"
    )
    quiet = await service.outages(Outages(None, "Ржев", 3))
    assert (quiet.ok, quiet.variant, dict(quiet.fields)["locality"]) == (True, "none", Said("Ржев"))
    assert rzhev_id
    assert not (await service.outages(Outages(None, "Атлантида", 3))).ok


async def test_amounts_owed_are_worded(service: IvrSelfService, session_factory: Sessions) -> None:
    await add_customers(session_factory)
    owes = await service.balance(Balance("6901000001"))
    assert (owes.variant, dict(owes.fields)["amount"]) == (
        "debt",
        Said("одна тысяча восемьсот сорок пять рублей пятьдесят копеек"),
    )
    overpaid = await service.balance(Balance("6901000002"))
    assert overpaid.variant == "no_debt"
    assert not (await service.balance(Balance("nope"))).ok


async def test_a_callback_is_an_appeal_due_in_30_minutes(
    service: IvrSelfService, session_factory: Sessions
) -> None:
    customer_id, _, _ = await add_customers(session_factory)
    caller = CallerInfo(phone="+79157001122", customer_id=customer_id)
    call = context(caller)
    first = await service.create_callback(call, CreateCallback("89157001122", "line1"))
    second = await service.create_callback(call, CreateCallback("89157001122", "line1"))
    numbers = [dict(r.fields)["number"] for r in (first, second)]
    assert numbers == [Digits("20250314-0001"), Digits("20250314-0002")]
    async with session_factory() as session:
        appeal = (await session.scalars(select(Appeal).order_by(Appeal.number))).first()
    assert appeal is not None
    assert (appeal.channel, appeal.kind, appeal.customer_id) == (
        AppealChannel.IVR_CALLBACK,
        AppealKind.CALLBACK,
        customer_id,
    )
    assert appeal.answer_due_at == NOW + timedelta(minutes=30)
    assert appeal.handoff_due_at is None
    assert appeal.params == {
        "call_uuid": str(call.call_id),
        "ivr_path": "2>1>1",
        "callback_phone": "+79157001122",
        "queue": "line1",
    }


async def test_a_voice_message_without_a_call_record_is_filed_with_its_file(
    service: IvrSelfService, session_factory: Sessions, tmp_path: Path
) -> None:
    call = context(CallerInfo(phone="+79990000001"))
    target = await service.voicemail_target(call)
    assert not target.filed
    assert target.path.startswith(str(tmp_path / "ivr-voicemail" / "2025" / "03" / "14"))
    assert not (await service.file_voicemail(call, target, queue="line2", seconds=0.0)).ok
    saved = await service.file_voicemail(call, target, queue="line2", seconds=75.4)
    assert saved.ok
    async with session_factory() as session:
        (appeal,) = list(await session.scalars(select(Appeal)))
    assert appeal.channel is AppealChannel.IVR_VOICEMAIL
    assert appeal.text == "Голосовое сообщение от +79990000001, 1 мин 15 с"
    assert appeal.params["voicemail_file"] == f"{target.path}.wav"
    assert appeal.params["support_line"] == 2
    assert appeal.answer_due_at is not None


def test_support_lines_of_queues() -> None:
    assert [support_line_of(q) for q in ("line1", "line2", "branch-overflow", "lineX")] == [
        1,
        2,
        None,
        None,
    ]
