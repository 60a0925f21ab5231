"""Helpers of the SMS / e-mail job tests: a clock the test moves, a campaign with a list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.common.access import Actor
from callcenter.db.models import User
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.domain.campaigns import CampaignKind
from callcenter.domain.notify import Channel
from callcenter.domain.roles import Role
from callcenter.outbound.campaigns import CampaignDraft, CampaignsService
from callcenter.outbound.notify_jobs import NotifyJobs

# a Tuesday, 12:00 in Moscow: inside the default calling window
NOON = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
ALL_DAY = (time(0, 0), time(23, 59, 59, 999999))


@dataclass
class FakeClock:
    now: datetime = NOON

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class CampaignSetup:
    actor: Actor
    campaign_id: int
    list_id: int


async def make_campaign(
    sessions: async_sessionmaker[AsyncSession],
    contacts: Sequence[campaigns_repo.NewContact],
    *,
    template: str,
    do_not_call: Sequence[str] = (),
    name: str = "Отключение",
    all_day: bool = False,
    starts_at: datetime = NOON - timedelta(hours=1),
    username: str = "sv",
) -> CampaignSetup:
    async with sessions.begin() as session:
        user = User(username=username, password_hash="-", role=Role.SUPERVISOR, full_name="Sv")
        session.add(user)
        await session.flush()
        contact_list = await campaigns_repo.create_list(session, f"Список {name}")
        await campaigns_repo.add_contacts(session, contact_list.id, list(contacts))
        for phone in do_not_call:
            await campaigns_repo.add_do_not_call(session, phone, "", starts_at)
    actor = Actor(user_id=user.id, role=Role.SUPERVISOR)
    service = CampaignsService(sessions, clock=lambda: starts_at)
    campaign = await service.create(
        actor,
        CampaignDraft(
            name=name,
            kind=CampaignKind.AUTO_INFORM,
            contact_list_id=contact_list.id,
            starts_at=starts_at,
            message_template=template,
            window_start=ALL_DAY[0] if all_day else None,
            window_end=ALL_DAY[1] if all_day else None,
        ),
    )
    return CampaignSetup(actor, campaign.id, contact_list.id)


def notify_jobs(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock | None = None,
    channels: frozenset[Channel] = frozenset({Channel.SMS, Channel.EMAIL}),
) -> NotifyJobs:
    return NotifyJobs(
        sessions,
        clock=clock or (lambda: datetime.now(UTC)),
        channels=channels,
    )
