"""Typed AMI client: actions with timeouts and typed results, a self-healing link, ordered events.

Usage (the service layer provides the listener):

    client = AmiClient.from_settings(settings, listener)
    await client.start()            # returns at once; the link comes up in the background
    await client.wait_connected(5)  # optional
    queued = await client.originate("PJSIP/trunk/89161234567", context="dialer", exten="amd",
                                    channel_id=call_uuid)
    ...
    await client.close()

The link: connect, log in, resync (CoreStatus, CoreShowChannels, QueueStatus), hand the snapshot
to `AmiListener.on_connected`, then deliver events; a Ping every `ping_interval` that must be
answered within `ping_interval` (so a half-open link is dropped within two intervals); on any
loss, `on_disconnected`, then reconnect with exponential backoff and jitter, also after refused
logins. Actions never queue while the link is down: they raise AmiNotConnectedError, and the
caller decides. Errors: see `ami_errors` (one tree rooted at AmiError).

Events: the socket reader hands frames to `ami_dispatch.EventDispatcher` (bounded buffer,
overflow policy and per-Linkedid ordering are documented there). Why the session is written on
asyncio streams rather than panoramisk's Manager: see `ami_connection`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from callcenter.asterisk.ami_backoff import Backoff
from callcenter.asterisk.ami_connection import AmiConnection
from callcenter.asterisk.ami_dispatch import EventDispatcher
from callcenter.pbx.ami_errors import (
    AmiActionError,
    AmiConnectionLostError,
    AmiError,
    AmiLoginError,
    AmiNotConnectedError,
    AmiTimeoutError,
)
from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.listener import AmiListener, ResyncSnapshot
from callcenter.pbx.results import (
    ORIGINATE_ACTION_PREFIX,
    ActionAck,
    ActionReply,
    ChannelInfo,
    ConfbridgeParticipant,
    CoreStatus,
    MixMonitorStarted,
    OriginateOutcome,
    OriginateQueued,
    PingReply,
    QueueStatusReport,
    QueueSummaryRow,
)

if TYPE_CHECKING:
    from callcenter.config import Settings

log = logging.getLogger(__name__)

__all__ = [
    "ActionAck",
    "ActionReply",
    "AmiActionError",
    "AmiClient",
    "AmiConnectionLostError",
    "AmiError",
    "AmiLinkStats",
    "AmiListener",
    "AmiLoginError",
    "AmiNotConnectedError",
    "AmiTimeoutError",
    "Backoff",
    "ChannelInfo",
    "ConfbridgeParticipant",
    "CoreStatus",
    "MixMonitorStarted",
    "OriginateOutcome",
    "OriginateQueued",
    "PingReply",
    "QueueStatusReport",
    "QueueSummaryRow",
    "ResyncSnapshot",
]


@dataclass(frozen=True, slots=True)
class AmiLinkStats:
    connected: bool
    connect_attempts: int
    connections: int  # successful (logged in and resynced)
    login_refusals: int
    last_error: str | None
    buffered_events: int
    delivered_events: int
    dropped_events: int
    listener_errors: int
    skipped_events: int = 0  # read and dropped unparsed (see `AmiConnection.skipped_events`)


def _utcnow() -> datetime:
    return datetime.now(UTC)


_CHANNEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_VARIABLE_NAME = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]*(\([A-Za-z0-9_]*\))?")
# Asterisk splits a Variable header on commas, honouring quotes, brackets and backslashes
# (ast_app_separate_args); escaping these keeps a value from setting extra variables.
_VARIABLE_SPECIALS = re.compile(r'([\\,"()\[\]])')


def variable_header(name: str, value: object) -> str:
    """`NAME=value` for a Variable header, with the value escaped so it stays one variable."""
    if not _VARIABLE_NAME.fullmatch(name):
        raise ValueError(f"invalid channel variable name {name!r}")
    escaped = _VARIABLE_SPECIALS.sub(r"\\\1", str(value))
    return f"{name}={escaped}"


def caller_id(name: str | None, number: str | None) -> str | None:
    """`"Name" <number>` with the characters that would break CallerID parsing removed."""
    clean_name = (name or "").translate(str.maketrans("", "", '"<>')).strip()
    clean_number = (number or "").translate(str.maketrans("", "", '"<> ')).strip()
    if clean_name and clean_number:
        return f'"{clean_name}" <{clean_number}>'
    if clean_number:
        return f"<{clean_number}>"
    if clean_name:
        return f'"{clean_name}"'
    return None


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _fields(*pairs: tuple[str, object | None]) -> list[tuple[str, object]]:
    return [(key, value) for key, value in pairs if value is not None]


class AmiClient:
    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        secret: str,
        listener: AmiListener,
        *,
        action_timeout: float = 10.0,
        ping_interval: float = 10.0,
        connect_timeout: float | None = None,
        backoff: Backoff | None = None,
        event_workers: int = 8,
        event_buffer_size: int = 10_000,
        event_overflow_wait: float = 1.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if action_timeout <= 0 or ping_interval <= 0:
            raise ValueError("timeouts must be positive")
        self._host = host
        self._port = port
        self._username = username
        self._secret = secret
        self._listener = listener
        self.action_timeout = action_timeout
        self.ping_interval = ping_interval
        self._connect_timeout = connect_timeout or action_timeout
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._dispatcher = EventDispatcher(
            listener.on_event,
            workers=event_workers,
            capacity=event_buffer_size,
            overflow_wait=event_overflow_wait,
        )
        self._ids = itertools.count(1)
        self._id_prefix = uuid.uuid4().hex[:8]
        self._conn: AmiConnection | None = None
        self._ready = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._connection_number = 0
        self._last_core_status: CoreStatus | None = None
        self._connect_attempts = 0
        self._connections = 0
        self._login_refusals = 0
        self._listener_errors = 0
        self._skipped_before = 0  # skipped_events of the connections that ended
        self._last_error: str | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, listener: AmiListener, **overrides: Any
    ) -> AmiClient:
        """A client configured from CALLCENTER_AMI_*; `overrides` win (e.g. host/port of the
        built-in PBX simulator when `settings.uses_simulator`)."""
        options: dict[str, Any] = {
            "host": settings.ami_host,
            "port": settings.ami_port,
            "username": settings.ami_username,
            "secret": settings.ami_secret.get_secret_value(),
            "action_timeout": settings.ami_action_timeout,
            "ping_interval": settings.ami_ping_interval,
            "event_buffer_size": settings.ami_event_buffer_size,
            "backoff": Backoff(max_delay=settings.ami_reconnect_max_delay),
            **overrides,
        }
        return cls(listener=listener, **options)

    # ----------------------------------------------------------------- lifecycle

    def set_target(self, host: str, port: int) -> None:
        """Point a client that has not started yet at another address (the built-in PBX
        simulator only knows its port once it is listening)."""
        if self._supervisor is not None:
            raise RuntimeError("the AMI client is already running")
        self._host = host
        self._port = port

    async def start(self) -> None:
        """Start the link in the background; returns immediately."""
        if self._supervisor is not None:
            return
        self._closing = False
        self._dispatcher.start()
        self._supervisor = asyncio.create_task(self._run(), name="ami-link")

    async def close(self) -> None:
        """Log off, stop reconnecting, deliver what is buffered (bounded wait), stop workers."""
        self._closing = True
        conn = self._conn
        if conn is not None and not conn.closed:
            with contextlib.suppress(AmiError):
                await conn.request("Logoff", (), min(self.action_timeout, 2.0))
            conn.abort("client closed")
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            if conn is not None:
                # a live link: let the supervisor tell the listener it is gone, within bounds
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.action_timeout):
                        await asyncio.shield(supervisor)
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        self._dispatcher.release(self._connection_number)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.action_timeout):
                await self._dispatcher.drain()
        await self._dispatcher.close()

    async def __aenter__(self) -> AmiClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """Logged in and resynced: actions can be sent."""
        return self._ready.is_set() and self._conn is not None and not self._conn.closed

    async def wait_connected(self, max_wait: float | None = None) -> None:
        """Wait until the link is up; AmiTimeoutError if it is not within `max_wait` seconds."""
        limit = self.action_timeout if max_wait is None else max_wait
        try:
            async with asyncio.timeout(limit):
                while not self.connected:
                    await self._ready.wait()
                    conn = self._conn
                    if conn is not None and conn.closed:
                        await conn.wait_closed()
                    await asyncio.sleep(0)  # let the supervisor finish tearing the old link down
        except TimeoutError:
            raise AmiTimeoutError("connect", limit) from None

    def stats(self) -> AmiLinkStats:
        events = self._dispatcher.stats()
        return AmiLinkStats(
            connected=self.connected,
            connect_attempts=self._connect_attempts,
            connections=self._connections,
            login_refusals=self._login_refusals,
            last_error=self._last_error,
            buffered_events=events.buffered,
            delivered_events=events.delivered,
            dropped_events=events.dropped,
            listener_errors=events.handler_errors + self._listener_errors,
            skipped_events=self._skipped_before
            + (self._conn.skipped_events if self._conn is not None else 0),
        )

    async def drain(self, max_wait: float | None = None) -> None:
        """Wait until every event Asterisk has sent so far has been processed by the listener.

        A Ping goes first as a barrier: its reply comes after every event sent before it, so
        once it is back, all those events are in the buffer (or were dropped by overflow).
        """
        limit = self.action_timeout if max_wait is None else max_wait
        try:
            async with asyncio.timeout(limit):
                if self.connected:
                    with contextlib.suppress(AmiNotConnectedError, AmiConnectionLostError):
                        await self.ping()
                await self._dispatcher.drain()
        except TimeoutError:
            raise AmiTimeoutError("drain", limit) from None

    # ----------------------------------------------------------------- the link

    def _next_action_id(self) -> str:
        return f"cc-{self._id_prefix}-{next(self._ids)}"

    async def _run(self) -> None:
        attempt = 0
        first = True
        while not self._closing:
            if not first:
                delay = self._backoff.delay(attempt)
                attempt += 1
                log.info("AMI: reconnecting in %.2f s", delay)
                await asyncio.sleep(delay)
            first = False
            try:
                if await self._session():
                    attempt = 0
            except Exception:
                # the link must outlive any bug in one session: log it and reconnect
                self._last_error = "internal error in the AMI link"
                log.exception("AMI: session failed unexpectedly")

    async def _session(self) -> bool:
        """One connection from connect to loss; True if it got as far as on_connected."""
        self._connect_attempts += 1
        self._connection_number += 1
        number = self._connection_number

        async def on_event(frame: AmiFrame) -> None:
            await self._dispatcher.submit(frame, self._clock(), number)

        try:
            conn = await AmiConnection.open(
                self._host,
                self._port,
                username=self._username,
                secret=self._secret,
                connect_timeout=self._connect_timeout,
                on_event=on_event,
                next_action_id=self._next_action_id,
            )
        except AmiLoginError as exc:
            self._login_refusals += 1
            self._last_error = str(exc)
            log.error("AMI %s:%s: %s", self._host, self._port, exc)
            return False
        except (OSError, AmiError) as exc:
            self._last_error = f"connect to {self._host}:{self._port} failed: {exc}"
            log.warning("AMI: %s", self._last_error)
            return False
        pinger: asyncio.Task[None] | None = None
        try:
            try:
                snapshot = await self._resync(conn, number)
            except AmiError as exc:
                self._last_error = f"resync failed: {exc}"
                log.warning("AMI: %s; dropping the connection", self._last_error)
                return False
            self._conn = conn
            self._connections += 1
            self._ready.set()
            if snapshot.asterisk_restarted:
                log.warning(
                    "AMI: Asterisk restarted (started %s)", snapshot.core_status.startup_stamp
                )
            try:
                await self._listener.on_connected(snapshot)
            except Exception:
                self._listener_errors += 1
                log.exception("AMI listener on_connected failed")
            self._dispatcher.release(number)
            pinger = asyncio.create_task(self._ping_loop(conn), name="ami-ping")
            await conn.wait_closed()
        finally:
            # also on cancellation (close()): never leave a socket or a reader task behind
            if pinger is not None:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
            self._ready.clear()
            self._conn = None
            self._skipped_before += conn.skipped_events
            conn.abort("connection ended")
            # events of a connection that failed its resync were real too: deliver them
            self._dispatcher.release(number)
        if not self._closing:
            self._last_error = f"connection lost: {conn.close_reason}"
            log.warning("AMI: %s", self._last_error)
        try:
            await self._listener.on_disconnected()
        except Exception:
            self._listener_errors += 1
            log.exception("AMI listener on_disconnected failed")
        return True

    async def _resync(self, conn: AmiConnection, number: int) -> ResyncSnapshot:
        timeout = self.action_timeout
        core = CoreStatus.from_frame((await conn.request("CoreStatus", (), timeout)).response)
        channels = await conn.request("CoreShowChannels", (), timeout)
        queues = await conn.request("QueueStatus", (), timeout)
        previous = self._last_core_status
        restarted = previous is not None and previous.startup_stamp != core.startup_stamp
        reloaded = (
            previous is not None and not restarted and previous.reload_stamp != core.reload_stamp
        )
        self._last_core_status = core
        return ResyncSnapshot(
            connection=number,
            connected_at=self._clock(),
            core_status=core,
            previous_core_status=previous,
            asterisk_restarted=restarted,
            asterisk_reloaded=reloaded,
            channels=_channel_rows(channels),
            queues=QueueStatusReport.from_frames(queues.items),
        )

    async def _ping_loop(self, conn: AmiConnection) -> None:
        # A Pong must come back within one interval: silence starting right after a Pong is
        # noticed at the latest two intervals later (next Ping + its timeout).
        while not conn.closed:
            await asyncio.sleep(self.ping_interval)
            try:
                await conn.request("Ping", (), self.ping_interval)
            except AmiTimeoutError:
                log.warning("AMI: no Pong within %.3g s; dropping the link", self.ping_interval)
                conn.abort(f"no reply to Ping within {self.ping_interval:g} s")
                return
            except AmiError:
                return

    # ----------------------------------------------------------------- actions

    async def action(
        self,
        name: str,
        fields: Iterable[tuple[str, object]] = (),
        *,
        reply_timeout: float | None = None,
        action_id: str | None = None,
    ) -> ActionReply:
        """Send any action; raw reply. AmiActionError on `Response: Error`."""
        conn = self._conn
        if conn is None or not self._ready.is_set():
            raise AmiNotConnectedError(f"AMI link is down; {name} was not sent")
        return await conn.request(
            name,
            fields,
            self.action_timeout if reply_timeout is None else reply_timeout,
            action_id=action_id,
        )

    async def _ack(
        self, name: str, fields: Iterable[tuple[str, object]], reply_timeout: float | None
    ) -> ActionAck:
        reply = await self.action(name, fields, reply_timeout=reply_timeout)
        return ActionAck(name, reply.response.action_id or "", reply.message, reply.response)

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int | None = None,
        application: str | None = None,
        data: str | None = None,
        channel_id: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        ring_timeout: float | None = None,
        variables: Mapping[str, object] | None = None,
        account_code: str | None = None,
        check_existing: bool = False,
        reconnect_wait: float | None = None,
        reply_timeout: float | None = None,
    ) -> OriginateQueued:
        """Async Originate of a channel whose Uniqueid will be `channel_id` (our call UUID).

        The outcome arrives later as an OriginateResponse event (see OriginateOutcome), whose
        ActionID is `orig-<channel_id>` on success and failure alike.

        Never a blind resend: if the link drops after the action was written and before its
        reply, the client waits up to `reconnect_wait` for the link to come back, then looks for
        `channel_id` in CoreShowChannels and originates again only if it is absent. If the link
        does not come back in time, AmiConnectionLostError: call again later with the same
        `channel_id` and `check_existing=True`. A channel that already finished before the check
        cannot be seen; that small window remains.
        """
        if (context is None) == (application is None):
            raise ValueError("give either context/exten or application")
        channel_id = channel_id or str(uuid.uuid4())
        if not _CHANNEL_ID.fullmatch(channel_id):
            raise ValueError(f"channel_id {channel_id!r} is not a valid Asterisk uniqueid")
        fields = _fields(
            ("Channel", channel),
            ("Context", context),
            ("Exten", exten),
            ("Priority", priority if priority is not None else (1 if context else None)),
            ("Application", application),
            ("Data", data),
            ("Timeout", int(ring_timeout * 1000) if ring_timeout is not None else None),
            ("CallerID", caller_id(caller_id_name, caller_id_number)),
            ("Account", account_code),
            ("Async", "true"),
            ("ChannelId", channel_id),
        )
        fields += [("Variable", variable_header(k, v)) for k, v in (variables or {}).items()]
        action_id = ORIGINATE_ACTION_PREFIX + channel_id
        if check_existing and await self.channel_exists(channel_id, reply_timeout=reply_timeout):
            return OriginateQueued(channel_id, action_id, already_running=True)
        try:
            await self.action("Originate", fields, reply_timeout=reply_timeout, action_id=action_id)
            return OriginateQueued(channel_id, action_id)
        except AmiConnectionLostError:
            log.warning("AMI: link lost during Originate %s; checking before any retry", channel_id)
        try:
            await self.wait_connected(
                self.action_timeout if reconnect_wait is None else reconnect_wait
            )
        except AmiTimeoutError:
            raise AmiConnectionLostError("Originate") from None
        if await self.channel_exists(channel_id, reply_timeout=reply_timeout):
            return OriginateQueued(channel_id, action_id, already_running=True)
        await self.action("Originate", fields, reply_timeout=reply_timeout, action_id=action_id)
        return OriginateQueued(channel_id, action_id)

    async def channel_exists(self, channel_id: str, *, reply_timeout: float | None = None) -> bool:
        """Is there a channel whose Uniqueid is `channel_id` (the ChannelId given at Originate)?"""
        channels = await self.core_show_channels(reply_timeout=reply_timeout)
        return any(ch.uniqueid == channel_id for ch in channels)

    async def redirect(
        self,
        channel: str,
        context: str,
        exten: str,
        priority: int = 1,
        *,
        reply_timeout: float | None = None,
    ) -> ActionAck:
        """Send `channel` (name or the ChannelId given at Originate) to context/exten/priority."""
        fields = _fields(
            ("Channel", channel), ("Context", context), ("Exten", exten), ("Priority", priority)
        )
        return await self._ack("Redirect", fields, reply_timeout)

    async def blind_transfer(
        self, channel: str, context: str, exten: str, *, reply_timeout: float | None = None
    ) -> ActionAck:
        fields = _fields(("Channel", channel), ("Context", context), ("Exten", exten))
        return await self._ack("BlindTransfer", fields, reply_timeout)

    async def atxfer(
        self,
        channel: str,
        exten: str,
        context: str | None = None,
        *,
        reply_timeout: float | None = None,
    ) -> ActionAck:
        """Attended transfer started by `channel` (the transferer's leg) to exten@context."""
        fields = _fields(("Channel", channel), ("Exten", exten), ("Context", context))
        return await self._ack("Atxfer", fields, reply_timeout)

    async def hangup(
        self, channel: str, cause: int | None = None, *, reply_timeout: float | None = None
    ) -> ActionAck:
        return await self._ack(
            "Hangup", _fields(("Channel", channel), ("Cause", cause)), reply_timeout
        )

    async def queue_add(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str | None = None,
        state_interface: str | None = None,
        penalty: int | None = None,
        paused: bool | None = None,
        reason: str | None = None,
        reply_timeout: float | None = None,
    ) -> ActionAck:
        """Add a dynamic member. A member already there: AmiActionError
        "Unable to add interface: Already there"."""
        fields = _fields(
            ("Queue", queue),
            ("Interface", interface),
            ("MemberName", member_name),
            ("StateInterface", state_interface),
            ("Penalty", penalty),
            ("Paused", _bool(paused) if paused is not None else None),
            ("Reason", reason),
        )
        return await self._ack("QueueAdd", fields, reply_timeout)

    async def queue_remove(
        self, queue: str, interface: str, *, reply_timeout: float | None = None
    ) -> ActionAck:
        fields = _fields(("Queue", queue), ("Interface", interface))
        return await self._ack("QueueRemove", fields, reply_timeout)

    async def queue_pause(
        self,
        interface: str,
        paused: bool,
        *,
        queue: str | None = None,
        reason: str | None = None,
        reply_timeout: float | None = None,
    ) -> ActionAck:
        """(Un)pause a member in `queue`, or in every queue when `queue` is None."""
        fields = _fields(
            ("Queue", queue),
            ("Interface", interface),
            ("Paused", _bool(paused)),
            ("Reason", reason),
        )
        return await self._ack("QueuePause", fields, reply_timeout)

    async def queue_penalty(
        self,
        interface: str,
        penalty: int,
        *,
        queue: str | None = None,
        reply_timeout: float | None = None,
    ) -> ActionAck:
        fields = _fields(("Interface", interface), ("Penalty", penalty), ("Queue", queue))
        return await self._ack("QueuePenalty", fields, reply_timeout)

    async def queue_status(
        self,
        queue: str | None = None,
        *,
        member: str | None = None,
        reply_timeout: float | None = None,
    ) -> QueueStatusReport:
        reply = await self.action(
            "QueueStatus",
            _fields(("Queue", queue), ("Member", member)),
            reply_timeout=reply_timeout,
        )
        return QueueStatusReport.from_frames(reply.items)

    async def queue_summary(
        self, queue: str | None = None, *, reply_timeout: float | None = None
    ) -> tuple[QueueSummaryRow, ...]:
        reply = await self.action(
            "QueueSummary", _fields(("Queue", queue)), reply_timeout=reply_timeout
        )
        return tuple(
            QueueSummaryRow.from_frame(f)
            for f in reply.items
            if (f.event or "").lower() == "queuesummary"
        )

    async def core_show_channels(
        self, *, reply_timeout: float | None = None
    ) -> tuple[ChannelInfo, ...]:
        return _channel_rows(await self.action("CoreShowChannels", reply_timeout=reply_timeout))

    async def status(
        self, channel: str | None = None, *, reply_timeout: float | None = None
    ) -> tuple[ChannelInfo, ...]:
        reply = await self.action(
            "Status", _fields(("Channel", channel)), reply_timeout=reply_timeout
        )
        return tuple(
            ChannelInfo.from_frame(f) for f in reply.items if (f.event or "").lower() == "status"
        )

    async def mix_monitor(
        self,
        channel: str,
        file: str,
        *,
        options: str | None = None,
        command: str | None = None,
        reply_timeout: float | None = None,
    ) -> MixMonitorStarted:
        fields = _fields(
            ("Channel", channel), ("File", file), ("Options", options), ("Command", command)
        )
        reply = await self.action("MixMonitor", fields, reply_timeout=reply_timeout)
        return MixMonitorStarted(
            reply.response.action_id or "", reply.response.get("MixMonitorID") or ""
        )

    async def stop_mix_monitor(
        self,
        channel: str,
        mixmonitor_id: str | None = None,
        *,
        reply_timeout: float | None = None,
    ) -> ActionAck:
        fields = _fields(("Channel", channel), ("MixMonitorID", mixmonitor_id))
        return await self._ack("StopMixMonitor", fields, reply_timeout)

    async def confbridge_list(
        self, conference: str, *, reply_timeout: float | None = None
    ) -> tuple[ConfbridgeParticipant, ...]:
        reply = await self.action(
            "ConfbridgeList", [("Conference", conference)], reply_timeout=reply_timeout
        )
        return tuple(
            ConfbridgeParticipant.from_frame(f)
            for f in reply.items
            if (f.event or "").lower() == "confbridgelist"
        )

    async def confbridge_kick(
        self, conference: str, channel: str, *, reply_timeout: float | None = None
    ) -> ActionAck:
        fields = [("Conference", conference), ("Channel", channel)]
        return await self._ack("ConfbridgeKick", fields, reply_timeout)

    async def confbridge_mute(
        self, conference: str, channel: str, *, reply_timeout: float | None = None
    ) -> ActionAck:
        fields = [("Conference", conference), ("Channel", channel)]
        return await self._ack("ConfbridgeMute", fields, reply_timeout)

    async def confbridge_unmute(
        self, conference: str, channel: str, *, reply_timeout: float | None = None
    ) -> ActionAck:
        fields = [("Conference", conference), ("Channel", channel)]
        return await self._ack("ConfbridgeUnmute", fields, reply_timeout)

    async def ping(self, *, reply_timeout: float | None = None) -> PingReply:
        reply = await self.action("Ping", reply_timeout=reply_timeout)
        try:
            stamp = float(reply.response.get("Timestamp") or 0.0)
        except ValueError:
            stamp = 0.0
        return PingReply(stamp)

    async def core_status(self, *, reply_timeout: float | None = None) -> CoreStatus:
        return CoreStatus.from_frame(
            (await self.action("CoreStatus", reply_timeout=reply_timeout)).response
        )


def _channel_rows(reply: ActionReply) -> tuple[ChannelInfo, ...]:
    return tuple(
        ChannelInfo.from_frame(f)
        for f in reply.items
        if (f.event or "").lower() == "coreshowchannel"
    )
