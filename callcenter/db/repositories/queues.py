"""ACD queues and their members."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Queue, QueueMember
from callcenter.domain.queues import QueueStrategy


async def get_by_name(session: AsyncSession, name: str) -> Queue | None:
    result = await session.scalars(select(Queue).where(Queue.name == name))
    return result.one_or_none()


async def list_all(session: AsyncSession) -> list[Queue]:
    return list(await session.scalars(select(Queue).order_by(Queue.name)))


async def create(
    session: AsyncSession,
    *,
    name: str,
    support_line: int | None,
    strategy: QueueStrategy = QueueStrategy.LEASTRECENT,
    description: str = "",
    wait_target_seconds: int = 40,
    is_overflow: bool = False,
) -> Queue:
    queue = Queue(
        name=name,
        support_line=support_line,
        strategy=strategy,
        description=description,
        wait_target_seconds=wait_target_seconds,
        is_overflow=is_overflow,
        members=[],
    )
    session.add(queue)
    await session.flush()
    return queue


async def add_member(
    session: AsyncSession, queue: Queue, operator_id: int, *, penalty: int = 0
) -> QueueMember:
    member = QueueMember(operator_id=operator_id, penalty=penalty)
    queue.members.append(member)
    await session.flush()
    return member
