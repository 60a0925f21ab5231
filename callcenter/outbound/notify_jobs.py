"""Auto-informing by SMS and e-mail as durable jobs (SPEC §6).

A supervisor's "send" only stores a job (one row per campaign and channel) and returns at
once, whatever the list size. Workers do the rest, in the API process or a worker process,
never on the telephony event loop:

1. expand: the job becomes one delivery row per contact and channel, a thousand contacts per
   transaction (the do-not-contact list, missing addresses and message values are settled
   here: such deliveries are `skipped` with the reason);
2. send: a worker claims due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number
   of workers share the queue; SQLite serialises writers, one worker is enough there) with a
   lease, sends them through the channel's gateway at the channel's rate, and stores the
   result: `sent` (or `delivered` for e-mail), `queued` again with backoff after a temporary
   failure, `failed` after a permanent one or when the attempts run out;
3. a worker that dies leaves its deliveries `sending`; when the lease ends another worker
   (or the restarted one) takes them again and sends them with the same idempotency key, so
   a gateway that honours keys does not send the message twice (a worker that is stopped
   gives them back at once);
4. the SMS gateway's delivery reports (`apply_report`) turn `sent` into `delivered`
   (positive) or `failed` (negative).

The store is `tx.notify_jobs` (the generated `NotifyJobsStore` port; the SQL is in
`db/repositories/notify_jobs.py`); the gateways are the `SmsSender` / `EmailSender` Protocols
(`callcenter.notify` implements them).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from callcenter.common.access import (
    AccessDenied,
    Actor,
    Clock,
    InvalidInput,
    NotFound,
    UseCases,
)
from callcenter.domain.calling_windows import (
    CallingWindow,
    CampaignPeriod,
    WindowError,
    earliest_call,
    parse_zone,
)
from callcenter.domain.campaigns import CampaignStatus
from callcenter.domain.message_templates import MessageTemplate, TemplateError
from callcenter.domain.notify import (
    CampaignForSend,
    Channel,
    ChannelProgress,
    Claimed,
    ContactRow,
    DeliveryRow,
    DeliveryStatus,
    ExpansionJob,
    JobView,
    NewDelivery,
    Outcome,
    ReportResult,
    ReportStatus,
    new_idempotency_key,
    retry_delay,
)
from callcenter.notify.errors import DeliveryFailed, DeliveryRefused, NotifyError
from callcenter.ports.stores import Transactions

log = logging.getLogger(__name__)

EMAIL_VARIABLE = "email"  # the contact variable holding the e-mail address (CSV column)
EXPAND_CHUNK = 1000
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
MAX_REASON = 500


# ----------------------------------------------------------------------------- ports


class SmsSender(Protocol):
    async def send(self, phone: str, text: str, *, idempotency_key: str = "") -> object: ...


class EmailSender(Protocol):
    async def send(
        self, to: str, subject: str, body: str, *, idempotency_key: str = ""
    ) -> object: ...


# ----------------------------------------------------------------------------- use cases


class NotifyJobs(UseCases):
    """What the API asks: start sending, progress, the deliveries, delivery reports."""

    def __init__(
        self,
        sessions: Transactions,
        *,
        clock: Clock,
        channels: frozenset[Channel] = frozenset(),
        wake: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(sessions, clock=clock)
        self._channels = channels  # the channels with a configured gateway
        self._wake = wake

    async def send(
        self, actor: Actor, campaign_id: int, channel: Channel, *, subject: str = ""
    ) -> JobView:
        """Store the job and return; a repeated request returns the existing job."""
        if not actor.is_supervisor:
            raise AccessDenied(
                "Кампаниями управляет супервизор",
                action=f"campaign_send_{channel.value}",
                object_type="campaign",
                object_id=str(campaign_id),
            )
        if channel not in self._channels:
            raise InvalidInput(
                "SMS-шлюз не настроен" if channel is Channel.SMS else "Почтовый сервер не настроен"
            )
        async with self.transaction(actor) as tx:
            campaign = await tx.notify_jobs.campaign_for_send(campaign_id)
            _check_sendable(campaign_id, campaign)
            assert campaign is not None
            job = await tx.notify_jobs.create_job(
                campaign,
                channel,
                " ".join(subject.split())[:200],
                user_id=actor.user_id,
                now=self.now(),
            )
            if job.created:
                await self.audit(
                    tx,
                    actor,
                    f"campaign_send_{channel.value}",
                    object_type="campaign",
                    object_id=campaign.id,
                    details={"job_id": job.id, "contacts": job.contacts_total},
                )
        if self._wake is not None:
            self._wake()
        return job

    async def progress(self, campaign_id: int, *, minutes: int = 60) -> list[ChannelProgress]:
        now = self.now()
        since = now.replace(second=0, microsecond=0) - timedelta(minutes=max(0, minutes - 1))
        async with self._sessions() as tx:
            return await tx.notify_jobs.progress(campaign_id, since=since)

    async def deliveries(
        self,
        campaign_id: int,
        *,
        channel: Channel | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[DeliveryRow]:
        async with self._sessions() as tx:
            return await tx.notify_jobs.deliveries(
                campaign_id, channel=channel, status=status, limit=limit, offset=offset
            )

    async def report(
        self, *, gateway_message_id: str, idempotency_key: str, status: ReportStatus, reason: str
    ) -> ReportResult:
        if not gateway_message_id and not idempotency_key:
            return ReportResult(applied=False, known=False)
        async with self._sessions.begin() as tx:
            return await tx.notify_jobs.apply_report(
                gateway_message_id=gateway_message_id[:128],
                idempotency_key=idempotency_key[:64],
                status=status,
                reason=reason[:MAX_REASON],
                now=self.now(),
            )


def _check_sendable(campaign_id: int, campaign: CampaignForSend | None) -> None:
    if campaign is None:
        raise NotFound(f"Кампания {campaign_id} не найдена")
    if campaign.status is CampaignStatus.CANCELLED:
        raise InvalidInput("Кампания отменена")
    if campaign.contact_list_id is None:
        raise InvalidInput("У кампании нет списка контактов")
    if not campaign.message_template.strip():
        raise InvalidInput("Для рассылки нужен текст сообщения")
    try:
        MessageTemplate.parse(campaign.message_template)
    except TemplateError as exc:
        raise InvalidInput(f"Текст сообщения: {exc}") from None


def plan_deliveries(
    job: ExpansionJob, contacts: Sequence[ContactRow], blocked: set[str]
) -> list[NewDelivery]:
    """The deliveries of a chunk of contacts: queued, or skipped with the reason (pure)."""
    template = MessageTemplate.parse(job.message_template)
    planned: list[NewDelivery] = []
    for contact in contacts:
        key = new_idempotency_key()

        def skipped(
            reason: str, address: str = "", *, key: str = key, c: ContactRow = contact
        ) -> NewDelivery:
            return NewDelivery(c.id, key, address, job.subject, "", DeliveryStatus.SKIPPED, reason)

        if job.channel is Channel.SMS:
            address = contact.phone.strip()
            if not _E164.match(address):
                planned.append(skipped(f"«{address}» — не номер для SMS", address))
                continue
        else:
            address = str(contact.variables.get(EMAIL_VARIABLE) or "").strip()
            if not address:
                planned.append(skipped("нет адреса электронной почты"))
                continue
            if not _EMAIL.match(address) or len(address) > 254:
                planned.append(skipped(f"«{address}» — не адрес электронной почты", address[:320]))
                continue
        if contact.phone in blocked:
            planned.append(skipped("абонент в списке «не беспокоить»", address))
            continue
        try:
            text = template.render({"name": contact.name, **contact.variables})
        except TemplateError as exc:
            planned.append(skipped(f"нет данных для сообщения: {exc}"[:MAX_REASON], address))
            continue
        planned.append(
            NewDelivery(contact.id, key, address, job.subject, text, DeliveryStatus.QUEUED)
        )
    return planned


# ----------------------------------------------------------------------------- the worker


@dataclass(frozen=True)
class WorkerConfig:
    sms_rate: float = 20.0  # messages per second through the SMS gateway (per worker)
    email_rate: float = 5.0  # letters per second through the SMTP server (per worker)
    concurrency: int = 10  # messages in flight per channel
    batch: int = 100  # deliveries claimed at once
    lease: float = 60.0  # seconds a claimed delivery stays with its worker without renewal
    max_attempts: int = 6
    retry_base: float = 30.0  # first retry after ~this many seconds, doubling each time
    retry_cap: float = 3600.0
    poll_interval: float = 1.0  # seconds between looks at an empty queue
    default_zone: str = "Europe/Moscow"


class RateLimiter:
    """At most `rate` starts per second, evenly spaced (no burst): a gateway's limit is
    usually "N per second", and spacing keeps us under it at every instant."""

    def __init__(
        self,
        rate: float,
        *,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._monotonic = monotonic or asyncio.get_running_loop().time
        self._sleep = sleep
        self._next = 0.0

    async def acquire(self) -> None:
        now = self._monotonic()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class NotifyWorker:
    """Expands jobs and sends deliveries until stopped. `start()`/`stop()` are what the
    composition root (or a worker process) calls; `run_until_idle()` is for tests and tools."""

    def __init__(
        self,
        sessions: Transactions,
        *,
        clock: Clock,
        sms: SmsSender | None = None,
        email: EmailSender | None = None,
        config: WorkerConfig | None = None,
        name: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._sms = sms
        self._email = email
        self._senders = [
            channel
            for channel, sender in ((Channel.SMS, sms), (Channel.EMAIL, email))
            if sender is not None
        ]
        self._config = config or WorkerConfig()
        self.name = name or worker_name()
        self._tasks: list[asyncio.Task[None]] = []
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._limiters: dict[Channel, RateLimiter] = {}

    @property
    def channels(self) -> frozenset[Channel]:
        return frozenset(self._senders)

    def wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        if self._tasks:
            return
        self._stopping.clear()
        self._tasks.append(asyncio.create_task(self._loop(self._expand_once), name="notify-expand"))
        for channel in self._senders:
            self._tasks.append(
                asyncio.create_task(
                    self._loop(functools.partial(self._send_once, channel)),
                    name=f"notify-{channel.value}",
                )
            )
        log.info(
            "notify worker %s started: %s", self.name, ", ".join(self._senders) or "no gateway"
        )

    async def stop(self) -> None:
        """Stop claiming; messages in flight are cancelled and their deliveries go back to
        the queue at once (killed instead, the worker leaves them until their lease ends);
        the next attempt sends the same idempotency key."""
        self._stopping.set()
        self._wakeup.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        try:
            async with self._sessions.begin() as tx:
                released = await tx.notify_jobs.release(self.name, self._clock())
        except Exception:  # the lease ends anyway
            log.warning("notify worker %s could not give back its messages", self.name)
        else:
            if released:
                log.info("notify worker %s gave back %d messages in flight", self.name, released)

    async def _loop(self, step: Callable[[], Awaitable[bool]]) -> None:
        while not self._stopping.is_set():
            try:
                busy = await step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notify worker step failed; retrying shortly")
                busy = False
            if busy:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._config.poll_interval):
                    await self._wakeup.wait()
            self._wakeup.clear()

    async def run_until_idle(self) -> None:
        """Expand and send until nothing is due now (retries due later are left queued)."""
        while True:
            busy = await self._expand_once()
            for channel in self._senders:
                busy = await self._send_once(channel) or busy
            if not busy:
                await self._close_finished_jobs()
                return

    async def _expand_once(self) -> bool:
        """Turn the next chunk of one job's contacts into deliveries, in one transaction
        (a crash leaves the cursor where the last committed chunk ended)."""
        async with self._sessions.begin() as tx:
            job = await tx.notify_jobs.lock_expanding_job()
            if job is not None:
                contacts: list[ContactRow] = []
                if job.contact_list_id is not None:
                    contacts = await tx.notify_jobs.contacts_after(
                        job.contact_list_id, job.expanded_after, EXPAND_CHUNK
                    )
                blocked = await tx.campaigns.do_not_call_among({c.phone for c in contacts})
                planned = plan_deliveries(job, contacts, blocked)
                await tx.notify_jobs.add_deliveries(job, planned, self._clock())
                await tx.notify_jobs.advance_job(
                    job.id,
                    contacts[-1].id if contacts else job.expanded_after,
                    expanded=len(contacts) < EXPAND_CHUNK,
                )
        if job is None:
            await self._close_finished_jobs()
            return False
        self._wakeup.set()  # the senders have work
        return True

    async def _close_finished_jobs(self) -> None:
        async with self._sessions.begin() as tx:
            await tx.notify_jobs.close_finished_jobs(self._clock())

    def _limiter(self, channel: Channel) -> RateLimiter:
        limiter = self._limiters.get(channel)
        if limiter is None:
            rate = self._config.sms_rate if channel is Channel.SMS else self._config.email_rate
            limiter = self._limiters[channel] = RateLimiter(rate)
        return limiter

    async def _send_once(self, channel: Channel) -> bool:
        cfg = self._config
        now = self._clock()
        async with self._sessions.begin() as tx:
            batch = await tx.notify_jobs.claim(
                channel,
                self.name,
                now=now,
                lease_until=now + timedelta(seconds=cfg.lease),
                limit=cfg.batch,
            )
        if not batch:
            return False
        renewer = asyncio.create_task(self._renew([c.id for c in batch]))
        try:
            outcomes = await self._send_batch(channel, batch)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        async with self._sessions.begin() as tx:
            await tx.notify_jobs.finish(self.name, outcomes, self._clock())
        return True

    async def _renew(self, ids: list[int]) -> None:
        lease = self._config.lease
        while True:
            await asyncio.sleep(lease / 3)
            async with self._sessions.begin() as tx:
                await tx.notify_jobs.renew(self.name, ids, self._clock() + timedelta(seconds=lease))

    async def _send_batch(self, channel: Channel, batch: Sequence[Claimed]) -> list[Outcome]:
        gate = asyncio.Semaphore(self._config.concurrency)
        limiter = self._limiter(channel)

        async def one(item: Claimed) -> Outcome:
            held = self._hold(item)
            if held is not None:
                return held
            async with gate:
                await limiter.acquire()
                return await self._deliver(channel, item)

        return list(await asyncio.gather(*(one(item) for item in batch)))

    def _hold(self, item: Claimed) -> Outcome | None:
        """Not now: the campaign is cancelled, over, or the contact's window is closed."""
        now = self._clock()
        if item.campaign_status is CampaignStatus.CANCELLED:
            return Outcome(
                item.id, DeliveryStatus.SKIPPED, "кампания отменена", counts_attempt=False
            )
        try:
            window = CallingWindow.of(item.window_start, item.window_end, item.weekdays)
            period = CampaignPeriod(item.starts_at, item.ends_at)
            zone = parse_zone(item.timezone, self._config.default_zone)
        except (WindowError, ValueError):
            return None  # a campaign saved before the checks: send rather than hold forever
        when = earliest_call(now, window, zone, period)
        if when is None:
            return Outcome(
                item.id,
                DeliveryStatus.SKIPPED,
                "вне окна рассылки: кампания закончилась",
                counts_attempt=False,
            )
        if when > now:
            return Outcome(
                item.id, DeliveryStatus.QUEUED, next_attempt_at=when, counts_attempt=False
            )
        return None

    async def _deliver(self, channel: Channel, item: Claimed) -> Outcome:
        cfg = self._config
        try:
            if channel is Channel.SMS and self._sms is not None:
                receipt = await self._sms.send(
                    item.address, item.text, idempotency_key=item.idempotency_key
                )
            elif self._email is not None:
                receipt = await self._email.send(
                    item.address,
                    item.subject or "Уведомление",
                    item.text,
                    idempotency_key=item.idempotency_key,
                )
            else:
                raise DeliveryFailed("канал рассылки не настроен")
        except DeliveryRefused as exc:
            return Outcome(item.id, DeliveryStatus.FAILED, _reason(exc))
        except (DeliveryFailed, NotifyError) as exc:
            attempt = item.attempts + 1
            if attempt >= cfg.max_attempts:
                return Outcome(
                    item.id,
                    DeliveryStatus.FAILED,
                    _reason(f"не отправлено за {attempt} попыток: {exc}"),
                )
            delay = retry_delay(attempt, base=cfg.retry_base, cap=cfg.retry_cap)
            return Outcome(
                item.id,
                DeliveryStatus.QUEUED,
                _reason(exc),
                next_attempt_at=self._clock() + timedelta(seconds=delay),
            )
        gateway_id = str(getattr(receipt, "message_id", "") or "")[:128]
        # SMTP has no delivery report: the mail server taking the letter is the last word
        status = DeliveryStatus.SENT if channel is Channel.SMS else DeliveryStatus.DELIVERED
        return Outcome(item.id, status, gateway_message_id=gateway_id)


def _reason(error: object) -> str:
    return " ".join(str(error).split())[:MAX_REASON]
