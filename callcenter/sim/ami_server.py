"""The simulator's AMI server: Asterisk's manager interface over TCP.

Sessions get the `Asterisk Call Manager/11.0.0` banner, must Login (username/secret or
Challenge/MD5), then receive events (filtered by `Events:`) and send actions, which
`ami_actions` answers with Asterisk's own reply texts. Test hooks simulate a dying PBX:
`drop_all_clients()`, `silent` (stop answering but keep sockets open) and `restart()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Mapping

from callcenter.pbx.frames import AmiFrame, FrameDecoder, FrameTooLargeError
from callcenter.sim import events as ev
from callcenter.sim.ami_actions import dispatch
from callcenter.sim.ami_session import BANNER, AmiSession, event_tv
from callcenter.sim.pbx import Pbx

__all__ = ["AmiServer", "AmiSession"]

log = logging.getLogger(__name__)


class AmiServer:
    def __init__(
        self,
        pbx: Pbx,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        users: Mapping[str, str] | None = None,
    ) -> None:
        self.pbx = pbx
        self.host = host
        self.requested_port = port
        self.port = port
        self.users = dict(users or {"callcenter": "callcenter"})
        self.sessions: set[AmiSession] = set()
        self.silent = False
        self.frames_sent = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        pbx.listeners.append(self.broadcast)

    # --- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port or 0)
        sockets = self._server.sockets or ()
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.drop_all_clients()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def drop_all_clients(self) -> None:
        """Close every AMI connection (clients must reconnect and log in again)."""
        for session in list(self.sessions):
            session.close()
        self.sessions.clear()

    async def restart(self, down_for: float = 0.0) -> None:
        """Simulated Asterisk restart: clients dropped, calls gone, new startup time.

        The port stops listening for `down_for` real seconds, then comes back.
        """
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.drop_all_clients()
        self.pbx.restart()
        if down_for > 0:
            await asyncio.sleep(down_for)
        self.port = self.port or self.requested_port
        self._server = await asyncio.start_server(self._accept, self.host, self.port)

    # --- events -----------------------------------------------------------------------------
    def broadcast(self, pairs: ev.Pairs) -> None:
        for session in list(self.sessions):
            session.send_event(pairs)

    # --- connections -----------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local = writer.get_extra_info("sockname") or ("127.0.0.1", self.port)
        remote = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        session = AmiSession(
            server=self,
            reader=reader,
            writer=writer,
            session_id=self.pbx.ids.session_id(),
            local_address=f"IPV4/TCP/{local[0]}/{local[1]}",
            remote_address=f"IPV4/TCP/{remote[0]}/{remote[1]}",
            started_epoch=self.pbx.clock.epoch(),
        )
        self.sessions.add(session)
        worker = asyncio.get_running_loop().create_task(self._work(session))
        self._tasks.add(worker)
        worker.add_done_callback(self._tasks.discard)
        try:
            writer.write(BANNER)
            decoder = FrameDecoder()
            while not session.closed:
                data = await reader.read(65536)
                if not data:
                    break
                try:
                    frames = list(decoder.feed(data))
                except FrameTooLargeError:
                    break
                for frame in frames:
                    if not self.silent:
                        session.actions.put_nowait(frame)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            worker.cancel()
            session.close()
            self.sessions.discard(session)

    async def _work(self, session: AmiSession) -> None:
        """Actions of one session run one at a time, in order, like Asterisk's session thread."""
        while not session.closed:
            frame = await session.actions.get()
            self.pbx.clock.sync()
            try:
                await dispatch(self, session, frame)
            except Exception:
                log.exception("simulator AMI action failed: %s", frame.as_dict())
            with contextlib.suppress(ConnectionError):
                await session.writer.drain()

    # --- authentication ------------------------------------------------------------------
    def check_login(self, session: AmiSession, frame: AmiFrame) -> bool:
        username = frame.get("Username") or ""
        secret = self.users.get(username)
        if secret is None:
            return False
        if (frame.get("AuthType") or "").lower() == "md5":
            key = frame.get("Key") or ""
            if not session.challenge:
                return False
            expected = hashlib.md5((session.challenge + secret).encode()).hexdigest()
            return key == expected
        return frame.get("Secret") == secret

    def security_event(
        self, session: AmiSession, event: str, severity: str, tail: ev.Pairs
    ) -> None:
        pairs = ev.security_event(event, event_tv(self.pbx.clock.epoch()), severity, tail)
        self.broadcast(pairs)

    def session_fields(self, session: AmiSession) -> ev.Pairs:
        return [
            ("SessionID", session.session_id),
            ("LocalAddress", session.local_address),
            ("RemoteAddress", session.remote_address),
        ]
