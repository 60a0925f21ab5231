"""Composition root: builds every component from Settings. Nothing is built at import time.

`build_platform` wires the PBX link (a real Asterisk over AMI when CALLCENTER_AMI_HOST is
set, else the built-in simulator), the FastAGI server with the IVR and dialer scripts, the
call-record service, the recording services and the dialer. `Platform.start`/`stop` run
them in order and back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from callcenter.acd.callbacks import CallbackRules
from callcenter.acd.service import AcdSettings
from callcenter.asterisk.ami import AmiClient
from callcenter.bootstrap.metrics import exposition, metrics_registry
from callcenter.bootstrap.recordings import Recordings, build_recordings
from callcenter.bootstrap.reports import Reports, build_reports
from callcenter.config import Settings
from callcenter.db.engine import SessionFactory, create_engine, create_session_factory
from callcenter.db.health import probe_database
from callcenter.domain import dialplan
from callcenter.domain.acd import OverflowPolicy, SurgeRule
from callcenter.domain.calls import CallRecord
from callcenter.domain.recordings import RecordingState
from callcenter.outbound.notify_jobs import EmailSender, SmsSender
from callcenter.ports.health import DatabaseProbe
from callcenter.ports.pbx import PbxLink, PbxLinkStatus, PbxState

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from callcenter.acd.service import AcdService
    from callcenter.asterisk.agi import AgiServer
    from callcenter.calls.records import CallEvents
    from callcenter.cluster.remote import RemoteAcd
    from callcenter.inbound.ivr import IvrService
    from callcenter.outbound.dialer import DialerService
    from callcenter.outbound.notify_jobs import NotifyWorker
    from callcenter.pbx.frames import AmiFrame
    from callcenter.pbx.listener import ResyncSnapshot
    from callcenter.sim.clock import Clock
    from callcenter.workstation.redial_runner import RedialRunner

log = logging.getLogger(__name__)

METRICS_DB_MAX_AGE = 15.0  # seconds between database reads for /metrics
METRICS_DB_TIMEOUT = 2.0


class Component(Protocol):
    async def start(self) -> object: ...

    async def stop(self) -> None: ...


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    session_factory: SessionFactory
    pbx: PbxLink
    recordings: Recordings = field(default=None)  # type: ignore[assignment]  # built below
    reports: Reports = field(default=None)  # type: ignore[assignment]  # built below
    # started in this order before the PBX link, stopped in reverse after it
    components: list[Component] = field(default_factory=list)
    calls: CallEvents | None = None
    agi: AgiServer | None = None
    ivr: IvrService | None = None
    dialer: DialerService | None = None
    acd: AcdService | RemoteAcd | None = None
    sms: SmsSender | None = None
    email: EmailSender | None = None
    # SMS / e-mail jobs; runs in this (API) process unless CALLCENTER_NOTIFY_WORKER=false
    notify: NotifyWorker | None = None
    # operators' auto-redial jobs (stored): made by telephony nodes (and the all-in-one)
    redials: RedialRunner | None = None
    # the recordings' archive/retention schedule runs in one role only (telephony, all-in-one)
    maintenance: bool = True
    role: str = "all"
    background: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    started: bool = field(default=False, init=False)
    _metrics: CollectorRegistry | None = field(default=None, init=False, repr=False)
    # figures /metrics reads from the database (recordings by state), refreshed at most every
    # METRICS_DB_MAX_AGE seconds however often Prometheus scrapes
    recording_counts: dict[RecordingState, int] = field(default_factory=dict, init=False)
    _recording_counts_at: float | None = field(default=None, init=False, repr=False)

    def ami_client(self) -> AmiClient | None:
        """The AMI client of the PBX link (Asterisk or the simulator); None when not linked."""
        client = getattr(self.pbx, "client", None)
        return client if isinstance(client, AmiClient) else None

    async def refresh_metrics(self) -> None:
        """Re-read the database figures of /metrics if they are older than their limit;
        on a database error the last figures stay (the database has its own metrics)."""
        now = asyncio.get_running_loop().time()
        if (
            self._recording_counts_at is not None
            and now - self._recording_counts_at < METRICS_DB_MAX_AGE
        ):
            return
        self._recording_counts_at = now
        try:
            async with asyncio.timeout(METRICS_DB_TIMEOUT), self.session_factory() as tx:
                self.recording_counts = await tx.recordings.count_in_states(
                    [RecordingState.RECORDING, RecordingState.MISSING]
                )
        except (TimeoutError, OSError, SQLAlchemyError) as exc:
            log.warning("metrics: cannot count recordings: %s", exc)

    def live_calls(self) -> list[CallRecord] | None:
        """The calls in progress: this process's records, or on an API node those the
        telephony nodes publish; None when neither is here."""
        if self.calls is not None:
            return self.calls.tracker.open_calls()
        published = getattr(self.acd, "live_calls", None)
        return list(published()) if callable(published) else None

    def call_lookup(self, linkedid: str) -> CallRecord | None:
        if self.calls is not None:
            return self.calls.tracker.get(linkedid)
        lookup = getattr(self.acd, "call_lookup", None)
        found = lookup(linkedid) if callable(lookup) else None
        return found if isinstance(found, CallRecord) else None

    def redial_node(self, operator_id: int) -> str | None:
        """The telephony node an operator's auto-redial attempts belong to: the one whose
        Asterisk has the operator's phone (None: the only one, or unknown)."""
        node_of = getattr(self.acd, "node_of", None)
        return node_of(operator_id) if callable(node_of) else None

    def metrics_text(self) -> bytes:
        """This process's metrics in the Prometheus text format."""
        if self._metrics is None:
            self._metrics = metrics_registry(self)
        return exposition(self._metrics)

    async def probe_database(self, *, limit_seconds: float = 3.0) -> DatabaseProbe:
        return await probe_database(self.engine, limit_seconds=limit_seconds)

    def __post_init__(self) -> None:
        if self.recordings is None:
            self.recordings = build_recordings(self.settings, self.session_factory)
        if self.reports is None:
            self.reports = build_reports(self.settings, self.session_factory)

    async def start(self) -> None:
        for component in self.components:
            await component.start()
        await self.pbx.start()
        status = self.pbx.status()
        log.info("PBX link: %s %s %s", status.state, status.target, status.detail)
        if self.maintenance:
            self.background.append(
                asyncio.create_task(
                    self.recordings.upkeep.run_maintenance(
                        interval_seconds=self.settings.recordings_sweep_interval,
                        stop=asyncio.Event(),  # the task is cancelled on stop
                    ),
                    name="recording-maintenance",
                )
            )
        if self.dialer is not None:
            await self.dialer.start()
        if self.notify is not None:
            await self.notify.start()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        if self.notify is not None:
            with contextlib.suppress(Exception):
                await self.notify.stop()
        close_sms = getattr(self.sms, "close", None)  # the SMS gateway's HTTP connections
        if close_sms is not None:
            with contextlib.suppress(Exception):
                await close_sms()
        if self.dialer is not None:
            with contextlib.suppress(Exception):
                await self.dialer.stop()
        for task in self.background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.background.clear()
        await self.pbx.stop()
        for component in reversed(self.components):
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)
        await self.engine.dispose()


