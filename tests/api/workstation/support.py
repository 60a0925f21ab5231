"""Helpers shared by the workstation API tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import AuditLogEntry
from callcenter.db.repositories import audit as audit_repo
from callcenter.domain.roles import Role

# 12:30 in Moscow: "today" for the statistics is the whole of 2025-03-14 MSK
START = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

Sessions = async_sessionmaker[AsyncSession]


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@dataclass
class Member:
    user_id: int
    operator_id: int | None
    headers: dict[str, str]


@dataclass
class Staff:
    members: dict[str, Member] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Member:
        return self.members[name]

    def h(self, name: str) -> dict[str, str]:
        return self.members[name].headers


# name -> (role, support line of their operator or None)
STAFF = {
    "anna": (Role.OPERATOR, 1),
    "boris": (Role.OPERATOR, 1),
    "vera": (Role.OPERATOR, 2),
    "gleb": (Role.OPERATOR, 3),
    "sveta": (Role.SUPERVISOR, None),
    "admin": (Role.ADMINISTRATOR, None),
}


async def audit_entries(
    session_factory: Sessions, action: str, *, user_id: int | None = None
) -> list[AuditLogEntry]:
    async with session_factory() as session:
        return await audit_repo.search(session, action=action, user_id=user_id)
