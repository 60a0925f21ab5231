"""FastAGI server: Asterisk's `AGI(agi://host:port/<script>)` connects here, one call per session.

Each session: check the peer address, read the environment (bounded in size and time), pick
the handler registered for the script name ("ivr", "dialer"), run it with an AgiChannel under
a session deadline. When anything goes wrong on our side (unknown script, handler exception,
deadline, shutdown) the caller is not dropped: the channel variables IVR_TARGET=<fail-over
queue> and IVR_FAILOVER=1 are set and the session ends, so the dialplan goes on to Queue().
A caller hang-up just ends the session. If this server is down entirely Asterisk sets
AGISTATUS=FAILURE and the dialplan continues too (transcript ami-s7).

Why not panoramisk.fast_agi (installed, v1.4): its Application reads the environment with
`while b"\\n\\n" not in buffer: buffer += await reader.read(100)`, which spins forever on a
peer that closes before the blank line and buffers an environment of any size; it has no
session deadline, no read timeout and no peer-address check; a `HANGUP` line comes back as
if it were the command's reply, so every later reply is read for the wrong command; and it
calls asyncio.coroutine, which no longer exists in Python 3.11. The tests in
tests/adapters/asterisk/test_agi_*.py exercise exactly those cases, so this is our own small
server on asyncio.start_server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType

from callcenter.asterisk.agi_channel import DEFAULT_REPLY_TIMEOUT, AgiChannel
from callcenter.asterisk.agi_environment import (
    MAX_ENVIRONMENT_BYTES,
    MAX_ENVIRONMENT_LINES,
    AgiEnvironment,
    read_environment,
)
from callcenter.asterisk.agi_transport import AgiTransport, close_writer
from callcenter.domain import dialplan
from callcenter.logsafe import LogThrottle, describe
from callcenter.pbx.agi_errors import (
    AgiCommandError,
    AgiConnectionLostError,
    AgiError,
    AgiHangupError,
    AgiNotPlayedError,
    AgiProtocolError,
    AgiTimeoutError,
)
from callcenter.pbx.channel import RecordOutcome, RecordResult
from callcenter.pbx.channel_vars import IVR_FAILOVER, IVR_TARGET
from callcenter.ports.call_context import bound_call

__all__ = [
    "AgiChannel",
    "AgiCommandError",
    "AgiConnectionLostError",
    "AgiEnvironment",
    "AgiError",
    "AgiHandler",
    "AgiHangupError",
    "AgiNotPlayedError",
    "AgiProtocolError",
    "AgiServer",
    "AgiServerStats",
    "AgiTimeoutError",
    "RecordOutcome",
    "RecordResult",
]

log = logging.getLogger(__name__)

AgiHandler = Callable[[AgiChannel], Awaitable[None]]

DEFAULT_ALLOWED_NETWORKS = ("127.0.0.0/8", "::1/128")
MAX_LINE_BYTES = 16 * 1024  # one environment or reply line; GET VARIABLE values are small
# asyncio's default backlog is 100: a burst of new calls while the loop is busy for a moment
# filled it, the kernel dropped the next SYNs, and Asterisk gave up on the connection (its
# FastAGI connect timeout) and sent the caller past the IVR. The kernel caps it at somaxconn.
ACCEPT_BACKLOG = 1024


@dataclasses.dataclass
class AgiServerStats:
    sessions: int = 0  # connections accepted (address allowed)
    active: int = 0  # sessions running now
    rejected: int = 0  # connections closed at once: address not allowed, or server full
    hangups: int = 0  # sessions the caller ended by hanging up
    failovers: int = 0  # callers sent to the fail-over queue
    errors: int = 0  # handler exceptions, unknown scripts, malformed or oversized input
    timeouts: int = 0  # session deadline, environment or reply not received in time


class AgiServer:
    def __init__(
        self,
        routes: Mapping[str, AgiHandler] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        allowed_networks: Iterable[str] = DEFAULT_ALLOWED_NETWORKS,
        session_timeout: float = 600.0,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT,
        environment_timeout: float = 10.0,
        failover_queue: str = dialplan.FIRST_LINE_QUEUE,
        failover_timeout: float = 5.0,
        max_sessions: int = 1000,
        max_environment_bytes: int = MAX_ENVIRONMENT_BYTES,
        max_environment_lines: int = MAX_ENVIRONMENT_LINES,
    ) -> None:
        """`routes` maps a script name (the request path: "ivr", "dialer") to its handler.

        `allowed_networks` are CIDR strings (settings: agi_allowed_networks); `session_timeout`
        bounds a whole call's stay in AGI (agi_session_timeout); `reply_timeout` bounds each
        command's reply on top of the command's own timeout; `environment_timeout` bounds the
        time to receive the environment (Asterisk sends it at once).
        """
        self._routes: dict[str, AgiHandler] = {}
        for script, handler in (routes or {}).items():
            self.add_route(script, handler)
        self._host = host
        self._port = port
        self._networks = [ipaddress.ip_network(net, strict=False) for net in allowed_networks]
        self._session_timeout = session_timeout
        self._reply_timeout = reply_timeout
        self._environment_timeout = environment_timeout
        self._failover_queue = failover_queue
        self._failover_timeout = failover_timeout
        self._max_sessions = max_sessions
        self._max_env_bytes = max_environment_bytes
        self._max_env_lines = max_environment_lines
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stats = AgiServerStats()
        # what a peer sends (or fails to send) is logged a few times a minute, not per peer
        self._peer_log = LogThrottle(log)
        self._change = asyncio.Event()
        self._stopping = False

    @property
    def scripts(self) -> frozenset[str]:
        """The script names this server answers (the request paths of AGI(agi://host/NAME))."""
        return frozenset(self._routes)

    def add_route(self, script: str, handler: AgiHandler) -> None:
        self._routes[script.strip("/")] = handler

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connect, self._host, self._port, limit=MAX_LINE_BYTES, backlog=ACCEPT_BACKLOG
        )
        log.info("FastAGI server listening on %s:%s", *self.address)

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); port 0 in the constructor gives a free port."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("AGI server is not listening")
        name = self._server.sockets[0].getsockname()
        return str(name[0]), int(name[1])

    def close(self) -> None:
        """Stop accepting connections (at once); running sessions go on. See also stop()."""
        self._stopping = True
        if self._server is not None:
            self._server.close()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, let running sessions finish for `grace` seconds, then cancel them.

        A cancelled session still tries to set the fail-over variables, so its caller goes on
        to the operator queue instead of being cut off.
        """
        self.close()
        if not await self.wait_idle(grace):
            tasks = list(self._tasks)
            log.warning("AGI shutdown: cancelling %d session(s) still running", len(tasks))
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=self._failover_timeout + 2.0)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> AgiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- statistics ---------------------------------------------------------------------

    @property
    def stats(self) -> AgiServerStats:
        """A snapshot of the counters."""
        return dataclasses.replace(self._stats)

    def _changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    def _count(self, name: str) -> None:
        setattr(self._stats, name, getattr(self._stats, name) + 1)
        self._changed()

    async def wait_stats(self, predicate: Callable[[AgiServerStats], bool]) -> AgiServerStats:
        """Wait until the counters satisfy `predicate` (bound it with asyncio.timeout)."""
        while True:
            change = self._change
            snapshot = self.stats
            if predicate(snapshot):
                return snapshot
            await change.wait()

    async def wait_idle(self, limit_s: float) -> bool:
        """True once no session is running, False if some still are after `limit_s` seconds."""
        try:
            async with asyncio.timeout(limit_s):
                await self.wait_stats(lambda s: s.active == 0)
        except TimeoutError:
            return False
        return True

    # --- sessions -----------------------------------------------------------------------

    def _allowed(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in net for net in self._networks)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self._allowed(host):
            self._count("rejected")
            self._peer_log.warning(
                "refused", "AGI connection from %s refused: not in the allowed networks", host
            )
            await close_writer(writer)
            return
        if self._stats.active >= self._max_sessions:
            self._count("rejected")
            self._peer_log.error("full", "AGI connection from %s refused: server full", host)
            await close_writer(writer)
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._stats.sessions += 1
        self._stats.active += 1
        self._changed()
        try:
            await self._session(reader, writer, host)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # cancelled by stop(): end quietly (asyncio logs a connection task that ends
            # cancelled as an error)
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._stats.active -= 1
            self._changed()

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._session_timeout
        transport: AgiTransport | None = None
        try:
            try:
                async with asyncio.timeout_at(
                    min(deadline, loop.time() + self._environment_timeout)
                ):
                    env = await read_environment(
                        reader, max_bytes=self._max_env_bytes, max_lines=self._max_env_lines
                    )
            except TimeoutError:
                self._count("timeouts")
                self._peer_log.warning(
                    "idle", "AGI peer %s sent no complete environment in time: dropped", host
                )
                return
            except (AgiProtocolError, OSError) as exc:
                self._count("errors")
                self._peer_log.warning("garbled", "AGI peer %s dropped: %s", host, describe(exc))
                return
            transport = AgiTransport(reader, writer)
            transport.start()
            channel = AgiChannel(env, transport, reply_timeout=self._reply_timeout)
            # every log line of this session (use cases included) names the channel
            with bound_call(env.uniqueid or None):
                await self._dispatch(channel, deadline)
        finally:
            if transport is not None:
                await transport.close()
            else:
                await close_writer(writer)

    async def _dispatch(self, channel: AgiChannel, deadline: float) -> None:
        env = channel.env
        handler = self._routes.get(env.script)
        if handler is None:
            self._count("errors")
            self._peer_log.error(
                "unknown-script", "AGI %s: no handler for script %r", env.uniqueid, env.script
            )
            await self._failover(channel, f"unknown script {env.script!r}")
            return
        scope = asyncio.timeout_at(deadline)
        try:
            async with scope:
                await handler(channel)
        except AgiHangupError as exc:
            self._count("hangups")
            log.info("AGI %s (%s): call ended: %s", env.uniqueid, env.script, exc)
        except AgiTimeoutError as exc:
            self._count("timeouts")
            log.warning("AGI %s (%s): %s", env.uniqueid, env.script, exc)
            await self._failover(channel, "reply timeout")
        except TimeoutError:
            if not scope.expired():  # the handler's own timeout, not our deadline
                self._count("errors")
                log.exception("AGI %s (%s): handler failed", env.uniqueid, env.script)
                await self._failover(channel, "handler error")
                return
            self._count("timeouts")
            log.warning(
                "AGI %s (%s): session deadline of %.0f s reached",
                env.uniqueid,
                env.script,
                self._session_timeout,
            )
            await self._failover(channel, "session deadline")
        except asyncio.CancelledError:
            await self._failover(channel, "server shutting down")
            raise
        except Exception:
            self._count("errors")
            log.exception("AGI %s (%s): handler failed", env.uniqueid, env.script)
            await self._failover(channel, "handler error")

    async def _failover(self, channel: AgiChannel, reason: str) -> bool:
        """Send the caller to the fail-over queue via the dialplan; False if impossible."""
        uid = channel.env.uniqueid
        if not channel.usable:
            log.warning("AGI %s: %s; channel unusable, no fail-over", uid, reason)
            return False
        try:
            async with asyncio.timeout(self._failover_timeout):
                await channel.set_variable(IVR_TARGET, self._failover_queue)
                await channel.set_variable(IVR_FAILOVER, "1")
        except (AgiError, TimeoutError) as exc:
            log.warning("AGI %s: %s; fail-over failed: %s", uid, reason, describe(exc))
            return False
        self._count("failovers")
        log.warning("AGI %s: %s; caller sent to queue %s", uid, reason, self._failover_queue)
        return True