class AmiFanout:
    """The AMI listener: every event goes to the call records; OriginateResponses also to
    the dialer, whose attempts wait on them."""

    def __init__(self, calls: CallEvents) -> None:
        self.calls = calls
        self.dialer: DialerService | None = None

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        await self.calls.on_connected(snapshot)

    async def on_disconnected(self) -> None:
        await self.calls.on_disconnected()

    async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
        await self.calls.on_event(frame, received_at)
        if self.dialer is not None and (frame.event or "").lower() == "originateresponse":
            from callcenter.pbx.results import OriginateOutcome

            outcome = OriginateOutcome.from_frame(frame)
            if outcome is not None and outcome.channel_id:
                await self.dialer.on_originate_response(
                    outcome.channel_id, success=outcome.success, reason=outcome.reason
                )


class _AgiComponent:
    """Starts the FastAGI server and tells the simulator (if any) its real port."""

    def __init__(self, server: AgiServer, on_bound: Any = None) -> None:
        self.server = server
        self._on_bound = on_bound

    async def start(self) -> None:
        await self.server.start()
        if self._on_bound is not None:
            self._on_bound(self.server.address[1])

    async def stop(self) -> None:
        await self.server.stop(grace=5.0)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def build_sms_gateway(settings: Settings) -> SmsSender | None:
    if not settings.sms_gateway_url:
        return None
    from callcenter.notify.sms import HttpSmsGateway, SmsGatewayConfig

    return HttpSmsGateway(
        SmsGatewayConfig(
            url=settings.sms_gateway_url,
            sender=settings.sms_sender,
            token=settings.sms_gateway_token.get_secret_value(),
        )
    )


