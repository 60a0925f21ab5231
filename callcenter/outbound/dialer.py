"""The outbound dialer: places campaign calls through AMI Originate and serves them over AGI.

One `DialerService` per platform instance. Every few seconds it looks for campaigns that are
due (scheduled or running, start time reached) and runs each one it can lock (`CampaignLocks`:
a PostgreSQL advisory lock, so only one instance dials a campaign) in a `CampaignDialer` task:

    loop:  pace (domain.pacing) -> pick due contacts in an open calling window, not on the
           do-not-call list -> store a pending attempt -> Originate(Context=dialer, Exten=amd,
           ChannelId=<uuid>, Variable: CC_CAMPAIGN_ID / CC_ATTEMPT_ID / CC_CONTACT_ID)

Then, for each call:
- `on_originate_response` (the lead's AMI listener calls it for every OriginateResponse):
  Reason 0/3/5/8 closes the attempt as negative with that reason code (busy, no answer...);
  Reason 4 (answered) waits for the AGI session.
- the "dialer" FastAGI route (`dialer_agi_handler`): the dialplan ran AMD() first; the handler
  reads AMDSTATUS/AMDCAUSE and, by campaign kind, plays the message (with the confirm and
  operator keys), runs the DTMF survey, or hands a live answer to the campaign queue
  (IVR_TARGET) if an operator is free within 2 s - else plays the apology: abandoned.
  The attempt is closed when the session ends, positive or negative (domain.dial_outcomes),
  with the reason code and AMD result, and the retry is scheduled by result.

The AMI client, the AGI channel, the TTS renderer and the
operator states come in through the small Protocols below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from sqlalchemy import or_, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callcenter.db.engine import SessionFactory, create_session_factory
from callcenter.db.models import Campaign
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.db.repositories import surveys as surveys_repo
from callcenter.domain import dialplan
from callcenter.domain.agents import OperatorState
from callcenter.domain.calling_windows import (
    CallingWindow,
    CampaignPeriod,
    WindowError,
    parse_zone,
)
from callcenter.domain.campaign_lifecycle import ACTIVE_STATUSES
from callcenter.domain.campaigns import (
    CampaignKind,
    CampaignStatus,
    DialMode,
    MachineAction,
)
from callcenter.domain.dial_outcomes import (
    LIVE_RESULTS,
    REASON_ANSWERED,
    AnsweredCall,
    DialResult,
    RetryPolicy,
    classify_answered,
    is_machine,
    outcome_of,
    result_of_reason,
)
from callcenter.domain.message_templates import MessageTemplate, TemplateError
from callcenter.domain.pacing import (
    CallLoad,
    HandleTimes,
    OperatorLoad,
    Pacer,
    PacerConfig,
    PacingDecision,
    PacingReason,
    PredictiveSettings,
)
from callcenter.ports.queries import DueContact

log = logging.getLogger(__name__)

Sessions = SessionFactory
Clock = Callable[[], datetime]

# Channel variables given with Originate: the dialplan and the AGI session can read them.
VAR_CAMPAIGN = "CC_CAMPAIGN_ID"
VAR_ATTEMPT = "CC_ATTEMPT_ID"
VAR_CONTACT = "CC_CONTACT_ID"
# Read by the dialer context after AGI() returns (asterisk_conf/extensions.conf [dialer]).
VAR_TARGET = "IVR_TARGET"
VAR_CLOSED = "IVR_CLOSED"

# What callers hear besides the campaign's own message (rendered by TTS, cached).
TEXT_AFTER_MESSAGE = (
    "Если вы прослушали сообщение, нажмите 1. Чтобы поговорить с оператором, нажмите 0."
)
TEXT_GOODBYE = "Спасибо. До свидания."
TEXT_APOLOGY = "Извините, сейчас все операторы заняты. Мы перезвоним вам позже. До свидания."
TEXT_TO_OPERATOR = "Соединяю с оператором."
TEXT_SURVEY_INTRO = "Просим вас ответить на несколько вопросов, нажимая цифры на телефоне."
TEXT_SURVEY_AGAIN = "Ответ не распознан. Повторяю вопрос."
TEXT_SURVEY_THANKS = "Спасибо за ответы. До свидания."


# ----------------------------------------------------------------------------- ports


class Originator(Protocol):
    """What the dialer needs of the AMI client (callcenter.asterisk.ami.AmiClient has it)."""

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int | None = None,
        channel_id: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        ring_timeout: float | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> object: ...


class _Environment(Protocol):
    @property
    def uniqueid(self) -> str: ...


class DialerChannel(Protocol):
    """What the AGI handler needs of a session (callcenter.asterisk.agi.AgiChannel has it)."""

    @property
    def env(self) -> _Environment: ...

    @property
    def hung_up(self) -> bool: ...

    async def get_variable(self, name: str) -> str | None: ...

    async def set_variable(self, name: str, value: object) -> None: ...

    async def stream_file(self, name: str, escape_digits: str = "") -> tuple[str | None, int]: ...

    async def get_data(
        self, file: str, timeout_ms: int = 5000, max_digits: int = 1
    ) -> str | None: ...

    async def hangup(self) -> None: ...


class _Rendered(Protocol):
    @property
    def asterisk_name(self) -> str: ...


class PromptSource(Protocol):
    """Text to an Asterisk prompt (callcenter.speech.tts.PromptRenderer has it)."""

    async def render(self, text: str) -> _Rendered: ...


class OperatorPool(Protocol):
    """Operators who take a queue's campaign calls, as the ACD sees them."""

    def load(self, queue: str, now: datetime) -> OperatorLoad: ...

    def handle_times(self, queue: str) -> HandleTimes: ...

    async def reserve(self, queue: str, within: float) -> bool:
        """Wait up to `within` s for an idle operator and hold them for the next call."""
        ...


