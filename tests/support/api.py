"""HTTP API fixtures and helpers: a platform on the test database, a client, users, tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform
from callcenter.config import load_settings
from callcenter.db.models import User
from callcenter.domain.roles import Role
from callcenter.passwords import hash_password
from callcenter.ports.pbx import NoPbxLink

MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def platform(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> Platform:
    settings = load_settings(database_url=database_url)
    return Platform(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        pbx=NoPbxLink("no PBX in API tests"),
    )


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(platform, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
def make_user(session_factory: async_sessionmaker[AsyncSession]) -> MakeUser:
    async def make(
        username: str, password: str = "secret", role: Role = Role.OPERATOR, active: bool = True
    ) -> User:
        async with session_factory.begin() as session:
            user = User(
                username=username,
                password_hash=hash_password(password),
                role=role,
                full_name=username.title(),
                is_active=active,
            )
            session.add(user)
        return user

    return make


async def sign_in(client: httpx.AsyncClient, username: str, password: str = "secret") -> str:
    reply = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert reply.status_code == 200, reply.text
    token: str = reply.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