def build_email_sender(settings: Settings) -> EmailSender | None:
    if not settings.smtp_host:
        return None
    from callcenter.notify.email import SmtpConfig, SmtpEmailSender, SmtpSecurity

    return SmtpEmailSender(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value(),
            security=SmtpSecurity(settings.smtp_security),
        )
    )


def build_notify_worker(
    settings: Settings,
    sessions: SessionFactory,
    *,
    sms: SmsSender | None = None,
    email: EmailSender | None = None,
) -> NotifyWorker:
    """The SMS / e-mail job worker: `start()` / `stop()`. Any process may run one (the API
    process does by default); on PostgreSQL several share the queue."""
    from callcenter.outbound.notify_jobs import NotifyWorker, WorkerConfig

    return NotifyWorker(
        sessions,
        clock=_utcnow,
        sms=sms,
        email=email,
        config=WorkerConfig(
            sms_rate=settings.notify_sms_rate,
            email_rate=settings.notify_email_rate,
            concurrency=settings.notify_concurrency,
            max_attempts=settings.notify_max_attempts,
            retry_base=settings.notify_retry_delay,
            lease=settings.notify_lease,
            default_zone=settings.local_timezone,
        ),
    )


def acd_settings(settings: Settings) -> AcdSettings:
    """The ACD's rules from the CALLCENTER_ACD_* settings. With the simulator its operators'
    after-call work is the demo's: nobody presses "ready" on a simulated phone, so the
    5-minute limit would idle every operator after each call."""
    return AcdSettings(
        wrap_up_seconds=settings.demo_wrap_up_seconds
        if settings.uses_simulator
        else settings.acd_wrap_up_seconds,
        max_missed_rings=settings.acd_max_missed_rings,
        overflow=OverflowPolicy(
            wait_seconds=settings.acd_overflow_wait_seconds,
            all_busy_seconds=settings.acd_overflow_all_busy_seconds,
        ),
        surge=SurgeRule(factor=settings.acd_surge_factor, min_calls=settings.acd_surge_min_calls),
        auto_emergency=settings.acd_auto_emergency,
        callback_enabled=settings.acd_callback_enabled,
        callback_offer_min_wait_seconds=settings.acd_callback_offer_after_seconds,
        callback=CallbackRules(
            max_attempts=settings.acd_callback_max_attempts,
            retry_seconds=settings.acd_callback_retry_seconds,
        ),
        timezone=settings.local_timezone,
    )