class CampaignLocks(Protocol):
    """Only one platform instance dials a campaign."""

    async def acquire(self, campaign_id: int) -> bool: ...

    async def held(self, campaign_id: int) -> bool: ...

    async def release(self, campaign_id: int) -> None: ...


# ----------------------------------------------------------------------------- locks


class InProcessLocks:
    """Campaign locks shared by every DialerService of this process and database.

    Used for SQLite, which has no row locks and no advisory locks: it protects against two
    dialers in one process only (SQLite is the single-instance, embedded setup).
    """

    _owners: ClassVar[dict[tuple[str, int], object]] = {}  # shared by design

    def __init__(self, database: str) -> None:
        self._database = database
        self._token = object()

    async def acquire(self, campaign_id: int) -> bool:
        key = (self._database, campaign_id)
        owner = self._owners.setdefault(key, self._token)
        return owner is self._token

    async def held(self, campaign_id: int) -> bool:
        return self._owners.get((self._database, campaign_id)) is self._token

    async def release(self, campaign_id: int) -> None:
        key = (self._database, campaign_id)
        if self._owners.get(key) is self._token:
            del self._owners[key]


class PostgresAdvisoryLocks:
    """`pg_try_advisory_lock(namespace, campaign id)` held on a dedicated connection.

    The lock lives as long as that connection: if this instance dies or loses the database,
    PostgreSQL releases it and another instance takes the campaign over. `held` checks the
    connection is still alive (a lost connection means a lost lock).
    """

    NAMESPACE = 0x43434431  # "CCD1": keeps our keys apart from other advisory-lock users

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("advisory locks need PostgreSQL")
        self._engine = engine
        self._connections: dict[int, AsyncConnection] = {}

    async def acquire(self, campaign_id: int) -> bool:
        if campaign_id in self._connections:
            return True
        conn = await self._engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:ns, :id)"),
                {"ns": self.NAMESPACE, "id": campaign_id},
            )
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._connections[campaign_id] = conn
        return True

    async def held(self, campaign_id: int) -> bool:
        conn = self._connections.get(campaign_id)
        if conn is None:
            return False
        try:
            await conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("dialer: lost the database connection holding campaign %s", campaign_id)
            self._connections.pop(campaign_id, None)
            with contextlib.suppress(Exception):
                await conn.close()
            return False
        return True

    async def release(self, campaign_id: int) -> None:
        conn = self._connections.pop(campaign_id, None)
        if conn is None:
            return
        try:
            await conn.execute(
                text("SELECT pg_advisory_unlock(:ns, :id)"),
                {"ns": self.NAMESPACE, "id": campaign_id},
            )
        except Exception:
            log.warning("dialer: could not unlock campaign %s (the connection will)", campaign_id)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()


class LeaseLocks:
    """A lease in the campaign's row: `dialer_owner` and `dialer_heartbeat_at`.

    For SQLite, which has no advisory locks: each claim or renewal is one UPDATE whose WHERE
    clause only matches a free, own, or expired lease, so two instances on one database file
    never both hold a campaign. A holder renews the lease on every `held` check; one that
    stops renewing (it died) loses the campaign after `ttl_seconds`.
    """

    def __init__(
        self,
        sessions: Sessions,
        *,
        owner: str | None = None,
        ttl_seconds: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self._sessions = sessions
        self.owner = owner or f"dialer-{uuid.uuid4().hex[:16]}"
        self._ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def _claim(self, campaign_id: int, *, take_free: bool) -> bool:
        now = self._clock()
        mine = Campaign.dialer_owner == self.owner
        claimable = or_(
            mine,
            Campaign.dialer_owner.is_(None),
            Campaign.dialer_heartbeat_at.is_(None),
            Campaign.dialer_heartbeat_at < now - self._ttl,
        )
        stmt = (
            update(Campaign)
            .where(Campaign.id == campaign_id, claimable if take_free else mine)
            .values(dialer_owner=self.owner, dialer_heartbeat_at=now)
        )
        async with self._sessions.begin() as session:
            result = await session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    async def acquire(self, campaign_id: int) -> bool:
        return await self._claim(campaign_id, take_free=True)

    async def held(self, campaign_id: int) -> bool:
        return await self._claim(campaign_id, take_free=False)

    async def release(self, campaign_id: int) -> None:
        stmt = (
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.dialer_owner == self.owner)
            .values(dialer_owner=None, dialer_heartbeat_at=None)
        )
        async with self._sessions.begin() as session:
            await session.execute(stmt)


def locks_for(engine: AsyncEngine) -> CampaignLocks:
    """PostgreSQL: advisory locks; SQLite: a lease in the campaign's row."""
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLocks(engine)
    return LeaseLocks(create_session_factory(engine))


# ----------------------------------------------------------------------------- operators


@dataclass
class _Member:
    state: OperatorState
    since: datetime


