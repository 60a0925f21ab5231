"""The dialer's behaviour call by call: a recording Originator stands in for AMI and a scripted
channel for the FastAGI session, so each test decides what the called party does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.db.models import CallAttempt, SurveyResponse
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.db.repositories import surveys as surveys_repo
from callcenter.domain.agents import OperatorState
from callcenter.domain.campaigns import (
    AttemptOutcome,
    CampaignKind,
    CampaignStatus,
    DialMode,
    MachineAction,
)
from callcenter.outbound.dialer import (
    TEXT_APOLOGY,
    DialerConfig,
    DialerService,
    InMemoryOperatorPool,
    locks_for,
)
from callcenter.ports.queries import NewContact, NewQuestion
from tests.support.eventually import eventually

NOW = datetime.now(UTC)


class Hangup(Exception):
    """What the real AGI channel raises once the caller is gone."""


@dataclass
class Originated:
    channel: str
    channel_id: str
    variables: dict[str, object]


@dataclass
class FakeOriginator:
    calls: list[Originated] = field(default_factory=list)
    fail: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    failed: asyncio.Event = field(default_factory=asyncio.Event)

    async def originate(self, channel: str, **options: Any) -> object:
        if self.fail:
            self.failed.set()
            raise ConnectionError("AMI link down")
        self.calls.append(Originated(channel, options["channel_id"], dict(options["variables"])))
        self.changed.set()
        return object()

    async def wait_for(self, count: int, within: float = 5.0) -> list[Originated]:
        async with asyncio.timeout(within):
            while len(self.calls) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.calls


@dataclass
class Env:
    uniqueid: str


@dataclass
class FakeChannel:
    """A FastAGI session: AMD variables, then keys for each GET DATA / STREAM FILE in turn."""

    uniqueid: str
    amd: str = "HUMAN"
    keys: list[str | None] = field(default_factory=list)  # per stream_file / get_data
    hang_up_on_stream: int | None = None  # the n-th STREAM FILE (0-based): caller hangs up
    log: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    gone: bool = False
    streams: int = 0

    @property
    def env(self) -> Env:
        return Env(self.uniqueid)

    @property
    def hung_up(self) -> bool:
        return self.gone

    def _check(self) -> None:
        if self.gone:
            raise Hangup

    async def get_variable(self, name: str) -> str | None:
        self._check()
        return {"AMDSTATUS": self.amd, "AMDCAUSE": f"{self.amd}-800-800"}.get(name)

    async def set_variable(self, name: str, value: object) -> None:
        self._check()
        self.variables[name] = str(value)
        self.log.append(f"SET {name}={value}")

    async def stream_file(self, name: str, escape_digits: str = "") -> tuple[str | None, int]:
        self._check()
        self.log.append(f"STREAM {name}")
        if self.hang_up_on_stream == self.streams:
            self.gone = True
            raise Hangup
        self.streams += 1
        key = self.keys.pop(0) if self.keys and escape_digits else None
        return (key if key and key in escape_digits else None), 8000

    async def get_data(self, file: str, timeout_ms: int = 5000, max_digits: int = 1) -> str | None:
        self._check()
        self.log.append(f"GET DATA {file}")
        return self.keys.pop(0) if self.keys else None

    async def hangup(self) -> None:
        self.log.append("HANGUP")
        self.gone = True


@dataclass
class Prompts:
    texts: list[str] = field(default_factory=list)

    @dataclass(frozen=True)
    class Rendered:
        asterisk_name: str

    async def render(self, text: str) -> Prompts.Rendered:
        self.texts.append(text)
        return self.Rendered(f"p{len(self.texts)}")


@dataclass
class Rig:
    sessions: async_sessionmaker[AsyncSession]
    originator: FakeOriginator
    pool: InMemoryOperatorPool
    prompts: Prompts
    dialer: DialerService
    list_id: int

    async def campaign(self, **values: Any) -> int:
        defaults: dict[str, Any] = {
            "name": f"c{len(values)}-{id(values)}",
            "kind": CampaignKind.AUTO_INFORM,
            "mode": DialMode.NONE,
            "status": CampaignStatus.SCHEDULED,
            "contact_list_id": self.list_id,
            "starts_at": NOW - timedelta(minutes=1),
            "window_start": time(0, 0),
            "window_end": time(23, 59, 59),
            "message_template": "Задолженность {debt:money}.",
            "max_attempts": 3,
            "retry_delays": [900],
        }
        async with self.sessions.begin() as session:
            campaign = await campaigns_repo.create_campaign(session, **(defaults | values))
        await self.dialer.scan()
        return campaign.id

    async def attempts(self, campaign_id: int) -> list[CallAttempt]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(CallAttempt)
                .where(CallAttempt.campaign_id == campaign_id)
                .order_by(CallAttempt.id)
            )
            return list(rows)

    async def answer(self, call: Originated, channel: FakeChannel) -> None:
        await self.dialer.on_originate_response(call.channel_id, success=True, reason=4)
        await self.dialer.serve_agi(channel)


async def _contacts(
    sessions: async_sessionmaker[AsyncSession], phones: Sequence[tuple[str, str | None]], name: str
) -> int:
    async with sessions.begin() as session:
        contact_list = await campaigns_repo.create_list(session, name)
        await campaigns_repo.add_contacts(
            session,
            contact_list.id,
            [NewContact(phone=p, variables={"debt": "100"}, timezone=tz) for p, tz in phones],
        )
        return contact_list.id


async def _no_attempts(rig: Rig, campaign_id: int) -> bool:
    return not await rig.attempts(campaign_id)


@pytest.fixture
async def make_rig(
    session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> AsyncIterator[Callable[..., Awaitable[Rig]]]:
    dialers: list[DialerService] = []

    async def make(
        phones: Sequence[tuple[str, str | None]] = (("+79161230001", "UTC"),), **config: Any
    ) -> Rig:
        list_id = await _contacts(session_factory, phones, f"list {len(dialers)}")
        originator = FakeOriginator()
        pool = InMemoryOperatorPool(clock=lambda: datetime.now(UTC))
        prompts = Prompts()
        options: dict[str, Any] = {
            "tick_seconds": 0.02,
            "scan_seconds": 0.1,
            "grace_seconds": 0.2,
            "channel_template": "PJSIP/{national}@trunk",
        }
        dialer = DialerService(
            session_factory,
            originator,
            pool,
            prompts,
            locks_for(engine),
            config=DialerConfig(**(options | config)),
        )
        dialers.append(dialer)
        return Rig(session_factory, originator, pool, prompts, dialer, list_id)

    yield make
    for dialer in dialers:
        await dialer.stop()


async def test_a_person_who_hears_the_message_to_the_end_is_positive(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig()
    campaign_id = await rig.campaign()
    [call] = await rig.originator.wait_for(1)
    assert call.channel == "PJSIP/89161230001@trunk"
    assert call.variables["CC_CAMPAIGN_ID"] == campaign_id
    channel = FakeChannel(call.channel_id, keys=[None, None])
    await rig.answer(call, channel)
    [attempt] = await rig.attempts(campaign_id)
    assert (attempt.outcome, attempt.reason_code, attempt.amd_status) == (
        AttemptOutcome.POSITIVE,
        4,
        "HUMAN",
    )
    assert attempt.next_attempt_at is None
    assert channel.log[-1] == "HANGUP"
    assert "Задолженность 100,00 руб." in rig.prompts.texts


async def test_keys_confirm_or_reach_an_operator(make_rig: Callable[..., Awaitable[Rig]]) -> None:
    rig = await make_rig((("+79161230001", "UTC"), ("+79161230002", "UTC")))
    campaign_id = await rig.campaign()
    first, second = await rig.originator.wait_for(2)
    operator = FakeChannel(first.channel_id, keys=["0"])  # 0 during the message
    confirm = FakeChannel(second.channel_id, keys=[None, "1"])  # 1 after it
    await rig.answer(first, operator)
    await rig.answer(second, confirm)
    assert operator.variables == {"IVR_TARGET": "line1"}
    assert "HANGUP" not in operator.log  # the dialplan takes the call to the queue
    attempts = await rig.attempts(campaign_id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.POSITIVE, AttemptOutcome.POSITIVE]
    stats = rig.dialer.live(campaign_id)
    assert stats is not None
    assert stats.results == {"operator_requested": 1, "confirmed": 1}


async def test_hanging_up_during_the_message_is_negative_and_retried_later(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig()
    campaign_id = await rig.campaign(retry_delays=[1800])
    [call] = await rig.originator.wait_for(1)
    await rig.answer(call, FakeChannel(call.channel_id, hang_up_on_stream=0))
    [attempt] = await rig.attempts(campaign_id)
    assert attempt.outcome is AttemptOutcome.NEGATIVE
    assert attempt.ended_at is not None
    assert attempt.next_attempt_at is not None
    assert attempt.next_attempt_at - attempt.ended_at == timedelta(seconds=1800)


async def test_busy_and_no_answer_keep_the_reason_code_and_their_own_retry_delay(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig((("+79161230001", "UTC"), ("+79161230002", "UTC")))
    campaign_id = await rig.campaign(retry_delays=[3600])
    busy, silent = await rig.originator.wait_for(2)
    assert await rig.dialer.on_originate_response(busy.channel_id, success=False, reason=5)
    assert await rig.dialer.on_originate_response(silent.channel_id, success=False, reason=3)
    # a second report of the same call (a replay) changes nothing
    assert not await rig.dialer.on_originate_response(busy.channel_id, success=False, reason=5)
    attempts = {a.reason_code: a for a in await rig.attempts(campaign_id)}
    delays = {
        code: (a.next_attempt_at - a.ended_at).total_seconds()
        for code, a in attempts.items()
        if a.next_attempt_at and a.ended_at
    }
    assert delays == {5: 600.0, 3: 3600.0}  # busy: the default 10 min; no answer: the list's
    assert all(a.outcome is AttemptOutcome.NEGATIVE for a in attempts.values())


async def test_an_answering_machine_gets_the_message_when_the_campaign_says_so(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig()
    campaign_id = await rig.campaign(amd_machine_action=MachineAction.LEAVE_MESSAGE)
    [call] = await rig.originator.wait_for(1)
    machine = FakeChannel(call.channel_id, amd="MACHINE")
    await rig.answer(call, machine)
    assert machine.log == ["STREAM p1", "HANGUP"]
    [attempt] = await rig.attempts(campaign_id)
    assert (attempt.outcome, attempt.amd_status, attempt.amd_cause) == (
        AttemptOutcome.NEGATIVE,
        "MACHINE",
        "MACHINE-800-800",
    )


async def test_operator_campaign_hands_over_or_apologises_within_the_grace_period(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig((("+79161230001", "UTC"), ("+79161230002", "UTC")), power_ratio=2.0)
    rig.pool.set_state("line1", "101", OperatorState.READY, datetime.now(UTC))
    campaign_id = await rig.campaign(
        kind=CampaignKind.OPERATOR, mode=DialMode.POWER, message_template=""
    )
    first, second = await rig.originator.wait_for(2)  # two lines for one idle operator
    taken = FakeChannel(first.channel_id)
    left = FakeChannel(second.channel_id)
    await rig.answer(first, taken)
    started = asyncio.get_running_loop().time()
    await rig.answer(second, left)
    waited = asyncio.get_running_loop().time() - started
    assert taken.variables == {"IVR_TARGET": "line1"}
    assert left.variables == {}
    assert rig.prompts.texts == [TEXT_APOLOGY]
    assert left.log[-1] == "HANGUP"
    assert 0.15 < waited < 1.0  # it waited the grace period for an operator, then gave up
    attempts = await rig.attempts(campaign_id)
    assert [a.outcome for a in attempts] == [AttemptOutcome.POSITIVE, AttemptOutcome.NEGATIVE]
    stats = rig.dialer.live(campaign_id)
    assert stats is not None
    assert (stats.live, stats.abandoned, stats.window_abandoned) == (2, 1, 1)
    assert stats.abandon_rate == 0.5


async def test_a_survey_stores_each_answer(make_rig: Callable[..., Awaitable[Rig]]) -> None:
    rig = await make_rig()
    async with rig.sessions.begin() as session:
        survey = await surveys_repo.create(
            session,
            name="Качество",
            description="",
            questions=[
                NewQuestion("Довольны ли вы?", {"1": "Да", "2": "Нет"}),
                NewQuestion("Оценка?", {"1": "1", "5": "5"}),
            ],
        )
    campaign_id = await rig.campaign(
        kind=CampaignKind.SURVEY, survey_id=survey.id, message_template=""
    )
    [call] = await rig.originator.wait_for(1)
    # "7" is not an answer: the question is asked again
    await rig.answer(call, FakeChannel(call.channel_id, keys=["1", "7", "5"]))
    async with rig.sessions() as session:
        answers = list(await session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))
    assert [a.answer_key for a in answers] == ["1", "5"]
    [attempt] = await rig.attempts(campaign_id)
    assert attempt.outcome is AttemptOutcome.POSITIVE
    assert any(t.startswith("Довольны ли вы? Да — нажмите 1") for t in rig.prompts.texts)


async def test_the_session_may_come_before_the_originate_response(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig()
    campaign_id = await rig.campaign()
    [call] = await rig.originator.wait_for(1)
    await rig.dialer.serve_agi(FakeChannel(call.channel_id, keys=[None, None]))
    assert not await rig.dialer.on_originate_response(call.channel_id, success=True, reason=4)
    [attempt] = await rig.attempts(campaign_id)
    assert attempt.outcome is AttemptOutcome.POSITIVE


async def test_unknown_sessions_are_closed(make_rig: Callable[..., Awaitable[Rig]]) -> None:
    rig = await make_rig()
    stranger = FakeChannel("1795432889.99")
    await rig.dialer.serve_agi(stranger)
    assert stranger.log == ["SET IVR_CLOSED=1", "HANGUP"]


async def test_a_failed_originate_does_not_use_up_an_attempt(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig(originate_backoff_seconds=0.5)
    rig.originator.fail = True
    campaign_id = await rig.campaign()
    await asyncio.wait_for(rig.originator.failed.wait(), 5)
    # the attempt is taken back while the dialer holds off
    await eventually(lambda: _no_attempts(rig, campaign_id))
    async with rig.sessions() as session:
        campaign = await campaigns_repo.get_campaign(session, campaign_id)
        assert campaign is not None
        progress = await campaigns_repo.contact_progress(session, campaign)
    assert progress.untouched == 1
    rig.originator.fail = False
    await rig.originator.wait_for(1)
    [attempt] = await rig.attempts(campaign_id)
    assert attempt.attempt_no == 1


async def test_contacts_are_called_only_inside_their_local_window(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    here = datetime.now(UTC)
    # a zone where it is now mid-day, and one where it is 12 hours later (night)
    day = f"{(12 - here.hour) % 24 - (24 if (12 - here.hour) % 24 > 14 else 0):+03d}:00"
    night = f"{(0 - here.hour) % 24 - (24 if (0 - here.hour) % 24 > 14 else 0):+03d}:00"
    rig = await make_rig((("+79161230001", day), ("+79161230002", night)))
    campaign_id = await rig.campaign(window_start=time(8), window_end=time(20))
    [call] = await rig.originator.wait_for(1)
    dialer = rig.dialer.dialer(campaign_id)
    assert dialer is not None
    seen = dialer.ticks

    async def five_more_rounds() -> bool:  # the night-time contact stays uncalled meanwhile
        return dialer.ticks >= seen + 5

    await eventually(five_more_rounds)
    assert len(rig.originator.calls) == 1
    assert call.channel == "PJSIP/89161230001@trunk"
    assert len(await rig.attempts(campaign_id)) == 1


async def test_only_one_dialer_runs_a_campaign(make_rig: Callable[..., Awaitable[Rig]]) -> None:
    first = await make_rig()
    second = await make_rig()
    campaign_id = await first.campaign()
    assert first.dialer.running() == [campaign_id]
    assert await second.dialer.scan() == []  # locked by the first instance
    await first.dialer.stop()
    assert await second.dialer.scan() == [campaign_id]


async def test_the_campaign_finishes_when_every_contact_is_done(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig()
    campaign_id = await rig.campaign(max_attempts=1)
    [call] = await rig.originator.wait_for(1)
    await rig.answer(call, FakeChannel(call.channel_id, keys=[None, None]))

    async def finished() -> bool:
        async with rig.sessions() as session:
            campaign = await campaigns_repo.get_campaign(session, campaign_id)
        return campaign is not None and campaign.status is CampaignStatus.FINISHED

    async def released() -> bool:
        return not rig.dialer.running()

    await eventually(finished)
    await eventually(released)


async def test_pausing_stops_new_calls_and_lets_the_current_ones_finish(
    make_rig: Callable[..., Awaitable[Rig]],
) -> None:
    rig = await make_rig((("+79161230001", "UTC"), ("+79161230002", "UTC")), max_channels=1)
    campaign_id = await rig.campaign()
    [call] = await rig.originator.wait_for(1)  # one channel: the second contact waits
    async with rig.sessions.begin() as session:
        await campaigns_repo.set_status(session, campaign_id, CampaignStatus.PAUSED)
    rig.dialer.wake(campaign_id)
    dialer = rig.dialer.dialer(campaign_id)
    assert dialer is not None
    seen = dialer.ticks

    async def refreshed() -> bool:  # a scan has read the new status
        return dialer.spec.status is CampaignStatus.PAUSED and dialer.ticks > seen

    await eventually(refreshed)
    await rig.answer(call, FakeChannel(call.channel_id, keys=[None, None]))

    async def released() -> bool:
        return not rig.dialer.running()

    await eventually(released)
    assert len(rig.originator.calls) == 1
    [attempt] = await rig.attempts(campaign_id)
    assert attempt.outcome is AttemptOutcome.POSITIVE
