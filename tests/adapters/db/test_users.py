from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import users as users_repo
from callcenter.domain.roles import Role

SessionFactory = async_sessionmaker[AsyncSession]


async def test_created_user_is_found_by_id_name_and_operator(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        operator = await operators_repo.create(
            session, extension="101", full_name="Смирнова Ольга Викторовна", support_line=1
        )
        user = await users_repo.create(
            session,
            username="smirnova",
            password_hash="hash-1",
            role=Role.OPERATOR,
            full_name="Смирнова Ольга Викторовна",
            operator_id=operator.id,
        )
    async with session_factory() as session:
        by_id = await users_repo.get(session, user.id)
        by_name = await users_repo.get_by_username(session, "smirnova")
        by_operator = await users_repo.get_by_operator(session, operator.id)
        assert by_id is not None
        assert by_id.role is Role.OPERATOR
        assert by_id.is_active
        assert by_id.full_name == "Смирнова Ольга Викторовна"
        assert by_id.created_at.tzinfo is not None
        assert by_name is not None
        assert by_name.id == user.id
        assert by_operator is not None
        assert by_operator.id == user.id
        assert await users_repo.get_by_username(session, "nobody") is None


async def test_user_names_are_unique(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        await users_repo.create(session, username="petrov", password_hash="h", role=Role.OPERATOR)
    async with session_factory() as session:
        with pytest.raises(IntegrityError):
            await users_repo.create(
                session, username="petrov", password_hash="h2", role=Role.SUPERVISOR
            )


async def test_upsert_admin_creates_then_resets_the_administrator(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        created = await users_repo.upsert_admin(session, "admin", "first-hash")
    async with session_factory.begin() as session:
        user = await users_repo.get(session, created.id)
        assert user is not None
        # an account that was demoted and disabled is restored by the bootstrap
        user.role = Role.OPERATOR
        user.is_active = False
    async with session_factory.begin() as session:
        again = await users_repo.upsert_admin(session, "admin", "second-hash")
    assert again.id == created.id
    async with session_factory() as session:
        users = await users_repo.list_all(session)
        assert [u.username for u in users] == ["admin"]
        assert users[0].role is Role.ADMINISTRATOR
        assert users[0].is_active
        assert users[0].password_hash == "second-hash"
