from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import localities as localities_repo
from callcenter.domain.customers import CustomerCategory

SessionFactory = async_sessionmaker[AsyncSession]


async def test_caller_number_finds_the_customer_with_locality_and_phones(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        tver = await localities_repo.create(session, name="Тверь", region="Тверская область")
        await customers_repo.create(
            session,
            account_number="6901000001",
            full_name="Соколова Анна Михайловна",
            category=CustomerCategory.INDIVIDUAL,
            phones=["+79157001122", "+74822345678", "+79157001122"],
            address="г. Тверь, ул. Советская, д. 15, кв. 42",
            locality_id=tver.id,
            balance_kopecks=184_550,
        )
    async with session_factory() as session:
        found = await customers_repo.find_by_phone(session, "+74822345678")
        assert await customers_repo.count(session) == 1
    # everything the screen-pop shows is loaded, even after the session is closed
    assert len(found) == 1
    customer = found[0]
    assert customer.full_name == "Соколова Анна Михайловна"
    assert customer.category is CustomerCategory.INDIVIDUAL
    assert customer.balance_kopecks == 184_550
    assert customer.locality is not None
    assert customer.locality.name == "Тверь"
    assert customer.locality.timezone == "Europe/Moscow"
    assert [p.phone for p in customer.phones] == ["+79157001122", "+74822345678"]


async def test_a_shared_number_finds_every_customer_and_unknown_finds_none(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        for account, name in [("1", "Иванов Иван Иванович"), ("2", "Иванова Мария Петровна")]:
            await customers_repo.create(
                session,
                account_number=account,
                full_name=name,
                category=CustomerCategory.INDIVIDUAL,
                phones=["+74822111111"],
            )
    async with session_factory() as session:
        shared = await customers_repo.find_by_phone(session, "+74822111111")
        unknown = await customers_repo.find_by_phone(session, "+74822999999")
    assert [c.account_number for c in shared] == ["1", "2"]
    assert unknown == []


async def test_account_number_lookup(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        created = await customers_repo.create(
            session,
            account_number="6902000007",
            full_name="ГБУЗ «Ржевская ЦРБ»",
            category=CustomerCategory.SOCIAL_FACILITY,
        )
    async with session_factory() as session:
        found = await customers_repo.find_by_account(session, "6902000007")
        missing = await customers_repo.find_by_account(session, "0000000000")
        by_id = await customers_repo.get(session, created.id)
    assert found is not None
    assert found.category is CustomerCategory.SOCIAL_FACILITY
    assert found.locality is None
    assert found.phones == []
    assert missing is None
    assert by_id is not None
    assert by_id.account_number == "6902000007"