class InMemoryOperatorPool:
    """Operator states per queue, fed by whoever follows the ACD (`set_state`).

    Busy states (ringing, on call, wrap-up) count as busy from when the call reached the
    operator; going back to READY records that handle time for the pacing. `reserve` holds an
    idle operator for a live answer the dialer is about to hand over, so that two answers at
    once do not count on the same person; a reservation is used up when an operator leaves
    READY, or lapses after `reservation_seconds`.
    """

    def __init__(self, *, clock: Clock, reservation_seconds: float = 10.0) -> None:
        self._clock = clock
        self._members: dict[str, dict[str, _Member]] = {}
        self._handle: dict[str, HandleTimes] = {}
        self._reservations: dict[str, list[datetime]] = {}
        self._reservation = timedelta(seconds=reservation_seconds)
        self._changed = asyncio.Condition()

    def set_state(self, queue: str, operator: str, state: OperatorState, at: datetime) -> None:
        members = self._members.setdefault(queue, {})
        previous = members.get(operator)
        busy = {OperatorState.RINGING, OperatorState.ON_CALL, OperatorState.WRAP_UP}
        if previous is not None and previous.state in busy and state in busy:
            members[operator] = _Member(state, previous.since)  # the same call goes on
        else:
            members[operator] = _Member(state, at)
        if previous is not None and previous.state in busy and state is OperatorState.READY:
            self.handle_times(queue).add((at - previous.since).total_seconds())
        if (
            previous is not None
            and previous.state is OperatorState.READY
            and state is not OperatorState.READY
        ):
            pending = self._reservations.get(queue)
            if pending:
                pending.pop(0)
        self._notify()

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):  # no running loop: nobody is waiting
            task = asyncio.get_running_loop().create_task(wake())
            _background.add(task)
            task.add_done_callback(_background.discard)

    def _ready(self, queue: str, now: datetime) -> int:
        members = self._members.get(queue, {})
        ready = sum(1 for m in members.values() if m.state is OperatorState.READY)
        pending = [t for t in self._reservations.get(queue, []) if t > now]
        self._reservations[queue] = pending
        return max(0, ready - len(pending))

    def load(self, queue: str, now: datetime) -> OperatorLoad:
        members = self._members.get(queue, {})
        busy = tuple(
            max(0.0, (now - m.since).total_seconds())
            for m in members.values()
            if m.state in (OperatorState.RINGING, OperatorState.ON_CALL, OperatorState.WRAP_UP)
        )
        return OperatorLoad(ready=self._ready(queue, now), busy_elapsed=busy)

    def handle_times(self, queue: str) -> HandleTimes:
        return self._handle.setdefault(queue, HandleTimes())

    async def reserve(self, queue: str, within: float) -> bool:
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: self._ready(queue, self._clock()) > 0)
        except TimeoutError:
            return False
        now = self._clock()
        self._reservations.setdefault(queue, []).append(now + self._reservation)
        return True


_background: set[asyncio.Task[Any]] = set()


# ----------------------------------------------------------------------------- config


@dataclass(frozen=True)
class DialerConfig:
    # the channel dialled; {e164} is +7..., {digits} 7..., {national} 8... for Russian numbers
    channel_template: str = "Local/{national}@outbound"
    context: str = dialplan.DIALER_CONTEXT
    exten: str = "amd"
    caller_id_number: str = "88001000000"
    caller_id_name: str = "Energo"
    ring_timeout: float = 30.0
    max_channels: int = 30  # auto-informing / surveys: simultaneous calls per campaign
    operator_queue: str = dialplan.FIRST_LINE_QUEUE  # where operator campaigns' live answers go
    power_ratio: float = 2.0
    tick_seconds: float = 1.0
    scan_seconds: float = 5.0
    grace_seconds: float = 2.0  # a live answer waits this long for an operator
    answer_watchdog_seconds: float = 120.0  # answered, but no AGI session came: failed
    stale_attempt_seconds: float = 900.0  # pending attempts older than this are closed
    originate_backoff_seconds: float = 5.0  # after a failed Originate (AMI link down)
    confirm_key: str = "1"
    operator_key: str = "0"
    key_timeout_ms: int = 5000
    default_zone: str = "Europe/Moscow"
    retry_by_result: Mapping[DialResult, Sequence[int]] = field(default_factory=dict)
    window_seconds: float = 3600.0  # the abandon-rate window

    def __post_init__(self) -> None:
        if "{" not in self.channel_template:
            raise ValueError("channel_template must contain {e164}, {digits} or {national}")
        if self.confirm_key == self.operator_key:
            raise ValueError("the confirm and operator keys must differ")


def channel_for(template: str, e164: str) -> str:
    digits = e164.lstrip("+")
    national = "8" + digits[1:] if digits.startswith("7") and len(digits) == 11 else digits
    return template.format(e164=e164, digits=digits, national=national)


# ----------------------------------------------------------------------------- live stats


class CallStage(StrEnum):
    DIALLING = "dialling"
    ANSWERED = "answered"  # Reason 4 came; AMD / the AGI session is next
    IN_SESSION = "in_session"  # the AGI session is serving the call


@dataclass
class LiveCall:
    channel_id: str
    attempt_id: int
    attempt_no: int
    contact_id: int
    phone: str
    text: str  # the campaign message for this contact ("" when none)
    dialled_at: datetime
    stage: CallStage = CallStage.DIALLING
    answered_at: datetime | None = None
    prompt: asyncio.Task[str] | None = None
    waiting_operator: bool = False  # a live answer inside the grace period


@dataclass(frozen=True)
class LiveStats:
    """What a supervisor sees of a campaign being dialled by this instance."""

    campaign_id: int
    mode: str
    dialling: int  # calls ringing
    in_session: int  # answered calls being served (message, survey, hand-over)
    placed: int  # since this dialer started
    answered: int
    live: int  # live (human) answers
    abandoned: int
    window_live: int
    window_abandoned: int
    abandon_rate: float  # over the rolling window, 0..1
    answer_rate: float  # estimated live-answer rate, 0..1
    results: dict[str, int]
    operators_ready: int
    operators_busy: int
    last_decision: int
    last_reason: str
    updated_at: datetime


