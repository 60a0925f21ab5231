"""One stored form for numbers, any spelling in a search (issue 16, row 7)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import calls as calls_repo
from callcenter.domain.calls import Direction, stored_number
from callcenter.domain.roles import Role
from tests.api.conftest import MakeUser, bearer, sign_in


@pytest.mark.parametrize(
    "spelling", ["+74950160975", "84950160975", "8 (495) 016-09-75", "74950160975"]
)
def test_every_spelling_is_stored_as_e164(spelling: str) -> None:
    assert stored_number(spelling) == "+74950160975"


def test_extensions_and_names_are_stored_as_they_are() -> None:
    assert [stored_number(v) for v in ("101", "busy", "<unknown>")] == ["101", "busy", "<unknown>"]


async def test_a_search_finds_the_call_whatever_the_spelling(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with session_factory.begin() as session:
        for n, number in enumerate(("+74950160975", "84950160975")):  # new row, legacy row
            await calls_repo.upsert(
                session,
                f"linked-{n}",
                direction=Direction.INBOUND,
                caller_number=number,
                started_at=datetime(2026, 11, 23, 10, n, tzinfo=UTC),
            )
    await make_user("boss", "pw", Role.SUPERVISOR)
    headers = bearer(await sign_in(client, "boss", "pw"))
    for spelling in ("+74950160975", "84950160975", "8 (495) 016-09-75"):
        reply = await client.get("/api/v1/calls", params={"number": spelling}, headers=headers)
        assert reply.status_code == 200, reply.text
        assert len(reply.json()["items"]) == 2, spelling
