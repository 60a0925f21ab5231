"""Only one platform instance dials a campaign: the lease in the campaign's row (SQLite and
PostgreSQL alike), as two instances sharing one database see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.campaign_locks import LeaseLocks
from callcenter.db.models import Campaign
from callcenter.domain.campaigns import CampaignKind


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _campaign(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions.begin() as session:
        campaign = Campaign(
            name="Отключение 24.11", kind=CampaignKind.AUTO_INFORM, starts_at=datetime.now(UTC)
        )
        session.add(campaign)
        await session.flush()
        return campaign.id


async def test_a_second_instance_is_refused_while_the_first_holds_the_lease(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    campaign = await _campaign(session_factory)
    clock = Clock()
    first = LeaseLocks(session_factory, owner="a", ttl_seconds=30, clock=clock)
    second = LeaseLocks(session_factory, owner="b", ttl_seconds=30, clock=clock)

    assert await first.acquire(campaign)
    assert not await second.acquire(campaign)
    clock.now += timedelta(seconds=20)
    assert await first.held(campaign)  # renews the lease
    clock.now += timedelta(seconds=20)
    assert not await second.acquire(campaign)  # renewed 20 s ago: still the first's
    assert not await second.held(campaign)

    await first.release(campaign)
    assert await second.acquire(campaign)
    assert not await first.held(campaign)


async def test_a_dead_instance_loses_the_campaign_after_the_ttl(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    campaign = await _campaign(session_factory)
    clock = Clock()
    dead = LeaseLocks(session_factory, owner="dead", ttl_seconds=30, clock=clock)
    heir = LeaseLocks(session_factory, owner="heir", ttl_seconds=30, clock=clock)
    assert await dead.acquire(campaign)
    clock.now += timedelta(seconds=31)  # no renewal since
    assert await heir.acquire(campaign)
    assert not await dead.held(campaign)