@dataclass
class _Counters:
    placed: int = 0
    answered: int = 0
    live: int = 0
    abandoned: int = 0
    results: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _CampaignSpec:
    """The campaign as the dialer works it (read when it starts, re-read every scan)."""

    id: int
    name: str
    kind: CampaignKind
    mode: DialMode
    status: CampaignStatus
    window: CallingWindow
    period: CampaignPeriod
    retry: RetryPolicy
    template: MessageTemplate | None
    survey_id: int | None
    machine_action: MachineAction
    max_abandon_pct: float

    @classmethod
    def of(cls, campaign: Campaign, config: DialerConfig) -> _CampaignSpec:
        template = None
        if campaign.message_template.strip():
            template = MessageTemplate.parse(campaign.message_template)
        return cls(
            id=campaign.id,
            name=campaign.name,
            kind=CampaignKind(campaign.kind),
            mode=DialMode.NONE
            if campaign.kind is not CampaignKind.OPERATOR
            else DialMode(campaign.mode),
            status=CampaignStatus(campaign.status),
            window=CallingWindow.of(campaign.window_start, campaign.window_end, campaign.weekdays),
            period=CampaignPeriod(campaign.starts_at, campaign.ends_at),
            retry=RetryPolicy.of(
                campaign.max_attempts, campaign.retry_delays, config.retry_by_result
            ),
            template=template,
            survey_id=campaign.survey_id,
            machine_action=MachineAction(campaign.amd_machine_action),
            max_abandon_pct=campaign.max_abandon_pct,
        )


@dataclass(frozen=True)
class _Question:
    id: int
    text: str
    answers: Mapping[str, str]


# ----------------------------------------------------------------------------- one campaign


