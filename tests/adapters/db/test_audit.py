from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import audit as audit_repo
from callcenter.db.repositories import users as users_repo
from callcenter.domain.roles import Role
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def test_entries_are_appended_and_found_newest_first(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as session:
        user = await users_repo.create(
            session, username="supervisor", password_hash="h", role=Role.SUPERVISOR
        )
        await audit_repo.append(
            session,
            "recording.play",
            at=NOW,
            user_id=user.id,
            object_type="recording",
            object_id="0b9f",
            details={"причина": "жалоба", "seconds": 42},
            remote_addr="10.0.0.5",
        )
        await audit_repo.append(session, "retention.delete", at=NOW + timedelta(hours=1))
        await audit_repo.append(
            session, "recording.play", at=NOW + timedelta(hours=2), user_id=user.id
        )
    async with session_factory() as session:
        everything = await audit_repo.search(session)
        plays = await audit_repo.search(
            session, action="recording.play", until=NOW + timedelta(hours=1)
        )
        by_system = await audit_repo.search(session, since=NOW + timedelta(minutes=30), limit=1)
        about_object = await audit_repo.search(session, object_type="recording", object_id="0b9f")
        by_user = await audit_repo.search(session, user_id=user.id)
    assert [e.action for e in everything] == [
        "recording.play",
        "retention.delete",
        "recording.play",
    ]
    assert [e.at for e in plays] == [NOW]
    assert plays[0].details == {"причина": "жалоба", "seconds": 42}
    assert plays[0].remote_addr == "10.0.0.5"
    assert [e.at for e in by_system] == [NOW + timedelta(hours=2)]
    assert [e.at for e in about_object] == [NOW]
    assert len(by_user) == 2
    assert everything[0].id > everything[1].id
