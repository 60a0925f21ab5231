"""Login accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import User
from callcenter.domain.roles import Role


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_by_username(session: AsyncSession, username: str) -> User | None:
    result = await session.scalars(select(User).where(User.username == username))
    return result.one_or_none()


async def get_by_operator(session: AsyncSession, operator_id: int) -> User | None:
    result = await session.scalars(select(User).where(User.operator_id == operator_id))
    return result.one_or_none()


async def create(
    session: AsyncSession,
    *,
    username: str,
    password_hash: str,
    role: Role,
    full_name: str = "",
    operator_id: int | None = None,
    is_active: bool = True,
) -> User:
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        full_name=full_name,
        operator_id=operator_id,
        is_active=is_active,
    )
    session.add(user)
    await session.flush()
    return user


async def upsert_admin(
    session: AsyncSession, username: str, password_hash: str, *, full_name: str = "Администратор"
) -> User:
    """Create the administrator, or make an existing account with that name an active
    administrator with this password (how a forgotten admin password is reset)."""
    user = await get_by_username(session, username)
    if user is None:
        return await create(
            session,
            username=username,
            password_hash=password_hash,
            role=Role.ADMINISTRATOR,
            full_name=full_name,
        )
    user.password_hash = password_hash
    user.role = Role.ADMINISTRATOR
    user.is_active = True
    await session.flush()
    return user


async def list_all(session: AsyncSession) -> list[User]:
    return list(await session.scalars(select(User).order_by(User.username)))