def build_platform(
    settings: Settings,
    *,
    simulator_time_scale: float = 1.0,
    simulator_clock: Clock | None = None,
    role: str = "all",
) -> Platform:
    """The whole platform (role `all`, one process) or a telephony node (role `telephony`:
    the same without HTTP, publishing its live picture and taking requests through
    PostgreSQL). `simulator_time_scale` speeds up the built-in simulator, and
    `simulator_clock` (a test's virtual clock) replaces its time: the AMI client then
    timestamps events on that clock too, so call records measure simulated seconds."""
    from callcenter.acd.agi_scripts import acd_agi_routes
    from callcenter.acd.service import AcdAmiListener, AcdService
    from callcenter.asterisk.agi import AgiServer
    from callcenter.asterisk.link import AmiPbxLink
    from callcenter.bootstrap.ivr import build_ivr
    from callcenter.calls.records import CallEvents
    from callcenter.cluster.stores import SqlCallbackStore, SqlEmergencyStore
    from callcenter.db.campaign_locks import locks_for
    from callcenter.domain.calls import CallTracker
    from callcenter.outbound.dialer import (
        DialerConfig,
        DialerService,
        InMemoryOperatorPool,
        dialer_agi_handler,
    )
    from callcenter.outbound.operator_feed import DialerOperatorFeed
    from callcenter.recordings.call_hooks import CallRecordingHooks
    from callcenter.workstation.redial_runner import RedialRunner

    engine = create_engine(
        settings.database_url, application_name=f"callcenter {role} {settings.node}"
    )
    factory = create_session_factory(engine)
    recordings = build_recordings(settings, factory)

    calls = CallEvents(
        factory,
        tracker=CallTracker(
            inbound_numbers={settings.inbound_number},
            inbound_contexts=set(dialplan.INBOUND_CONTEXTS),
        ),
    )
    recording_hooks = CallRecordingHooks(recordings.core)
    calls.after_commit(recording_hooks.on_commit)

    ivr = build_ivr(
        settings,
        factory,
        recordings=recordings,
        default_flow=settings.flows_default,
        watch=settings.flows_watch,
        lookup_timeout=settings.ivr_lookup_timeout,
    )
    agi = AgiServer(
        {dialplan.IVR_SCRIPT: ivr.handler},
        host=settings.agi_host,
        port=settings.agi_port,
        allowed_networks=settings.agi_allowed_networks,
        session_timeout=settings.agi_session_timeout,
        reply_timeout=settings.agi_reply_timeout,
        failover_queue=settings.agi_failover_queue,
        max_sessions=settings.agi_max_sessions,
    )

    listener = AmiFanout(calls)
    acd_clock: Callable[[], datetime] = _utcnow
    ami_options: dict[str, Any] = {}
    if settings.uses_simulator and simulator_clock is not None:
        sim_clock = simulator_clock

        def simulated_now() -> datetime:
            return datetime.fromtimestamp(sim_clock.epoch(), UTC)

        ami_options["clock"] = simulated_now
        # the ACD's timers (wrap-up, the emergency rule's "busy for 3 minutes") measure the
        # same simulated seconds as the events they follow
        acd_clock = simulated_now
    acd = AcdService(
        factory,
        settings=acd_settings(settings),
        callback_store=SqlCallbackStore(factory, node=settings.node, clock=_utcnow),
        emergency_store=SqlEmergencyStore(factory, clock=_utcnow),
        clock=acd_clock,
    )
    client = AmiClient.from_settings(settings, AcdAmiListener(acd, inner=listener), **ami_options)
    acd.attach(client)
    for script, handler in acd_agi_routes(acd, ivr.renderer, sessions=factory).items():
        agi.add_route(script, handler)
    pbx: PbxLink
    on_agi_bound = None
    if settings.uses_simulator:
        from callcenter.sim.link import SimulatorLink

        sim_link = SimulatorLink(
            client,
            ami_username=settings.ami_username,
            ami_secret=settings.ami_secret.get_secret_value(),
            agi_host=settings.agi_host,
            agi_port=settings.agi_port,
            recordings_dir=settings.recordings_dir,
            inbound_number=settings.inbound_number,
            demo_scenario="demo" if settings.demo_traffic else None,
            time_scale=simulator_time_scale,
            clock=simulator_clock,
        )
        on_agi_bound = sim_link.set_agi_port
        pbx = sim_link
    else:
        pbx = AmiPbxLink(client, f"asterisk {settings.ami_host}:{settings.ami_port}")

    pool = InMemoryOperatorPool(clock=_utcnow)
    dialer = DialerService(
        factory,
        client,
        pool,
        ivr.renderer,
        locks_for(engine),
        config=DialerConfig(
            channel_template=settings.dialer_channel,
            caller_id_number=settings.inbound_number,
            caller_id_name=settings.dialer_caller_id_name,
            max_channels=settings.dialer_max_channels,
            default_zone=settings.local_timezone,
        ),
        clock=_utcnow,
    )
    agi.add_route("dialer", dialer_agi_handler(dialer))
    operator_feed = DialerOperatorFeed(acd, pool, clock=_utcnow)
    redials = RedialRunner(
        factory, client, node=settings.node, clock=_utcnow, call_lookup=calls.tracker.get
    )
    listener.dialer = dialer
    sms = build_sms_gateway(settings)
    email = build_email_sender(settings)
    notify = (
        build_notify_worker(settings, factory, sms=sms, email=email)
        if settings.notify_worker and role != "telephony"  # on PostgreSQL the api role sends
        else None
    )
    # reports read through their own engine (pool and statement limits), see bootstrap/reports
    reports = build_reports(settings, email=email)
    components: list[Component] = [
        recording_hooks,
        calls,
        acd,
        operator_feed,
        ivr,
        _AgiComponent(agi, on_agi_bound),
        reports,
        redials,
    ]
    if role == "telephony" and not settings.is_sqlite:
        from callcenter.cluster.telephony_node import TelephonyNode
        from callcenter.db.notify import pg_listen

        components.append(
            TelephonyNode(
                factory,
                acd,
                listen=pg_listen(settings.database_url),
                name=settings.node,
                site=settings.site,
                pbx=client,
                redials=redials,
                calls=calls,
            )
        )

    return Platform(
        settings=settings,
        engine=engine,
        session_factory=factory,
        pbx=pbx,
        sms=sms,
        email=email,
        notify=notify,
        recordings=recordings,
        reports=reports,
        # stopped in reverse: the recording hooks last, after the final call records
        components=components,
        role=role,
        calls=calls,
        acd=acd,
        agi=agi,
        ivr=ivr.service,
        dialer=dialer,
        redials=redials,
    )