class CampaignDialer:
    def __init__(self, service: DialerService, spec: _CampaignSpec) -> None:
        self.service = service
        self.spec = spec
        cfg = service.config
        settings = PredictiveSettings(
            target_abandon=min(max(spec.max_abandon_pct, 0.1), 3.0) / 100.0,
            grace_seconds=cfg.grace_seconds,
        )
        self.pacer = Pacer(
            PacerConfig(
                mode=spec.mode,
                predictive=settings,
                power_ratio=cfg.power_ratio,
                max_channels=cfg.max_channels,
                window_seconds=cfg.window_seconds,
            )
        )
        if spec.kind is CampaignKind.OPERATOR:
            self.pacer.handle_times = service.pool.handle_times(cfg.operator_queue)
        self.calls: dict[str, LiveCall] = {}
        self.counters = _Counters()
        self.questions: list[_Question] = []
        self.last_decision = PacingDecision(0, PacingReason.NO_CAPACITY)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._preview: dict[int, datetime] = {}  # contact id -> reserved until
        self._hold_until: datetime | None = None  # no new calls before (the AMI link failed)
        self.ticks = 0  # loop rounds so far (tests and the monitor can tell it is alive)

    # --- state --------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _now(self) -> datetime:
        return self.service.now()

    def stats(self) -> LiveStats:
        now = self._now()
        window = self.pacer.outcomes.counts(now.timestamp())
        load = self._operators(now)
        return LiveStats(
            campaign_id=self.spec.id,
            mode=self.spec.mode.value,
            dialling=sum(1 for c in self.calls.values() if c.stage is not CallStage.IN_SESSION),
            in_session=sum(1 for c in self.calls.values() if c.stage is CallStage.IN_SESSION),
            placed=self.counters.placed,
            answered=self.counters.answered,
            live=self.counters.live,
            abandoned=self.counters.abandoned,
            window_live=window.live,
            window_abandoned=window.abandoned,
            abandon_rate=window.abandon_rate,
            answer_rate=self.pacer.outcomes.answer_rate(now.timestamp()),
            results=dict(self.counters.results),
            operators_ready=load.ready,
            operators_busy=len(load.busy_elapsed),
            last_decision=self.last_decision.calls,
            last_reason=self.last_decision.reason.value,
            updated_at=now,
        )

    def _operators(self, now: datetime) -> OperatorLoad:
        if self.spec.kind is not CampaignKind.OPERATOR:
            return OperatorLoad(0)
        return self.service.pool.load(self.service.config.operator_queue, now)

    # --- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        service = self.service
        await self._load_survey()
        await self._close_stale()
        async with service.sessions.begin() as session:
            await campaigns_repo.set_status(
                session,
                self.spec.id,
                CampaignStatus.RUNNING,
                expected=[CampaignStatus.SCHEDULED],
            )
        log.info(
            "dialer: campaign %s «%s» started (%s)", self.spec.id, self.spec.name, self.spec.mode
        )
        next_scan = self._now()
        while True:
            now = self._now()
            if now >= next_scan:
                next_scan = now + timedelta(seconds=service.config.scan_seconds)
                if not await self._refresh(now):
                    break
            self._expire_silent_calls(now)
            if self._dialling_allowed(now):
                await self._place_calls(now)
            self.ticks += 1
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(service.config.tick_seconds):
                    await self._wake.wait()
        log.info("dialer: campaign %s stopped dialling", self.spec.id)

    def _dialling_allowed(self, now: datetime) -> bool:
        if self._hold_until is not None and now < self._hold_until:
            return False
        return (
            not self._stop.is_set()
            and self.spec.status in ACTIVE_STATUSES
            and self.spec.period.open(now)
        )

    async def _refresh(self, now: datetime) -> bool:
        """Re-read the campaign; False when this dialer is done with it."""
        service = self.service
        if not await service.locks.held(self.spec.id):
            log.warning("dialer: campaign %s lock lost, stopping", self.spec.id)
            self._stop.set()
        async with service.sessions() as session:
            campaign = await campaigns_repo.get_campaign(session, self.spec.id)
            if campaign is None:
                self._stop.set()
                return bool(self.calls)
            try:
                self.spec = _CampaignSpec.of(campaign, service.config)
            except (TemplateError, WindowError) as exc:
                log.error("dialer: campaign %s cannot run: %s", self.spec.id, exc)
                self._stop.set()
            progress = await campaigns_repo.contact_progress(session, campaign)
        if self._stop.is_set() or self.spec.status not in ACTIVE_STATUSES:
            return bool(self.calls)  # let the calls under way finish
        finished = progress.remaining == 0 or self.spec.period.over(now)
        if finished and not self.calls:
            async with service.sessions.begin() as session:
                await campaigns_repo.set_status(
                    session, self.spec.id, CampaignStatus.FINISHED, expected=ACTIVE_STATUSES
                )
            log.info("dialer: campaign %s finished", self.spec.id)
            return False
        return True

    async def _load_survey(self) -> None:
        if self.spec.kind is not CampaignKind.SURVEY or self.spec.survey_id is None:
            return
        async with self.service.sessions() as session:
            survey = await surveys_repo.get(session, self.spec.survey_id)
            if survey is not None:
                self.questions = [
                    _Question(q.id, q.text_ru, dict(q.answers)) for q in survey.questions
                ]

    async def _close_stale(self) -> None:
        """Pending attempts left by a stopped instance: closed, and retried when allowed."""
        now = self._now()
        before = now - timedelta(seconds=self.service.config.stale_attempt_seconds)
        async with self.service.sessions.begin() as session:
            for attempt in await campaigns_repo.stale_pending(
                session, self.spec.id, started_before=before
            ):
                await campaigns_repo.finish_attempt(
                    session,
                    attempt.id,
                    outcome=outcome_of(DialResult.FAILED),
                    ended_at=now,
                    reason_code=attempt.reason_code,
                    next_attempt_at=now
                    if attempt.attempt_no < self.spec.retry.max_attempts
                    else None,
                )

    def _expire_silent_calls(self, now: datetime) -> None:
        cfg = self.service.config
        for call in list(self.calls.values()):
            if call.stage is CallStage.DIALLING:
                limit = call.dialled_at + timedelta(seconds=cfg.ring_timeout + 60)
                if now > limit:  # no OriginateResponse at all: the event was lost
                    self.service.spawn(self._finish(call, DialResult.FAILED, reason=None))
            elif call.stage is CallStage.ANSWERED and call.answered_at is not None:
                limit = call.answered_at + timedelta(seconds=cfg.answer_watchdog_seconds)
                if now > limit:  # answered but the AGI session never came (AGISTATUS=FAILURE)
                    self.service.spawn(
                        self._finish(call, DialResult.FAILED, reason=REASON_ANSWERED)
                    )

    async def _place_calls(self, now: datetime) -> None:
        cfg = self.service.config
        at = now.timestamp()
        operators = self._operators(now)
        dialling = sum(1 for c in self.calls.values() if c.stage is not CallStage.IN_SESSION)
        waiting = sum(1 for c in self.calls.values() if c.waiting_operator)
        decision = self.pacer.decide(
            at,
            operators,
            CallLoad(in_flight=dialling, waiting_live=waiting),
            max_new=cfg.max_channels * 4,
            active_channels=len(self.calls),
        )
        self.last_decision = decision
        if decision.calls <= 0:
            return
        due = await self._due_contacts(now, decision.calls)
        for item in due:
            if not self._dialling_allowed(self._now()):
                break
            await self._dial(item, now)

    async def _due_contacts(self, now: datetime, limit: int) -> list[DueContact]:
        cfg = self.service.config
        async with self.service.sessions() as session:
            campaign = await campaigns_repo.get_campaign(session, self.spec.id)
            if campaign is None:
                return []
            zones = await campaigns_repo.due_zones(session, campaign, now)
            open_zones = [
                z for z in zones if self.spec.window.allows(now, parse_zone(z, cfg.default_zone))
            ]
            if not open_zones:
                return []
            busy = {c.contact_id for c in self.calls.values()}
            busy |= {cid for cid, until in self._preview.items() if until > now}
            return await campaigns_repo.due_contacts(
                session, campaign, now, limit=limit, zones=open_zones, exclude=busy
            )

    def _text_for(self, variables: Mapping[str, Any], name: str) -> str:
        if self.spec.template is None:
            return ""
        values = {"name": name, **variables}
        return self.spec.template.render(values)

    async def _dial(self, item: DueContact, now: datetime) -> LiveCall | None:
        service = self.service
        cfg = service.config
        contact = item.contact
        try:
            text = self._text_for(contact.variables, contact.name)
        except TemplateError as exc:
            # a contact whose values cannot fill the message: not called, reported once
            log.warning("dialer: contact %s skipped: %s", contact.id, exc)
            async with service.sessions.begin() as session:
                attempt = await campaigns_repo.create_attempt(
                    session,
                    campaign_id=self.spec.id,
                    contact_id=contact.id,
                    attempt_no=item.attempts_made + 1,
                    started_at=now,
                )
                await campaigns_repo.finish_attempt(
                    session,
                    attempt.id,
                    outcome=outcome_of(DialResult.FAILED),
                    ended_at=now,
                    reason_code=None,
                )
            return None
        async with service.sessions.begin() as session:
            attempt = await campaigns_repo.create_attempt(
                session,
                campaign_id=self.spec.id,
                contact_id=contact.id,
                attempt_no=item.attempts_made + 1,
                started_at=now,
            )
        call = LiveCall(
            channel_id=str(uuid.uuid4()),
            attempt_id=attempt.id,
            attempt_no=attempt.attempt_no,
            contact_id=contact.id,
            phone=contact.phone,
            text=text,
            dialled_at=now,
        )
        if text:
            # rendered while it rings, so the message is ready when someone answers
            call.prompt = asyncio.create_task(self.service.prompt(text))
        self.calls[call.channel_id] = call
        service.register(call.channel_id, self)
        self.counters.placed += 1
        try:
            await service.originator.originate(
                channel_for(cfg.channel_template, contact.phone),
                context=cfg.context,
                exten=cfg.exten,
                priority=1,
                channel_id=call.channel_id,
                caller_id_name=cfg.caller_id_name,
                caller_id_number=cfg.caller_id_number,
                ring_timeout=cfg.ring_timeout,
                variables={
                    VAR_CAMPAIGN: self.spec.id,
                    VAR_ATTEMPT: attempt.id,
                    VAR_CONTACT: contact.id,
                },
            )
        except Exception as exc:
            # the PBX link failed (not connected, no reply): the call did not happen, so the
            # attempt is taken back rather than counted against the contact
            log.warning("dialer: Originate for attempt %s failed: %s", attempt.id, exc)
            await self._forget(call)
            async with service.sessions.begin() as session:
                await campaigns_repo.delete_attempt(session, attempt.id)
            self.counters.placed -= 1
            self._hold_until = self._now() + timedelta(seconds=cfg.originate_backoff_seconds)
            return None
        return call

    async def _forget(self, call: LiveCall) -> None:
        self.calls.pop(call.channel_id, None)
        self.service.unregister(call.channel_id)
        if call.prompt is not None and not call.prompt.done():
            call.prompt.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await call.prompt

    # --- what happened to a call --------------------------------------------------------

    async def originate_response(self, call: LiveCall, success: bool, reason: int) -> None:
        now = self._now()
        if success and reason == REASON_ANSWERED:
            if call.stage is CallStage.DIALLING:
                call.stage = CallStage.ANSWERED
                call.answered_at = now
                self.counters.answered += 1
            async with self.service.sessions.begin() as session:
                await campaigns_repo.record_answer(session, call.attempt_id, reason_code=reason)
            return
        result = result_of_reason(reason) or DialResult.FAILED
        self.pacer.dial_finished(now.timestamp(), live=False)
        await self._finish(call, result, reason=reason)

    async def _finish(
        self,
        call: LiveCall,
        result: DialResult,
        *,
        reason: int | None,
        amd_status: str | None = None,
        amd_cause: str | None = None,
    ) -> None:
        if self.calls.get(call.channel_id) is not call:
            return  # already closed (watchdog and session racing)
        await self._forget(call)
        now = self._now()
        next_at = self.spec.retry.next_attempt(result, call.attempt_no, now)
        if next_at is not None and self.spec.period.over(next_at):
            next_at = None
        async with self.service.sessions.begin() as session:
            await campaigns_repo.finish_attempt(
                session,
                call.attempt_id,
                outcome=outcome_of(result),
                ended_at=now,
                reason_code=reason,
                amd_status=amd_status,
                amd_cause=amd_cause,
                next_attempt_at=next_at,
            )
        self.counters.results[result.value] += 1
        if result in LIVE_RESULTS:
            self.counters.live += 1
        if result is DialResult.ABANDONED:
            self.counters.abandoned += 1
        log.info(
            "dialer: campaign %s attempt %s -> %s (%s, reason %s)",
            self.spec.id,
            call.attempt_id,
            result.value,
            outcome_of(result).value,
            reason,
        )
        self.service.changed()
        self.wake()

    # --- the AGI session ------------------------------------------------------------------

    async def serve(self, channel: DialerChannel, call: LiveCall) -> None:
        now = self._now()
        if call.stage is CallStage.DIALLING:  # the AGI session beat the OriginateResponse
            call.answered_at = now
            self.counters.answered += 1
        call.stage = CallStage.IN_SESSION
        amd_status: str | None = None
        amd_cause: str | None = None
        facts = AnsweredCall(amd_status=None)
        try:
            amd_status = await channel.get_variable("AMDSTATUS")
            amd_cause = await channel.get_variable("AMDCAUSE")
            facts = AnsweredCall(amd_status=amd_status)
            facts = await self._script(channel, call, facts)
        except Exception:
            # the caller hung up (the AGI channel raises), or a prompt failed: what was
            # learned so far decides the outcome
            if not channel.hung_up:
                log.exception("dialer: AGI session of attempt %s failed", call.attempt_id)
        finally:
            result = classify_answered(self.spec.kind, facts)
            if (amd_status or "").upper() == "HANGUP" and result is DialResult.HUNG_UP:
                live = False  # gone during detection: not a live answer for the pacing
            else:
                live = result in LIVE_RESULTS
            at = self._now().timestamp()
            self.pacer.dial_finished(
                at, live=live, connect_seconds=(now - call.dialled_at).total_seconds()
            )
            if (
                self.spec.kind is CampaignKind.OPERATOR
                and live
                and result
                in (
                    DialResult.CONNECTED,
                    DialResult.ABANDONED,
                )
            ):
                self.pacer.live_answer(at, abandoned=result is DialResult.ABANDONED)
            await self._finish(
                call, result, reason=REASON_ANSWERED, amd_status=amd_status, amd_cause=amd_cause
            )

    async def _script(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        machine = is_machine(facts.amd_status)
        if (facts.amd_status or "").strip().upper() == "HANGUP":
            return facts
        if machine and self.spec.machine_action is not MachineAction.CONNECT:
            if self.spec.machine_action is MachineAction.LEAVE_MESSAGE and call.text:
                _, _ = await channel.stream_file(await self._message(call))
                facts = replace(facts, message_completed=True)
            await channel.hangup()
            return facts
        if self.spec.kind is CampaignKind.OPERATOR:
            return await self._hand_over(channel, call, facts)
        if self.spec.kind is CampaignKind.SURVEY:
            return await self._survey(channel, call, facts)
        return await self._inform(channel, call, facts)

    async def _message(self, call: LiveCall) -> str:
        if call.prompt is not None:
            return await call.prompt
        return await self.service.prompt(call.text)

    async def _inform(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        cfg = self.service.config
        keys = cfg.confirm_key + cfg.operator_key
        digit, _ = await channel.stream_file(await self._message(call), keys)
        if digit is None:
            facts = replace(facts, message_completed=True)
            digit = await channel.get_data(
                await self.service.prompt(TEXT_AFTER_MESSAGE), cfg.key_timeout_ms, 1
            )
        if digit == cfg.confirm_key:
            facts = replace(facts, confirmed=True)
        elif digit == cfg.operator_key:
            facts = replace(facts, operator_requested=True)
            await channel.stream_file(await self.service.prompt(TEXT_TO_OPERATOR))
            await channel.set_variable(VAR_TARGET, cfg.operator_queue)
            return facts  # the dialplan takes the call to the queue
        await channel.stream_file(await self.service.prompt(TEXT_GOODBYE))
        await channel.hangup()
        return facts

    async def _hand_over(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        cfg = self.service.config
        call.waiting_operator = True
        try:
            reserved = await self.service.pool.reserve(cfg.operator_queue, cfg.grace_seconds)
        finally:
            call.waiting_operator = False
        if reserved:
            await channel.set_variable(VAR_TARGET, cfg.operator_queue)
            return replace(facts, connected_to_operator=True)
        facts = replace(facts, abandoned=True)
        await channel.stream_file(await self.service.prompt(TEXT_APOLOGY))
        await channel.hangup()
        return facts

    async def _survey(
        self, channel: DialerChannel, call: LiveCall, facts: AnsweredCall
    ) -> AnsweredCall:
        cfg = self.service.config
        facts = replace(facts, survey_questions=len(self.questions))
        intro = call.text or TEXT_SURVEY_INTRO
        await channel.stream_file(
            await (self._message(call) if call.text else self.service.prompt(intro))
        )
        answered = 0
        for question in self.questions:
            options = ", ".join(
                f"{label} — нажмите {key}" for key, label in question.answers.items()
            )
            prompt = await self.service.prompt(f"{question.text} {options}.")
            key: str | None = None
            for round_no in range(2):
                if round_no:
                    await channel.stream_file(await self.service.prompt(TEXT_SURVEY_AGAIN))
                key = await channel.get_data(prompt, cfg.key_timeout_ms, 1)
                if key in question.answers:
                    break
                key = None
            if key is None:
                continue
            async with self.service.sessions.begin() as session:
                await surveys_repo.record_answer(
                    session,
                    survey_id=self.spec.survey_id or 0,
                    question_id=question.id,
                    answer_key=key,
                    at=self._now(),
                    contact_id=call.contact_id,
                )
            answered += 1
            facts = replace(facts, survey_answered=answered)
        await channel.stream_file(await self.service.prompt(TEXT_SURVEY_THANKS))
        await channel.hangup()
        return facts

    # --- preview ------------------------------------------------------------------------

    async def preview_next(self, now: datetime, hold: timedelta) -> DueContact | None:
        due = await self._due_contacts(now, 1)
        if not due:
            return None
        self._preview[due[0].contact.id] = now + hold
        return due[0]

    async def preview_dial(self, contact_id: int, now: datetime) -> LiveCall | None:
        self._preview.pop(contact_id, None)
        async with self.service.sessions() as session:
            campaign = await campaigns_repo.get_campaign(session, self.spec.id)
            if campaign is None:
                return None
            due = await campaigns_repo.due_contacts(
                session,
                campaign,
                now,
                limit=10_000,
                exclude=[c.contact_id for c in self.calls.values()],
            )
        match = next((d for d in due if d.contact.id == contact_id), None)
        if match is None:
            return None
        return await self._dial(match, now)


# ----------------------------------------------------------------------------- the service


class DialerService:
    def __init__(
        self,
        sessions: Sessions,
        originator: Originator,
        pool: OperatorPool,
        prompts: PromptSource,
        locks: CampaignLocks,
        *,
        config: DialerConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.originator = originator
        self.pool = pool
        self.prompts = prompts
        self.locks = locks
        self.config = config or DialerConfig()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._dialers: dict[int, CampaignDialer] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._channels: dict[str, CampaignDialer] = {}
        self._attempts: dict[int, str] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._spawned: set[asyncio.Task[Any]] = set()
        self._changed = asyncio.Condition()
        self._version = 0
        self._stopping = False
        self._prompt_cache: dict[str, str] = {}

    def now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the dialer clock must return aware datetimes")
        return now

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._supervisor is None:
            self._stopping = False
            self._supervisor = asyncio.create_task(self._supervise(), name="dialer")

    async def stop(self) -> None:
        self._stopping = True
        for dialer in self._dialers.values():
            dialer.stop()
        tasks = [t for t in (self._supervisor, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in [*tasks, *self._spawned]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._supervisor = None
        for campaign_id in list(self._dialers):
            await self.locks.release(campaign_id)
        self._dialers.clear()
        self._tasks.clear()

    async def __aenter__(self) -> DialerService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _supervise(self) -> None:
        while not self._stopping:
            try:
                await self.scan()
            except Exception:
                log.exception("dialer: scan failed")
            await asyncio.sleep(self.config.scan_seconds)

    async def scan(self) -> list[int]:
        """Start a dialer for every due campaign this instance can lock; their ids."""
        now = self.now()
        async with self.sessions() as session:
            due = await campaigns_repo.campaigns_due(session, now)
        started = []
        for campaign in due:
            if campaign.id in self._dialers:
                continue
            try:
                spec = _CampaignSpec.of(campaign, self.config)
            except (TemplateError, WindowError, ValueError) as exc:
                log.error("dialer: campaign %s is not runnable: %s", campaign.id, exc)
                continue
            if not await self.locks.acquire(campaign.id):
                continue  # another instance dials it
            dialer = CampaignDialer(self, spec)
            self._dialers[campaign.id] = dialer
            self._tasks[campaign.id] = asyncio.create_task(
                self._run(dialer), name=f"dialer-{campaign.id}"
            )
            started.append(campaign.id)
        return started

    async def _run(self, dialer: CampaignDialer) -> None:
        campaign_id = dialer.spec.id
        try:
            await dialer.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("dialer: campaign %s failed", campaign_id)
        finally:
            if not self._stopping:
                # the calls under way are over or abandoned; free the campaign for others
                self._dialers.pop(campaign_id, None)
                self._tasks.pop(campaign_id, None)
                await self.locks.release(campaign_id)
                self.changed()

    def running(self) -> list[int]:
        return sorted(self._dialers)

    def dialer(self, campaign_id: int) -> CampaignDialer | None:
        return self._dialers.get(campaign_id)

    def wake(self, campaign_id: int | None = None) -> None:
        """Something changed (a status, a list): look again now rather than at the next tick."""
        for cid, dialer in self._dialers.items():
            if campaign_id is None or cid == campaign_id:
                dialer.wake()

    def spawn(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        task = asyncio.create_task(run())
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    # --- calls --------------------------------------------------------------------------

    def register(self, channel_id: str, dialer: CampaignDialer) -> None:
        self._channels[channel_id] = dialer
        call = dialer.calls.get(channel_id)
        if call is not None:
            self._attempts[call.attempt_id] = channel_id

    def unregister(self, channel_id: str) -> None:
        dialer = self._channels.pop(channel_id, None)
        if dialer is not None:
            self._attempts = {a: c for a, c in self._attempts.items() if c != channel_id}

    def _find(self, channel_id: str | None) -> tuple[CampaignDialer, LiveCall] | None:
        if not channel_id:
            return None
        dialer = self._channels.get(channel_id)
        if dialer is None:
            return None
        call = dialer.calls.get(channel_id)
        return None if call is None else (dialer, call)

    async def on_originate_response(
        self, channel_id: str | None, *, success: bool, reason: int
    ) -> bool:
        """Feed every AMI OriginateResponse here; True when it was one of the dialer's calls.

        outcome = OriginateOutcome.from_frame(frame)
        if outcome is not None:
            await dialer.on_originate_response(
                outcome.channel_id, success=outcome.success, reason=outcome.reason)
        """
        found = self._find(channel_id)
        if found is None:
            return False
        dialer, call = found
        await dialer.originate_response(call, success, reason)
        return True

    async def serve_agi(self, channel: DialerChannel) -> None:
        """The "dialer" FastAGI script: see the module docstring."""
        found = self._find(channel.env.uniqueid)
        if found is None:
            # a Local channel's AGI leg may carry another uniqueid: the attempt id tells
            attempt = await channel.get_variable(VAR_ATTEMPT)
            if attempt and attempt.isdigit():
                found = self._find(self._attempts.get(int(attempt)))
        if found is None:
            log.warning("dialer: AGI session for unknown call %s: hanging up", channel.env.uniqueid)
            await channel.set_variable(VAR_CLOSED, "1")
            await channel.hangup()
            return
        dialer, call = found
        await dialer.serve(channel, call)

    async def prompt(self, text: str) -> str:
        cached = self._prompt_cache.get(text)
        if cached is not None:
            return cached
        rendered = await self.prompts.render(text)
        name = rendered.asterisk_name
        if len(self._prompt_cache) < 10_000:
            self._prompt_cache[text] = name
        return name

    # --- monitoring ---------------------------------------------------------------------

    def live(self, campaign_id: int) -> LiveStats | None:
        dialer = self._dialers.get(campaign_id)
        return None if dialer is None else dialer.stats()

    def live_all(self) -> dict[int, LiveStats]:
        return {cid: d.stats() for cid, d in self._dialers.items()}

    def changed(self) -> None:
        self._version += 1

        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        self.spawn(notify())

    async def _wait_change(self, version: int, within: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: self._version != version)

    async def watch(self, *, every: float = 1.0) -> AsyncIterator[dict[int, LiveStats]]:
        """Live stats of every campaign dialled here: now, then on each change (at most
        once per `every` seconds) and at least every few seconds."""
        while True:
            yield self.live_all()
            await self._wait_change(self._version, max(every, 5.0))
            await asyncio.sleep(every)

    # --- preview mode -------------------------------------------------------------------

    async def preview_next(
        self, campaign_id: int, *, hold_seconds: float = 120.0
    ) -> DueContact | None:
        dialer = self._dialers.get(campaign_id)
        if dialer is None or dialer.spec.mode is not DialMode.PREVIEW:
            return None
        return await dialer.preview_next(self.now(), timedelta(seconds=hold_seconds))

    async def preview_dial(self, campaign_id: int, contact_id: int) -> bool:
        dialer = self._dialers.get(campaign_id)
        if dialer is None or dialer.spec.mode is not DialMode.PREVIEW:
            return False
        return await dialer.preview_dial(contact_id, self.now()) is not None


def dialer_agi_handler(service: DialerService) -> Callable[[DialerChannel], Awaitable[None]]:
    """The handler the lead registers for the "dialer" FastAGI script:

    AgiServer({"ivr": ..., "dialer": dialer_agi_handler(dialer_service)}, ...)
    """

    async def handler(channel: DialerChannel) -> None:
        await service.serve_agi(channel)

    return handler
