"""A campaign's message sent by SMS and e-mail as jobs: stored at once, delivered by a worker
through the real adapters to local protocol peers (aiosmtpd, a misbehaving SMS gateway)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.domain.notify import Channel, DeliveryOutcome, DeliveryStatus, JobStatus
from callcenter.notify.email import SmtpConfig, SmtpEmailSender
from callcenter.notify.sms import HttpSmsGateway, SmsGatewayConfig
from callcenter.outbound.notify_jobs import NotifyWorker, WorkerConfig
from callcenter.sim.sms_gateway import SmsGatewaySim
from tests.adapters.notify.conftest import SmtpPeer
from tests.support.eventually import eventually
from tests.support.notify import FakeClock, make_campaign, notify_jobs
from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env

Contact = campaigns_repo.NewContact
TEMPLATE = "{name}, {day:date} плановое отключение электроэнергии."


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGatewaySim]:
    sim = SmsGatewaySim()
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def sms(gateway: SmsGatewaySim) -> AsyncIterator[HttpSmsGateway]:
    async with HttpSmsGateway(
        SmsGatewayConfig(url=gateway.url, sender="Energo", timeout=1.0)
    ) as client:
        yield client


def _worker(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    *,
    sms: HttpSmsGateway | None = None,
    email: SmtpEmailSender | None = None,
    **config: float,
) -> NotifyWorker:
    settings = {"sms_rate": 1000.0, "email_rate": 1000.0, "retry_base": 60.0, **config}
    return NotifyWorker(
        sessions,
        clock=clock,
        sms=sms,
        email=email,
        config=WorkerConfig(**settings),  # type: ignore[arg-type]
        name="test-worker",
    )


async def test_each_contact_gets_one_delivery_per_channel_with_its_result(
    session_factory: async_sessionmaker[AsyncSession],
    gateway: SmsGatewaySim,
    sms: HttpSmsGateway,
    smtp_peer: SmtpPeer,
) -> None:
    setup = await make_campaign(
        session_factory,
        [
            Contact("+79161230001", "Иванов", {"day": "2026-03-15", "email": "i@example.ru"}),
            Contact("+79161230002", "Петров", {"day": "2026-03-16", "email": "bad@example.ru"}),
            Contact("+79161230003", "Сидоров", {"day": "2026-03-17", "email": "s@example.ru"}),
            Contact("+79161230004", "Без даты", {"email": "nodate@example.ru"}),
        ],
        template=TEMPLATE,
        do_not_call=["+79161230003"],
    )
    gateway.blocked = {"+79161230002"}
    smtp_peer.mailbox.refuse = {"bad@example.ru": "550 no such user"}
    clock = FakeClock()
    jobs = notify_jobs(session_factory, clock)
    email = SmtpEmailSender(
        SmtpConfig(host="127.0.0.1", port=smtp_peer.port, sender="info@energo.example")
    )

    sms_job = await jobs.send(setup.actor, setup.campaign_id, Channel.SMS)
    email_job = await jobs.send(
        setup.actor, setup.campaign_id, Channel.EMAIL, subject="Плановое отключение"
    )
    # the request only stores the job: nothing is sent until a worker runs
    assert (sms_job.status, sms_job.contacts_total, sms_job.created) == (
        JobStatus.EXPANDING,
        4,
        True,
    )
    assert gateway.requests == 0
    again = await jobs.send(setup.actor, setup.campaign_id, Channel.SMS)
    assert (again.id, again.created) == (sms_job.id, False)

    await _worker(session_factory, clock, sms=sms, email=email).run_until_idle()

    rows = {
        (r.channel, r.contact_id): r for r in await jobs.deliveries(setup.campaign_id, limit=100)
    }
    assert len(rows) == 8  # one per contact and channel
    by_address = {(r.channel, r.address or str(r.contact_id)): r for r in rows.values()}
    ivanov = by_address[(Channel.SMS, "+79161230001")]
    assert (ivanov.status, ivanov.outcome, ivanov.attempts) == (DeliveryStatus.SENT, None, 1)
    assert ivanov.gateway_message_id == "gw-1"
    petrov = by_address[(Channel.SMS, "+79161230002")]
    assert (petrov.status, petrov.outcome) == (DeliveryStatus.FAILED, DeliveryOutcome.NEGATIVE)
    assert "number blocked" in petrov.reason
    sidorov = by_address[(Channel.SMS, "+79161230003")]
    assert sidorov.status is DeliveryStatus.SKIPPED
    assert "не беспокоить" in sidorov.reason
    nodate = by_address[(Channel.SMS, "+79161230004")]
    assert nodate.status is DeliveryStatus.SKIPPED
    assert "нет данных" in nodate.reason
    # by e-mail: Иванов's letter is taken (positive: SMTP has no later report), Петров's refused
    mail_ok = by_address[(Channel.EMAIL, "i@example.ru")]
    assert (mail_ok.status, mail_ok.outcome) == (DeliveryStatus.DELIVERED, DeliveryOutcome.POSITIVE)
    mail_bad = by_address[(Channel.EMAIL, "bad@example.ru")]
    assert (mail_bad.status, mail_bad.outcome) == (DeliveryStatus.FAILED, DeliveryOutcome.NEGATIVE)
    assert "550" in mail_bad.reason

    assert [(m.phone, m.text) for m in gateway.handset] == [
        ("+79161230001", "Иванов, 15.03.2026 плановое отключение электроэнергии.")
    ]
    [envelope] = smtp_peer.mailbox.messages
    assert envelope.rcpt_tos == ["i@example.ru"]
    assert isinstance(envelope.original_content, bytes)
    letter = message_from_bytes(envelope.original_content, policy=email_policy.default)
    assert letter["Subject"] == "Плановое отключение"
    assert isinstance(letter, EmailMessage)
    body = letter.get_body()
    assert body is not None
    assert "15.03.2026 плановое отключение" in body.get_content()

    progress = {p.channel: p for p in await jobs.progress(setup.campaign_id)}
    sms_progress = progress[Channel.SMS]
    assert sms_progress.job_status is JobStatus.DONE
    assert (
        sms_progress.count(DeliveryStatus.SENT),
        sms_progress.count(DeliveryStatus.FAILED),
        sms_progress.count(DeliveryStatus.SKIPPED),
        sms_progress.negative,
        sms_progress.handled,
    ) == (1, 1, 2, 1, 4)
    assert email_job.id != sms_job.id
    assert progress[Channel.EMAIL].positive == 1
    [minute] = sms_progress.per_minute
    assert (minute.minute, minute.sent, minute.failed) == (clock.now.replace(second=0), 1, 1)


async def test_temporary_failures_are_retried_later_and_a_slow_reply_is_not_sent_twice(
    session_factory: async_sessionmaker[AsyncSession],
    gateway: SmsGatewaySim,
    sms: HttpSmsGateway,
) -> None:
    setup = await make_campaign(
        session_factory,
        [
            Contact("+79161230001", "Иванов", {"day": "2026-03-15"}),
            Contact("+79161230002", "Петров", {"day": "2026-03-16"}),
            Contact("+79161230003", "Сидоров", {"day": "2026-03-17"}),
        ],
        template=TEMPLATE,
    )
    # Сидоров's operator is down for good; the gateway answers the first request 503 and
    # takes the second without answering in time (the client gives up after a second)
    gateway.failing = {"+79161230003"}
    clock = FakeClock()
    jobs = notify_jobs(session_factory, clock)
    await jobs.send(setup.actor, setup.campaign_id, Channel.SMS)
    worker = _worker(session_factory, clock, sms=sms, concurrency=1, max_attempts=3)
    gateway.script = ["fail", "stall"]

    await worker.run_until_idle()
    rows = {r.address: r for r in await jobs.deliveries(setup.campaign_id)}
    assert {a: (r.status, r.attempts) for a, r in rows.items()} == {
        "+79161230001": (DeliveryStatus.QUEUED, 1),
        "+79161230002": (DeliveryStatus.QUEUED, 1),
        "+79161230003": (DeliveryStatus.QUEUED, 1),
    }
    assert "503" in rows["+79161230001"].reason
    assert gateway.stalled == 1
    assert len(gateway.handset) == 1  # the stalled one was sent, its reply never came

    # nothing is due before the backoff ends
    await worker.run_until_idle()
    assert gateway.requests == 3
    clock.advance(60 * 1.2)
    await worker.run_until_idle()
    clock.advance(120 * 1.2)
    await worker.run_until_idle()

    rows = {r.address: r for r in await jobs.deliveries(setup.campaign_id)}
    assert rows["+79161230001"].status is DeliveryStatus.SENT
    assert rows["+79161230002"].status is DeliveryStatus.SENT
    given_up = rows["+79161230003"]
    assert (given_up.status, given_up.outcome, given_up.attempts) == (
        DeliveryStatus.FAILED,
        DeliveryOutcome.NEGATIVE,
        3,
    )
    assert "3 попыток" in given_up.reason
    # the retry of the stalled message carried the same key: the gateway did not resend it
    assert gateway.repeated_keys == 1
    assert sorted(gateway.received_by().items()) == [("+79161230001", 1), ("+79161230002", 1)]
    [progress] = await jobs.progress(setup.campaign_id)
    assert progress.job_status is JobStatus.DONE


async def test_a_paused_campaign_waits_and_the_calling_window_holds_messages_until_morning(
    session_factory: async_sessionmaker[AsyncSession],
    gateway: SmsGatewaySim,
    sms: HttpSmsGateway,
) -> None:
    from callcenter.domain.campaign_lifecycle import CampaignAction
    from callcenter.outbound.campaigns import CampaignsService

    setup = await make_campaign(
        session_factory,
        [
            Contact("+79161230001", "Иванов", {"day": "2026-03-15"}),
            Contact("+73431230002", "Петров", {"day": "2026-03-16"}, timezone="Asia/Kamchatka"),
        ],
        template=TEMPLATE,
    )
    clock = FakeClock()  # 12:00 in Moscow, 21:00 in Kamchatka
    clock.advance(3600)  # 13:00 in Moscow, 22:00 in Kamchatka: its window closed
    jobs = notify_jobs(session_factory, clock)
    campaigns = CampaignsService(session_factory, clock=clock)
    await campaigns.act(setup.actor, setup.campaign_id, CampaignAction.START)
    await campaigns.act(setup.actor, setup.campaign_id, CampaignAction.PAUSE)
    await jobs.send(setup.actor, setup.campaign_id, Channel.SMS)
    worker = _worker(session_factory, clock, sms=sms)

    await worker.run_until_idle()
    assert gateway.requests == 0
    statuses = {r.address: r.status for r in await jobs.deliveries(setup.campaign_id)}
    assert set(statuses.values()) == {DeliveryStatus.QUEUED}

    await campaigns.act(setup.actor, setup.campaign_id, CampaignAction.RESUME)
    await worker.run_until_idle()
    assert [m.phone for m in gateway.handset] == ["+79161230001"]
    [held] = await jobs.deliveries(setup.campaign_id, status=DeliveryStatus.QUEUED)
    assert held.address == "+73431230002"
    assert held.attempts == 0
    clock.advance(10 * 3600)  # 08:00 in Kamchatka
    await worker.run_until_idle()
    assert [m.phone for m in gateway.handset] == ["+79161230001", "+73431230002"]


# ----------------------------------------------------------------------------- crashes


async def _start_worker_process(database_url: str, gateway_url: str) -> asyncio.subprocess.Process:
    """`python -m callcenter.bootstrap.notify_worker`, the worker alone in its own process."""
    env = clean_env(
        CALLCENTER_DATABASE_URL=database_url,
        CALLCENTER_SMS_GATEWAY_URL=gateway_url,
        CALLCENTER_NOTIFY_LEASE="2",
        CALLCENTER_NOTIFY_SMS_RATE="1000",
        CALLCENTER_LOG_LEVEL="WARNING",
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callcenter.bootstrap.notify_worker",
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_worker_killed_mid_campaign_and_started_again_sends_each_message_once(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    gateway: SmsGatewaySim,
) -> None:
    contacts = [Contact(f"+7916{n:07d}", f"Абонент {n}", {"day": "2026-03-15"}) for n in range(300)]
    setup = await make_campaign(
        session_factory,
        contacts,
        template=TEMPLATE,
        all_day=True,
        starts_at=datetime.now(UTC) - timedelta(hours=1),
    )
    jobs = notify_jobs(session_factory)
    # 150 messages go through; the next ten are taken and sent but never answered
    gateway.script = ["ok"] * 150 + ["stall"] * 10
    await jobs.send(setup.actor, setup.campaign_id, Channel.SMS)

    first = await _start_worker_process(database_url, gateway.url)
    try:
        async with asyncio.timeout(60):
            await gateway.wait_stalled(10)
    finally:
        first.kill()
        await first.wait()
    assert first.returncode == -signal.SIGKILL
    in_flight = await jobs.deliveries(setup.campaign_id, status=DeliveryStatus.SENDING)
    assert len(in_flight) >= 10  # the killed worker's: sent or not, nobody knows
    gateway.release()

    second = await _start_worker_process(database_url, gateway.url)
    try:

        async def all_handled() -> bool:
            [progress] = await jobs.progress(setup.campaign_id)
            return progress.handled == len(contacts)

        await eventually(all_handled, within=60, poll=0.05)  # database rows: no event
    finally:
        second.terminate()
        await second.wait()

    rows = await jobs.deliveries(setup.campaign_id, limit=1000)
    assert {r.status for r in rows} == {DeliveryStatus.SENT}
    assert len(rows) == len(contacts)
    received = gateway.received_by()
    assert set(received) == {c.phone for c in contacts}  # lost: 0
    assert gateway.duplicates == 0
    # the restarted worker did resend what the killed one had in flight, with the same keys
    assert gateway.repeated_keys >= 10


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_workers_share_the_queue_without_sending_anything_twice(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    gateway: SmsGatewaySim,
) -> None:
    contacts = [Contact(f"+7916{n:07d}", f"Абонент {n}", {"day": "2026-03-15"}) for n in range(600)]
    setup = await make_campaign(
        session_factory,
        contacts,
        template=TEMPLATE,
        all_day=True,
        starts_at=datetime.now(UTC) - timedelta(hours=1),
    )
    gateway.delay = 0.01
    engines = [create_engine(database_url) for _ in range(2)]
    sent_by: list[Counter[str]] = [Counter(), Counter()]

    class Counting:
        def __init__(self, inner: HttpSmsGateway, tally: Counter[str]) -> None:
            self.inner, self.tally = inner, tally

        async def send(self, phone: str, text: str, *, idempotency_key: str = "") -> object:
            self.tally[phone] += 1
            return await self.inner.send(phone, text, idempotency_key=idempotency_key)

    async with contextlib.AsyncExitStack() as stack:
        workers = []
        for n, engine in enumerate(engines):
            stack.push_async_callback(engine.dispose)
            client = await stack.enter_async_context(
                HttpSmsGateway(SmsGatewayConfig(url=gateway.url, sender="Energo"))
            )
            worker = NotifyWorker(
                create_session_factory(engine),
                clock=lambda: datetime.now(UTC),
                sms=Counting(client, sent_by[n]),
                config=WorkerConfig(sms_rate=1000, batch=20, concurrency=5, poll_interval=0.1),
                name=f"worker-{n}",
            )
            workers.append(worker)
        for worker in workers:
            await worker.start()
            stack.push_async_callback(worker.stop)
        jobs = notify_jobs(session_factory)
        await jobs.send(setup.actor, setup.campaign_id, Channel.SMS)

        async def all_handled() -> bool:
            [progress] = await jobs.progress(setup.campaign_id)
            return progress.handled == len(contacts)

        await eventually(all_handled, within=60, poll=0.05)  # database rows: no event

    assert gateway.duplicates == 0
    assert gateway.repeated_keys == 0  # no message was ever offered to the gateway twice
    assert set(gateway.received_by()) == {c.phone for c in contacts}
    assert all(tally.total() > 0 for tally in sent_by)  # both took part
    assert not set(sent_by[0]) & set(sent_by[1])


async def test_a_worker_stopped_mid_send_gives_its_messages_back_at_once(
    session_factory: async_sessionmaker[AsyncSession],
    gateway: SmsGatewaySim,
    sms: HttpSmsGateway,
) -> None:
    setup = await make_campaign(
        session_factory,
        [Contact("+79161230001", "Иванов", {"day": "2026-03-15"})],
        template=TEMPLATE,
    )
    clock = FakeClock()
    jobs = notify_jobs(session_factory, clock)
    await jobs.send(setup.actor, setup.campaign_id, Channel.SMS)
    gateway.script = ["stall"]
    worker = _worker(session_factory, clock, sms=sms)
    await worker.start()
    try:
        async with asyncio.timeout(30):
            await gateway.wait_stalled(1)
    finally:
        await worker.stop()
    [row] = await jobs.deliveries(setup.campaign_id)
    assert (row.status, row.attempts) == (DeliveryStatus.QUEUED, 0)

    gateway.release()
    await _worker(session_factory, clock, sms=sms).run_until_idle()
    [row] = await jobs.deliveries(setup.campaign_id)
    assert row.status is DeliveryStatus.SENT
    assert gateway.repeated_keys == 1  # resent with its key: the handset got it once
    assert gateway.received_by() == {"+79161230001": 1}