class _RemotePbxLink:
    """An API node's view of the PBX: connected when a telephony node says it is."""

    def __init__(self, acd: RemoteAcd, client: object) -> None:
        self._acd = acd
        self.client = client

    def status(self) -> PbxLinkStatus:
        nodes = sorted(str(n) for n in self._acd.nodes)
        target = "telephony nodes: " + (", ".join(nodes) if nodes else "none")
        if self._acd.pbx_connected:
            return PbxLinkStatus(PbxState.CONNECTED, target)
        detail = "no telephony node reports a connected PBX"
        return PbxLinkStatus(PbxState.DISCONNECTED, target, detail)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def build_api_platform(settings: Settings) -> Platform:
    """An API node (role `api`): HTTP and WebSockets over the shared PostgreSQL; the ACD and
    call control are the telephony nodes', reached through the database."""
    from callcenter.cluster.remote import RemoteAcd, RemotePbxClient
    from callcenter.db.notify import pg_listen

    if settings.is_sqlite:
        raise ValueError("the api role needs PostgreSQL (CALLCENTER_DATABASE_URL)")
    engine = create_engine(settings.database_url, application_name="callcenter api")
    factory = create_session_factory(engine)
    acd = RemoteAcd(
        factory, listen=pg_listen(settings.database_url), request_timeout=settings.request_timeout
    )
    pbx = _RemotePbxLink(acd, RemotePbxClient(acd.requests, acd))
    sms = build_sms_gateway(settings)
    email = build_email_sender(settings)
    notify = (
        build_notify_worker(settings, factory, sms=sms, email=email)
        if settings.notify_worker
        else None
    )
    return Platform(
        settings=settings,
        engine=engine,
        session_factory=factory,
        pbx=pbx,
        components=[acd],
        acd=acd,
        maintenance=False,
        role="api",
        sms=sms,
        email=email,
        notify=notify,
    )
