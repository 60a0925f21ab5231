from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import appeals as appeals_repo
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import users as users_repo
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.roles import Role
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def test_numbers_count_up_within_a_day(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        first = await appeals_repo.next_number(session, date(2025, 3, 14))
        await appeals_repo.create(
            session, number=first, channel=AppealChannel.PHONE, created_at=NOW
        )
        second = await appeals_repo.next_number(session, date(2025, 3, 14))
        other_day = await appeals_repo.next_number(session, date(2025, 3, 15))
    assert (first, second, other_day) == ("20250314-0001", "20250314-0002", "20250315-0001")


async def test_registration_and_status_changes_are_recorded(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        user = await users_repo.create(
            session, username="smirnova", password_hash="h", role=Role.OPERATOR
        )
        topic = await appeals_repo.add_topic(
            session, code="complaint", name="Жалобы", is_complaint=True
        )
        appeal = await appeals_repo.create(
            session,
            number="20250314-0001",
            channel=AppealChannel.PHONE,
            kind=AppealKind.COMPLAINT,
            created_at=NOW,
            topic_id=topic.id,
            text="Нет света третий день",
            params={"адрес": "ул. Советская, 15", "сценарий": "авария"},
            answer_due_at=NOW + timedelta(days=14),
            registered_by=user.id,
        )
        await appeals_repo.change_status(
            session,
            appeal,
            AppealStatus.HANDED_OFF,
            at=NOW + timedelta(hours=2),
            changed_by=user.id,
            comment="передано в РЭС",
        )
        await appeals_repo.change_status(
            session, appeal, AppealStatus.CLOSED, at=NOW + timedelta(days=3)
        )
    async with session_factory() as session:
        stored = await appeals_repo.get_by_number(session, "20250314-0001")
        history = await appeals_repo.history(session, appeal.id)
        by_code = await appeals_repo.topic_by_code(session, "complaint")
    assert stored is not None
    assert stored.status is AppealStatus.CLOSED
    assert stored.closed_at == NOW + timedelta(days=3)
    assert stored.kind is AppealKind.COMPLAINT
    assert stored.params == {"адрес": "ул. Советская, 15", "сценарий": "авария"}
    assert [(h.from_status, h.to_status, h.changed_by, h.comment) for h in history] == [
        (None, AppealStatus.REGISTERED, user.id, ""),
        (AppealStatus.REGISTERED, AppealStatus.HANDED_OFF, user.id, "передано в РЭС"),
        (AppealStatus.HANDED_OFF, AppealStatus.CLOSED, None, ""),
    ]
    assert by_code is not None
    assert by_code.is_complaint


async def test_customer_history_is_newest_first(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        customer = await customers_repo.create(
            session, account_number="1", full_name="Иванов", category=CustomerCategory.INDIVIDUAL
        )
        for n in range(3):
            await appeals_repo.create(
                session,
                number=f"N{n}",
                channel=AppealChannel.PHONE,
                created_at=NOW + timedelta(days=n),
                customer_id=customer.id,
            )
        await appeals_repo.create(
            session, number="other", channel=AppealChannel.EMAIL, created_at=NOW
        )
    async with session_factory() as session:
        latest_two = await appeals_repo.list_for_customer(session, customer.id, limit=2)
    assert [a.number for a in latest_two] == ["N2", "N1"]


async def test_overdue_appeals_respect_extensions_and_answers(
    session_factory: SessionFactory,
) -> None:
    deadline = NOW + timedelta(days=10)
    async with session_factory.begin() as session:
        overdue = await appeals_repo.create(
            session,
            number="overdue",
            channel=AppealChannel.PHONE,
            created_at=NOW,
            answer_due_at=deadline,
        )
        extended = await appeals_repo.create(
            session,
            number="extended",
            channel=AppealChannel.PHONE,
            created_at=NOW,
            answer_due_at=deadline,
        )
        extended.extended_until = deadline + timedelta(days=10)
        await appeals_repo.change_status(session, extended, AppealStatus.EXTENDED, at=NOW)
        answered = await appeals_repo.create(
            session,
            number="answered",
            channel=AppealChannel.PHONE,
            created_at=NOW,
            answer_due_at=deadline,
        )
        await appeals_repo.change_status(session, answered, AppealStatus.ANSWERED, at=NOW)
        await appeals_repo.create(
            session, number="no-deadline", channel=AppealChannel.WEB, created_at=NOW
        )
    async with session_factory() as session:
        due = await appeals_repo.open_due_before(session, deadline + timedelta(days=1))
        due_later = await appeals_repo.open_due_before(session, deadline + timedelta(days=11))
    assert [a.id for a in due] == [overdue.id]
    assert [a.id for a in due_later] == [overdue.id, extended.id]
