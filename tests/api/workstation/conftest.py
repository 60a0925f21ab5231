"""Fixtures for the operator-workstation API: a controllable clock, and a small staff of
operators on lines 1-3 plus a supervisor and an administrator, each with a bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from callcenter.api.app import create_app
from callcenter.api.tokens import issue_token
from callcenter.api.workstation import get_clock
from callcenter.bootstrap import Platform
from callcenter.common.access import Clock
from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import users as users_repo
from tests.api.workstation.support import STAFF, FakeClock, Member, Sessions, Staff


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(platform: Platform, clock: FakeClock) -> FastAPI:
    application = create_app(platform, manage_lifecycle=False)

    def fake_clock() -> Clock:
        return clock

    application.dependency_overrides[get_clock] = fake_clock
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def staff(session_factory: Sessions, platform: Platform) -> Staff:
    secret = platform.settings.jwt_secret.get_secret_value()
    team = Staff()
    async with session_factory.begin() as session:
        for n, (name, (role, line)) in enumerate(STAFF.items(), start=1):
            operator_id = None
            if line is not None:
                operator = await operators_repo.create(
                    session, extension=f"{100 + n}", full_name=name.title(), support_line=line
                )
                operator_id = operator.id
            user = await users_repo.create(
                session,
                username=name,
                # never signed in with: tokens are issued directly (argon2 is slow)
                password_hash="!",
                role=role,
                full_name=name.title(),
                operator_id=operator_id,
            )
            token, _ = issue_token(
                secret=secret,
                user_id=user.id,
                username=name,
                role=role,
                now=datetime.now(UTC),
                ttl=timedelta(hours=1),
            )
            team.members[name] = Member(
                user_id=user.id,
                operator_id=operator_id,
                headers={"Authorization": f"Bearer {token}"},
            )
    return team
