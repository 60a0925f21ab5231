from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import queues as queues_repo
from callcenter.domain.queues import QueueStrategy

SessionFactory = async_sessionmaker[AsyncSession]


async def test_queue_is_read_back_with_its_members(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        first = await operators_repo.create(session, extension="101", full_name="А", support_line=1)
        second = await operators_repo.create(
            session, extension="201", full_name="Б", support_line=2
        )
        line1 = await queues_repo.create(session, name="line1", support_line=1)
        await queues_repo.create(
            session,
            name="branch-overflow",
            support_line=None,
            is_overflow=True,
            strategy=QueueStrategy.RRMEMORY,
        )
        await queues_repo.add_member(session, line1, first.id)
        await queues_repo.add_member(session, line1, second.id, penalty=5)
    async with session_factory() as session:
        queue = await queues_repo.get_by_name(session, "line1")
        names = [q.name for q in await queues_repo.list_all(session)]
    assert queue is not None
    assert queue.wait_target_seconds == 40
    assert queue.strategy is QueueStrategy.LEASTRECENT
    assert not queue.is_overflow
    assert sorted((m.operator_id, m.penalty) for m in queue.members) == [
        (first.id, 0),
        (second.id, 5),
    ]
    assert names == ["branch-overflow", "line1"]


async def test_an_operator_is_a_member_of_a_queue_once(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        operator = await operators_repo.create(
            session, extension="101", full_name="А", support_line=1
        )
        queue = await queues_repo.create(session, name="line1", support_line=1)
        await queues_repo.add_member(session, queue, operator.id)
    async with session_factory() as session:
        queue_again = await queues_repo.get_by_name(session, "line1")
        assert queue_again is not None
        with pytest.raises(IntegrityError):
            await queues_repo.add_member(session, queue_again, operator.id, penalty=3)
