from __future__ import annotations

from collections import Counter

import phonenumbers
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.base import Base
from callcenter.db.models import Customer, CustomerPhone, Operator, Survey
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import grid_applications as grid_repo
from callcenter.db.repositories import knowledge_base as kb_repo
from callcenter.db.repositories import localities as localities_repo
from callcenter.db.repositories import outages as outages_repo
from callcenter.db.repositories import queues as queues_repo
from callcenter.db.repositories import users as users_repo
from callcenter.db.seed import (
    DEMO_CUSTOMER_ACCOUNT,
    DEMO_CUSTOMER_PHONE,
    DemoDataPresentError,
    seed_demo,
)
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.roles import Role
from callcenter.passwords import verify_password
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def _count(session: AsyncSession, model: type[object]) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_demo_data_is_realistic_and_usable(session_factory: SessionFactory) -> None:
    report = await seed_demo(session_factory, now=NOW, if_empty=True)
    assert not report.skipped
    assert report.customers == 60
    assert "60 customers" in str(report)

    async with session_factory() as session:
        assert await _count(session, Customer) == report.customers
        localities = await localities_repo.list_all(session)
        assert len(localities) >= 6
        assert {loc.region for loc in localities} == {"Тверская область"}

        customers = list(await session.scalars(select(Customer)))
        assert {c.category for c in customers} == set(CustomerCategory)
        individuals = [c for c in customers if c.category is CustomerCategory.INDIVIDUAL]
        assert all(len(c.full_name.split()) == 3 for c in individuals)  # surname name patronymic
        assert any(c.balance_kopecks > 0 for c in customers)
        assert len({c.account_number for c in customers}) == len(customers)
        for phone in await session.scalars(select(CustomerPhone.phone)):
            parsed = phonenumbers.parse(phone, None)
            assert phonenumbers.is_valid_number(parsed)
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone
            assert phone.startswith("+7")

        # the known demo caller is recognised by ANI
        [known] = await customers_repo.find_by_phone(session, DEMO_CUSTOMER_PHONE)
        assert known.account_number == DEMO_CUSTOMER_ACCOUNT

        lines = Counter(o.support_line for o in await session.scalars(select(Operator)))
        assert lines[1] >= 4
        assert lines[2] >= 3
        assert lines[3] >= 2
        operator101 = await users_repo.get_by_username(session, "operator101")
        assert operator101 is not None
        assert operator101.role is Role.OPERATOR
        assert operator101.operator_id is not None
        assert verify_password("operator", operator101.password_hash)
        supervisor = await users_repo.get_by_username(session, "supervisor")
        assert supervisor is not None
        assert supervisor.role is Role.SUPERVISOR
        assert verify_password("supervisor", supervisor.password_hash)

        queues = {q.name: q for q in await queues_repo.list_all(session)}
        assert set(queues) == {"line1", "line2", "line3", "branch-overflow"}
        assert all(q.members for q in queues.values())
        assert queues["branch-overflow"].is_overflow

        current = [
            outage
            for loc in localities
            for outage in await outages_repo.for_locality(session, loc.id, at=NOW)
        ]
        assert {o.kind.value for o in current} == {"planned", "emergency"}

        application = await grid_repo.by_number(session, "2500101")
        assert application is not None
        assert application.status_text_ru

        assert len(await kb_repo.search(session, "", limit=100)) >= 15
        assert await kb_repo.search(session, "присоединение")
        survey = (await session.scalars(select(Survey))).one()
        assert len(survey.questions) == 3


async def test_seeding_again_with_if_empty_changes_nothing(
    session_factory: SessionFactory,
) -> None:
    await seed_demo(session_factory, now=NOW, if_empty=True)
    again = await seed_demo(session_factory, now=NOW, if_empty=True)
    assert again.skipped
    async with session_factory() as session:
        assert await _count(session, Customer) == 60
    with pytest.raises(DemoDataPresentError):
        await seed_demo(session_factory, now=NOW, if_empty=False)
    async with session_factory() as session:
        assert await _count(session, Customer) == 60


async def test_if_empty_leaves_a_database_with_customers_alone(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        await customers_repo.create(
            session, account_number="1", full_name="Реальный", category=CustomerCategory.INDIVIDUAL
        )
    assert (await seed_demo(session_factory, now=NOW, if_empty=True)).skipped
    async with session_factory() as session:
        assert await _count(session, Customer) == 1
        assert await localities_repo.list_all(session) == []


async def _snapshot(session_factory: SessionFactory) -> list[tuple[str, str, int, list[str]]]:
    async with session_factory() as session:
        customers = await session.scalars(select(Customer).order_by(Customer.account_number))
        return [
            (c.account_number, c.full_name, c.balance_kopecks, [p.phone for p in c.phones])
            for c in customers
        ]


async def test_the_same_moment_gives_the_same_demo_data(session_factory: SessionFactory) -> None:
    await seed_demo(session_factory, now=NOW, if_empty=False)
    first = await _snapshot(session_factory)
    async with session_factory.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            await session.execute(delete(table))
    await seed_demo(session_factory, now=NOW, if_empty=False)
    assert await _snapshot(session_factory) == first
