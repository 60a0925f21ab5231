"""One AMI TCP session on asyncio streams: login, sanitised writes, replies matched by ActionID.

Why not panoramisk's Manager/AMIProtocol (panoramisk 1.4) here, although it is installed:
- after a reconnect it re-sends every action that had no reply yet (`awaiting_actions`, flushed
  on FullyBooted): a lost Originate would ring the customer twice;
- an async Originate's reply is treated as a list start, so the OriginateResponse event is
  swallowed into the action's future and never reaches event handlers;
- it writes values unsanitised (CR/LF in a caller name injects headers or whole actions);
- its ping is fire-and-forget (a half-open socket is never noticed) and it reconnects at a fixed
  whole-second interval (`int(reconnect_timeout)`), without backoff, also after a refused login;
- events are dispatched from `data_received` through callbacks, with no bound and no ordering.
Each of those is a requirement of the contact centre, and fixing them would mean replacing
connect, ping, send, message routing and dispatch: everything but the name. So the session is a
small reader task over asyncio streams and `FrameDecoder`, and everything written goes through
`frames.encode_action`, which strips CR, LF and NUL from every key and value.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from callcenter.pbx.ami_errors import (
    AmiActionError,
    AmiConnectionLostError,
    AmiLoginError,
    AmiNotConnectedError,
    AmiTimeoutError,
)
from callcenter.pbx.events import untracked_varset
from callcenter.pbx.frames import AmiFrame, FrameDecoder, FrameTooLargeError, encode_action
from callcenter.pbx.results import ActionReply

log = logging.getLogger(__name__)

FrameSink = Callable[[AmiFrame], Awaitable[None]]
Fields = Iterable[tuple[str, object]]

_READ_CHUNK = 64 * 1024


@dataclass(slots=True)
class _Pending:
    action: str
    future: asyncio.Future[ActionReply]
    response: AmiFrame | None = None
    items: list[AmiFrame] = field(default_factory=list)


class AmiConnection:
    """A logged-in AMI session. Created by `open`; dead for good once `closed` is True."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        on_event: FrameSink,
        next_action_id: Callable[[], str],
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_event = on_event
        self._next_action_id = next_action_id
        # a frame only the parser would drop costs nothing beyond reading its lines
        self._decoder = FrameDecoder(skip=untracked_varset)
        self._pending: dict[str, _Pending] = {}
        self._closed = asyncio.Event()
        self.close_reason = ""
        self._read_task = asyncio.create_task(self._read_loop(), name="ami-reader")

    @property
    def skipped_events(self) -> int:
        """Events read and dropped unparsed: VarSet of variables the platform does not track."""
        return self._decoder.skipped

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        username: str,
        secret: str,
        connect_timeout: float,
        on_event: FrameSink,
        next_action_id: Callable[[], str],
    ) -> AmiConnection:
        """Connect and log in; AmiLoginError if Asterisk refuses, OSError/AmiError otherwise."""
        try:
            async with asyncio.timeout(connect_timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            raise AmiTimeoutError("connect", connect_timeout) from None
        conn = cls(reader, writer, on_event=on_event, next_action_id=next_action_id)
        try:
            await conn.request(
                "Login",
                [("Username", username), ("Secret", secret), ("Events", "on")],
                connect_timeout,
            )
        except AmiActionError as exc:
            # Asterisk closes the socket after a refused login anyway
            conn.abort(f"login refused: {exc.message}")
            await conn.wait_closed()
            raise AmiLoginError(exc.message) from None
        except BaseException:
            conn.abort("login did not complete")
            await conn.wait_closed()
            raise
        return conn

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def banner(self) -> str | None:
        return self._decoder.banner

    async def wait_closed(self) -> None:
        await self._closed.wait()
        await asyncio.gather(self._read_task, return_exceptions=True)

    def abort(self, reason: str) -> None:
        """Drop the socket now (no flush: on a half-open link the send buffer may never drain)."""
        if not self.close_reason:
            self.close_reason = reason
        self._writer.transport.abort()

    async def request(
        self,
        action: str,
        fields: Fields = (),
        reply_timeout: float = 10.0,
        *,
        action_id: str | None = None,
    ) -> ActionReply:
        """Send one action and wait for its complete reply (response, then list rows if any)."""
        if self.closed or self._writer.transport.is_closing():
            raise AmiNotConnectedError(f"AMI link is down; {action} was not sent")
        action_id = action_id or self._next_action_id()
        if action_id in self._pending:
            raise ValueError(f"an action with ActionID {action_id!r} is already in flight")
        future: asyncio.Future[ActionReply] = asyncio.get_running_loop().create_future()
        pending = _Pending(action, future)
        self._pending[action_id] = pending
        try:
            # sanitising happens in encode_action: no value can end a line or the frame
            self._writer.write(encode_action(action, [("ActionID", action_id), *fields]))
            async with asyncio.timeout(reply_timeout):
                await self._writer.drain()
                return await future
        except TimeoutError:
            raise AmiTimeoutError(action, reply_timeout) from None
        except (ConnectionError, OSError):
            raise AmiConnectionLostError(action) from None
        finally:
            if self._pending.get(action_id) is pending:
                del self._pending[action_id]

    async def _read_loop(self) -> None:
        reason = "closed by Asterisk"
        try:
            while True:
                data = await self._reader.read(_READ_CHUNK)
                if not data:
                    break
                for frame in self._decoder.feed(data):
                    await self._route(frame)
        except FrameTooLargeError as exc:
            reason = f"protocol error: {exc}"
            log.error("AMI: %s; dropping the connection", reason)
        except (ConnectionError, OSError) as exc:
            reason = f"socket error: {exc!r}"
        except Exception:
            reason = "internal error while reading"
            log.exception("AMI reader failed; dropping the connection")
        finally:
            if not self.close_reason:
                self.close_reason = reason
            self._closed.set()
            self._writer.transport.abort()
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(AmiConnectionLostError(pending.action))
                    pending.future.exception()  # retrieved here: the waiter may be gone already
            self._pending.clear()

    async def _route(self, frame: AmiFrame) -> None:
        action_id = frame.action_id
        pending = self._pending.get(action_id) if action_id else None
        if frame.event is not None:
            # OriginateResponse has both Event and Response: it is an event, not a reply
            if pending is not None and pending.response is not None:
                if (frame.get("EventList") or "").lower() == "complete":
                    reply = ActionReply(pending.response, tuple(pending.items), frame)
                    self._resolve(pending, reply)
                else:
                    pending.items.append(frame)
                return
            await self._on_event(frame)
            return
        if frame.response is None:
            log.debug("AMI: ignoring frame that is neither event nor response: %r", frame)
            return
        if pending is None:
            log.debug("AMI: reply to no pending action (late or unknown): %s", action_id)
            return
        if frame.response.lower() == "error":
            if not pending.future.done():
                message = frame.get("Message") or ""
                pending.future.set_exception(AmiActionError(pending.action, message, frame))
            return
        if (frame.get("EventList") or "").lower() == "start":
            pending.response = frame  # rows follow, then the *Complete event
            return
        self._resolve(pending, ActionReply(frame))

    @staticmethod
    def _resolve(pending: _Pending, reply: ActionReply) -> None:
        if not pending.future.done():
            pending.future.set_result(reply)
