"""Done when: a simulated auto-informing campaign against the PBX simulator calls a list and
records positive and negative outcomes correctly.

The whole path is real: AMI Originate over TCP to the simulator, its dialplan runs AMD() and
connects back to the platform's FastAGI server ("dialer" script), OriginateResponse events come
back over AMI, and the attempts land in the database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.asterisk.agi import AgiServer
from callcenter.asterisk.ami import AmiClient, Backoff, OriginateOutcome
from callcenter.common.access import Actor
from callcenter.db.models import User
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.domain.campaign_lifecycle import CampaignAction
from callcenter.domain.campaigns import AttemptOutcome, CampaignKind, CampaignStatus
from callcenter.domain.roles import Role
from callcenter.outbound.campaigns import CampaignDraft, CampaignsService
from callcenter.outbound.dialer import (
    DialerConfig,
    DialerService,
    InMemoryOperatorPool,
    InProcessLocks,
    dialer_agi_handler,
)
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.listener import ResyncSnapshot
from callcenter.ports.queries import NewContact
from callcenter.sim.clock import VirtualClock
from callcenter.sim.parties import CalledParty, Outcome
from callcenter.sim.simulator import Simulator
from tests.support.eventually import eventually

TEMPLATE = "Уважаемый {name}! Задолженность {debt:money}. Оплатите до {until:date}."

# E.164 number -> what the simulated called party does
PARTIES = {
    "+79161110001": Outcome.HUMAN,
    "+79161110002": Outcome.MACHINE,
    "+79161110003": Outcome.BUSY,
    "+79161110004": Outcome.NOANSWER,
    "+79161110005": Outcome.CONGESTION,
    "+79161110006": Outcome.INVALID,
    "+79161110007": Outcome.HUMAN,
}


@dataclass
class FakePrompts:
    """Stands in for the TTS renderer: the simulator plays any name (1.5 s per prompt)."""

    texts: list[str] = field(default_factory=list)

    @dataclass(frozen=True)
    class Rendered:
        asterisk_name: str

    async def render(self, text: str) -> FakePrompts.Rendered:
        self.texts.append(text)
        # a bare name, as Asterisk's own sounds: the simulator, like Asterisk, refuses a file
        # it cannot find (a made-up folder would be one)
        return self.Rendered(f"cc-prompt-{abs(hash(text)) % 10**8}")


@dataclass
class OriginateForwarder:
    """The AMI listener the platform has: OriginateResponse events go to the dialer."""

    dialer: DialerService | None = None

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        return None

    async def on_disconnected(self) -> None:
        return None

    async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
        outcome = OriginateOutcome.from_frame(frame)
        if outcome is not None and self.dialer is not None:
            await self.dialer.on_originate_response(
                outcome.channel_id, success=outcome.success, reason=outcome.reason
            )


@contextlib.asynccontextmanager
async def running_dialer(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, prompts: FakePrompts
) -> AsyncIterator[tuple[DialerService, Simulator, VirtualClock]]:
    forwarder = OriginateForwarder()
    holder: list[DialerService] = []

    async def handler(channel: object) -> None:
        await dialer_agi_handler(holder[0])(channel)  # type: ignore[arg-type]

    async with AgiServer({"dialer": handler}, port=0) as agi:
        time = VirtualClock()
        sim = Simulator(agi_port=agi.address[1], recordings_dir=tmp_path, clock=time)
        async with sim:
            for e164, outcome in PARTIES.items():
                sim.set_called_party("8" + e164[2:], CalledParty(outcome, talk_time=30.0))
            client = AmiClient(
                "127.0.0.1",
                sim.ami_port,
                "callcenter",
                "callcenter",
                forwarder,
                action_timeout=2.0,
                backoff=Backoff(base=0.01, factor=2.0, max_delay=0.05, jitter=0.0),
            )
            await client.start()
            await client.wait_connected(5.0)
            dialer = DialerService(
                sessions,
                client,
                InMemoryOperatorPool(clock=lambda: datetime.now(UTC)),
                prompts,
                InProcessLocks(str(id(sessions))),
                config=DialerConfig(
                    channel_template="Local/{national}@outbound",
                    ring_timeout=20.0,  # simulated seconds
                    tick_seconds=0.05,
                    scan_seconds=0.2,
                    key_timeout_ms=3000,
                ),
            )
            holder.append(dialer)
            forwarder.dialer = dialer
            try:
                async with dialer:
                    yield dialer, sim, time
            finally:
                await client.close()


async def test_auto_inform_campaign_records_positive_and_negative_outcomes(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    async with session_factory.begin() as session:
        user = User(username="sv", password_hash="-", role=Role.SUPERVISOR, full_name="Sv")
        session.add(user)
        await session.flush()
        supervisor = Actor(user_id=user.id, role=Role.SUPERVISOR)
        contact_list = await campaigns_repo.create_list(session, "Должники, март")
        await campaigns_repo.add_contacts(
            session,
            contact_list.id,
            [
                NewContact(
                    phone=e164,
                    name=f"абонент {i}",
                    variables={"debt": f"{1000 + i},50", "until": "2026-03-20"},
                    # any hour is inside the window somewhere: keep the test clock-proof
                    timezone="UTC",
                )
                for i, e164 in enumerate(PARTIES)
            ],
        )
        await campaigns_repo.add_do_not_call(session, "+79161110007", "просил не звонить", now)
    campaigns = CampaignsService(session_factory, clock=lambda: datetime.now(UTC))
    campaign = await campaigns.create(
        supervisor,
        CampaignDraft(
            name="Задолженность, март",
            kind=CampaignKind.AUTO_INFORM,
            contact_list_id=contact_list.id,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
            window_start=datetime.min.time(),  # 00:00-23:59 in the callee's zone
            window_end=datetime.max.time().replace(microsecond=0),
            max_attempts=1,
            message_template=TEMPLATE,
        ),
    )
    await campaigns.act(supervisor, campaign.id, CampaignAction.START)
    prompts = FakePrompts()

    async with running_dialer(session_factory, tmp_path, prompts) as (_dialer, _sim, time):

        async def finished() -> bool:
            return (await campaigns.get(campaign.id)).status is CampaignStatus.FINISHED

        # the database has no change events: re-checked as simulated time passes
        await eventually(finished, clock=time, within=600)

    async with session_factory() as session:
        rows = await campaigns_repo.list_attempts(session, campaign.id)
    by_phone = {contact.phone: attempt for attempt, contact in rows}
    assert "+79161110007" not in by_phone  # on the do-not-call list: never called
    got = {phone: (a.outcome, a.reason_code, a.amd_status) for phone, a in by_phone.items()}
    assert got == {
        "+79161110001": (AttemptOutcome.POSITIVE, 4, "HUMAN"),
        "+79161110002": (AttemptOutcome.NEGATIVE, 4, "MACHINE"),
        "+79161110003": (AttemptOutcome.NEGATIVE, 5, None),
        "+79161110004": (AttemptOutcome.NEGATIVE, 3, None),
        "+79161110005": (AttemptOutcome.NEGATIVE, 8, None),
        "+79161110006": (AttemptOutcome.NEGATIVE, 0, None),
    }
    assert all(a.ended_at is not None and a.next_attempt_at is None for a in by_phone.values())
    # the person heard the message with the contact's own values, worded for the voice
    assert "Уважаемый абонент 0! Задолженность 1000,50 руб. Оплатите до 20.03.2026." in (
        prompts.texts
    )

    report = await campaigns.report(campaign.id)
    assert report.positive == 1
    assert report.negative == {
        "no_answer": 1,
        "busy": 1,
        "congestion": 1,
        "failed": 1,
        "machine": 1,
        "hung_up": 0,
    }
    contacts = report.progress.contacts
    assert (contacts.reached, contacts.given_up, contacts.do_not_call) == (1, 5, 1)
    assert contacts.remaining == 0
