from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.api.tokens import issue_token
from callcenter.bootstrap import Platform
from callcenter.db.models import User
from callcenter.domain.roles import Role
from tests.api.conftest import MakeUser, bearer, sign_in


async def test_sign_in_returns_a_bearer_token_that_identifies_the_user(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("ivanova", "pa55", Role.OPERATOR)
    token = await sign_in(client, "ivanova", "pa55")
    me = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["username"] == "ivanova"
    assert me.json()["role"] == "operator"


@pytest.mark.parametrize(("username", "password"), [("ivanova", "wrong"), ("nobody", "pa55")])
async def test_wrong_credentials_are_refused_alike(
    client: httpx.AsyncClient, make_user: MakeUser, username: str, password: str
) -> None:
    await make_user("ivanova", "pa55")
    reply = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert reply.status_code == 401
    assert reply.json()["detail"] == "wrong user name or password"


async def test_requests_without_a_valid_token_are_unauthorised(
    client: httpx.AsyncClient, platform: Platform, make_user: MakeUser
) -> None:
    user = await make_user("petrov")
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    garbage = await client.get("/api/v1/auth/me", headers=bearer("not.a.jwt"))
    assert garbage.status_code == 401
    expired, _ = issue_token(
        secret=platform.settings.jwt_secret.get_secret_value(),
        user_id=user.id,
        username="petrov",
        role=Role.OPERATOR,
        now=datetime.now(UTC) - timedelta(hours=10),
        ttl=timedelta(hours=1),
    )
    assert (await client.get("/api/v1/auth/me", headers=bearer(expired))).status_code == 401
    forged, _ = issue_token(
        secret="another-secret-entirely-0123456789",
        user_id=user.id,
        username="petrov",
        role=Role.ADMINISTRATOR,
        now=datetime.now(UTC),
        ttl=timedelta(hours=1),
    )
    assert (await client.get("/api/v1/users", headers=bearer(forged))).status_code == 401


async def test_disabled_user_loses_access_at_once(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("sidorov", role=Role.ADMINISTRATOR)
    token = await sign_in(client, "sidorov")
    assert (await client.get("/api/v1/users", headers=bearer(token))).status_code == 200
    async with session_factory.begin() as session:
        await session.execute(
            update(User).where(User.username == "sidorov").values(is_active=False)
        )
    assert (await client.get("/api/v1/users", headers=bearer(token))).status_code == 401


@pytest.mark.parametrize(
    ("role", "expected"),
    [(Role.OPERATOR, 403), (Role.SUPERVISOR, 403), (Role.ADMINISTRATOR, 200)],
)
async def test_user_list_is_for_administrators_only(
    client: httpx.AsyncClient, make_user: MakeUser, role: Role, expected: int
) -> None:
    await make_user("someone", role=role)
    token = await sign_in(client, "someone")
    reply = await client.get("/api/v1/users", headers=bearer(token))
    assert reply.status_code == expected
    if expected == 403:
        assert "administrator" in reply.json()["detail"]
    else:
        assert [u["username"] for u in reply.json()] == ["someone"]


async def test_a_role_change_takes_effect_without_a_new_token(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("boss", role=Role.ADMINISTRATOR)
    token = await sign_in(client, "boss")
    async with session_factory.begin() as session:
        await session.execute(
            update(User).where(User.username == "boss").values(role=Role.OPERATOR)
        )
    assert (await client.get("/api/v1/users", headers=bearer(token))).status_code == 403
