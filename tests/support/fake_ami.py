"""A scripted fake Asterisk AMI server for tests: real TCP on 127.0.0.1, port 0.

Replies are the frames Asterisk 22 really sent in tests/fixtures/asterisk, re-stamped with
the client's ActionID (and, where the scenario needs it, a few values such as the ChannelId).
Texts the transcripts do not contain come from the Asterisk sources and are marked so (refused
logins, Hangup, MixMonitor, Confbridge kick/mute, errors for unknown queues).

It records everything it is sent (decoded frames and raw bytes, per session, with the session
number) and can misbehave on request: drop every connection, go silent while keeping the socket
open (a half-open link), refuse logins with Asterisk's texts, ignore chosen actions, restart
(new CoreStartupTime / CoreReloadTime in CoreStatus, new Uptime in FullyBooted), push events.

    async with FakeAmiServer() as ami:
        client = AmiClient("127.0.0.1", ami.port, ami.username, ami.secret, listener)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

from callcenter.asterisk.ami import AmiClient, Backoff
from callcenter.pbx.frames import AmiFrame, FrameDecoder, encode_frame
from callcenter.pbx.listener import AmiListener, ResyncSnapshot
from tests.support.paths import TRANSCRIPTS_DIR
from tests.support.transcripts import TO_ASTERISK, ami_frames

BANNER = b"Asterisk Call Manager/11.0.0\r\n"  # what Asterisk 22 sends (every ami-*.log)

# Refused logins: main/manager.c (action_login, process_message). Asterisk sleeps 1 s, sends
# the error, then closes the session.
AUTH_FAILED = "Authentication failed"
LOGIN_IN_USE = "Login Already In Use"

S1 = "ami-s1-ivr-queue-answer.log"
S4 = "ami-s4-agent-states-and-errors.log"
S5 = "ami-s5-queue-answer-then-redirect.log"
S8 = "ami-s8-confbridge.log"
S10 = "ami-s10-stopmixmonitor-blindtransfer.log"
S14 = "ami-s14-ring-no-answer-and-queue-status.log"
S15 = "ami-s15-atxfer-started.log"

KNOWN_QUEUES = frozenset({"line1", "line2", "line3"})  # lab-queues.conf


# ----------------------------------------------------------------------------- transcript access


@cache
def transcript_frames(name: str, transcripts_dir: Path = TRANSCRIPTS_DIR) -> tuple[AmiFrame, ...]:
    """Every frame Asterisk sent in one transcript."""
    return tuple(ami_frames(transcripts_dir / name))


@cache
def transcript_actions(name: str, transcripts_dir: Path = TRANSCRIPTS_DIR) -> tuple[AmiFrame, ...]:
    """Every action the client sent in one transcript."""
    return tuple(ami_frames(transcripts_dir / name, TO_ASTERISK))


def reply_frames(name: str, action_id: str) -> list[AmiFrame]:
    """The reply Asterisk gave to `action_id`: the response and, for lists, rows + Complete.

    Later events with the same ActionID (OriginateResponse) are not part of the reply.
    """
    out: list[AmiFrame] = []
    in_list = False
    for frame in transcript_frames(name):
        if frame.action_id != action_id:
            continue
        if not out:
            if frame.response is None or frame.event is not None:
                continue
            out.append(frame)
            in_list = (frame.get("EventList") or "").lower() == "start"
            if not in_list:
                return out
            continue
        out.append(frame)
        if (frame.get("EventList") or "").lower() == "complete":
            return out
    if not out:
        raise LookupError(f"no reply to {action_id} in {name}")
    return out


def first_event(name: str, event: str, action_id: str | None = None) -> AmiFrame:
    for frame in transcript_frames(name):
        if frame.event == event and (action_id is None or frame.action_id == action_id):
            return frame
    raise LookupError(f"no {event} in {name}")


def restamp(frame: AmiFrame, **values: object) -> AmiFrame:
    """`frame` with the given keys' values replaced in place (or appended when absent).

    ActionID, when given and absent, goes right after the Response/Event line as Asterisk does.
    """
    pairs = list(frame.pairs)
    for key, value in values.items():
        text = str(value)
        indices = [i for i, (k, _) in enumerate(pairs) if k.lower() == key.lower()]
        if indices:
            for i in indices:
                pairs[i] = (pairs[i][0], text)
        elif key == "ActionID":
            pairs.insert(1, (key, text))
        else:
            pairs.append((key, text))
    return AmiFrame(tuple(pairs))


def _ack(action_id: str, message: str) -> AmiFrame:
    return AmiFrame((("Response", "Success"), ("ActionID", action_id), ("Message", message)))


def _error(action_id: str, message: str) -> AmiFrame:
    return AmiFrame((("Response", "Error"), ("ActionID", action_id), ("Message", message)))


# ----------------------------------------------------------------------------- the server


@dataclass
class Member:
    queue: str
    interface: str
    name: str
    penalty: int = 0
    paused: bool = False
    reason: str = ""


@dataclass
class Session:
    number: int
    writer: asyncio.StreamWriter
    authenticated: bool = False
    silent: bool = False
    raw: bytearray = field(default_factory=bytearray)

    def send(self, frames: Iterable[AmiFrame]) -> None:
        if self.silent or self.writer.is_closing():
            return
        self.writer.write(b"".join(encode_frame(f.pairs) for f in frames))

    def drop(self) -> None:
        self.writer.transport.abort()


Handler = Callable[[Session, AmiFrame], Awaitable[None]]


class FakeAmiServer:
    def __init__(self, *, username: str = "lab", secret: str = "labsecret") -> None:
        self.username = username
        self.secret = secret
        self.port = 0
        self.refuse_logins_with: str | None = None
        self.ignored_actions: set[str] = set()
        # action (lower case) -> Messages for the next replies: `Response: Error` with that text
        self.fail_next: dict[str, list[str]] = {}
        # The next N Originates are recorded, then the connection drops before any reply; with
        # `create_channel_before_drop` the channel has started (CoreShowChannels lists it).
        self.drop_next_originates = 0
        self.create_channel_before_drop = False
        self.queue_status_reply: tuple[str, str] = (S14, "qs-l3")
        self.channels: list[AmiFrame] = []
        self.members: dict[tuple[str, str], Member] = {}
        self.handlers: dict[str, Handler] = {}
        self.started = datetime(2026, 11, 23, 11, 18, 6, tzinfo=UTC)  # s4 CoreStatus
        self.reloaded = datetime(2026, 11, 23, 11, 19, 42, tzinfo=UTC)
        self.restarts = 0
        self.received: list[tuple[int, AmiFrame]] = []
        self.login_times: list[float] = []
        self.sessions: list[Session] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> FakeAmiServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in self.sessions:
            session.drop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> FakeAmiServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------ what tests look at

    def actions(self, name: str | None = None) -> list[AmiFrame]:
        """Every action received (optionally only `name`), in order, over all sessions."""
        return [
            f
            for _, f in self.received
            if name is None or (f.get("Action") or "").lower() == name.lower()
        ]

    def actions_in(self, session: int) -> list[str]:
        return [f.get("Action") or "" for n, f in self.received if n == session]

    @property
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions if not s.writer.is_closing()]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `predicate()` holds; re-checked whenever the server sees something."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------ misbehaviour

    def drop_all(self) -> None:
        for session in self.sessions:
            session.drop()

    def go_silent(self) -> None:
        """Current sessions stop answering and sending, but the sockets stay open."""
        for session in self.sessions:
            session.silent = True

    def restart(self, *, later_by: timedelta = timedelta(minutes=5)) -> None:
        """Asterisk restarts: connections drop, channels vanish, start/reload times move on."""
        self.restarts += 1
        self.started += later_by
        self.reloaded = self.started
        self.channels.clear()
        self.members.clear()
        self.drop_all()

    async def push_events(self, frames: Iterable[AmiFrame]) -> None:
        """Send events to every logged-in session, in order."""
        batch = list(frames)
        for session in self.live_sessions:
            if session.authenticated:
                session.send(batch)
                with contextlib.suppress(ConnectionError):
                    await session.writer.drain()

    def add_channel(
        self, channel_id: str, channel: str = "Local/script1@callers-00000005;1"
    ) -> None:
        """A channel shows in CoreShowChannels (a row of s5, with our Uniqueid/Linkedid)."""
        template = reply_frames(S5, "csc-x")[1]
        self.channels.append(
            restamp(template, Channel=channel, Uniqueid=channel_id, Linkedid=channel_id)
        )

    # ------------------------------------------------------------ protocol

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        session = Session(len(self.sessions) + 1, writer)
        self.sessions.append(session)
        decoder = FrameDecoder()
        try:
            writer.write(BANNER)
            await self._notify()
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                session.raw.extend(data)
                for frame in decoder.feed(data):
                    self.received.append((session.number, frame))
                    if (frame.get("Action") or "").lower() == "login":
                        self.login_times.append(time.monotonic())
                    await self._notify()
                    if session.silent:
                        continue
                    await self._dispatch(session, frame)
                    if writer.is_closing():
                        break
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()
            self._tasks.discard(task)
            await self._notify()

    async def _dispatch(self, session: Session, frame: AmiFrame) -> None:
        action = frame.get("Action") or ""
        action_id = frame.action_id or ""
        if action.lower() in {a.lower() for a in self.ignored_actions}:
            return
        failures = self.fail_next.get(action.lower())
        if failures:
            session.send([_error(action_id, failures.pop(0))])
            return
        custom = self.handlers.get(action.lower())
        if custom is not None:
            await custom(session, frame)
            return
        if action.lower() == "login":
            self._login(session, frame, action_id)
            return
        if not session.authenticated and action.lower() != "logoff":
            session.send([_error(action_id, "Permission denied")])  # manager.c
            return
        method = getattr(self, f"_action_{action.lower()}", None)
        if method is None:
            unknown = reply_frames(S4, "bad-1")[0]
            message = (unknown.get("Message") or "").replace("NoSuchAction", action)
            session.send([restamp(unknown, ActionID=action_id, Message=message)])
            return
        await method(session, frame, action_id)

    def _login(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        refusal = self.refuse_logins_with
        if refusal is None and (
            frame.get("Username") != self.username or frame.get("Secret") != self.secret
        ):
            refusal = AUTH_FAILED
        if refusal is not None:
            session.send([_error(action_id, refusal)])
            session.writer.close()  # Asterisk ends the session after a refused login
            return
        session.authenticated = True
        accepted, booted, auth = transcript_frames(S4)[:3]
        # s4's values; a freshly restarted Asterisk has been up (and reloaded) for seconds only
        uptime, last_reload = (169, 72) if self.restarts == 0 else (2, 2)
        session.send(
            [
                restamp(accepted, ActionID=action_id),
                restamp(booted, Uptime=uptime, LastReload=last_reload),
                restamp(auth, RemoteAddress=f"IPV4/TCP/127.0.0.1/{session.number}"),
            ]
        )

    async def _action_logoff(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        goodbye = transcript_frames(S4)[-1]
        session.send([restamp(goodbye, ActionID=action_id)])
        session.writer.close()

    async def _action_ping(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        pong = reply_frames(S4, "ping-1")[0]
        session.send([restamp(pong, ActionID=action_id, Timestamp=f"{time.time():.6f}")])

    async def _action_corestatus(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        status = reply_frames(S4, "cs-1")[0]
        session.send(
            [
                restamp(
                    status,
                    ActionID=action_id,
                    CoreStartupDate=self.started.date().isoformat(),
                    CoreStartupTime=self.started.time().isoformat(),
                    CoreReloadDate=self.reloaded.date().isoformat(),
                    CoreReloadTime=self.reloaded.time().isoformat(),
                    CoreCurrentCalls=len(self.channels),
                )
            ]
        )

    async def _action_coreshowchannels(
        self, session: Session, frame: AmiFrame, action_id: str
    ) -> None:
        start, *_, complete = reply_frames(S5, "csc-x")
        rows = [restamp(row, ActionID=action_id) for row in self.channels]
        session.send(
            [
                restamp(start, ActionID=action_id),
                *rows,
                restamp(complete, ActionID=action_id, ListItems=len(rows)),
            ]
        )

    def _list_reply(self, session: Session, source: tuple[str, str], action_id: str) -> None:
        session.send([restamp(f, ActionID=action_id) for f in reply_frames(*source)])

    async def _action_queuestatus(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        self._list_reply(session, self.queue_status_reply, action_id)

    async def _action_queuesummary(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        self._list_reply(session, (S1, "qsum1"), action_id)

    async def _action_status(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        self._list_reply(session, (S5, "st-1"), action_id)

    async def _action_confbridgelist(
        self, session: Session, frame: AmiFrame, action_id: str
    ) -> None:
        if frame.get("Conference") != "900":
            # apps/app_confbridge.c
            session.send([_error(action_id, "No Conference by that name found.")])
            return
        self._list_reply(session, (S8, "cbl"), action_id)

    async def _action_queueadd(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        queue, interface = frame.get("Queue") or "", frame.get("Interface") or ""
        if queue not in KNOWN_QUEUES:
            # apps/app_queue.c
            session.send([_error(action_id, "Unable to add interface to queue: No such queue")])
            return
        if (queue, interface) in self.members:
            session.send([restamp(reply_frames(S4, "qa-dup")[0], ActionID=action_id)])
            return
        self.members[(queue, interface)] = Member(
            queue,
            interface,
            frame.get("MemberName") or interface,
            int(frame.get("Penalty") or 0),
            (frame.get("Paused") or "").lower() in {"true", "1", "yes"},
        )
        session.send([restamp(reply_frames(S5, "qa-103")[0], ActionID=action_id)])

    async def _action_queueremove(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        key = (frame.get("Queue") or "", frame.get("Interface") or "")
        if key[0] not in KNOWN_QUEUES:
            message = "Unable to remove interface from queue: No such queue"  # app_queue.c
            session.send([_error(action_id, message)])
            return
        if self.members.pop(key, None) is None:
            session.send([restamp(reply_frames(S4, "qr-again")[0], ActionID=action_id)])
            return
        session.send([restamp(reply_frames(S4, "qr-101")[0], ActionID=action_id)])

    async def _action_queuepause(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        queue, interface = frame.get("Queue") or "", frame.get("Interface") or ""
        paused = (frame.get("Paused") or "").lower() in {"true", "1", "yes"}
        matches = [
            m for (q, i), m in self.members.items() if i == interface and (not queue or q == queue)
        ]
        if not matches:
            session.send([restamp(reply_frames(S4, "qp-bad")[0], ActionID=action_id)])
            return
        source = "qp-1" if paused else "qp-2"
        replies = [restamp(reply_frames(S4, source)[0], ActionID=action_id)]
        template = first_event(S4, "QueueMemberPause")
        for member in matches:
            member.paused = paused
            member.reason = (frame.get("Reason") or "") if paused else ""
            replies.append(
                restamp(
                    template,
                    Queue=member.queue,
                    MemberName=member.name,
                    Interface=member.interface,
                    Paused=int(paused),
                    PausedReason=member.reason,
                )
            )
        session.send(replies)

    async def _action_queuepenalty(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        interface = frame.get("Interface") or ""
        matches = [m for (_, i), m in self.members.items() if i == interface]
        if not matches:
            # apps/app_queue.c
            session.send([_error(action_id, "Invalid interface, queuename or penalty")])
            return
        for member in matches:
            member.penalty = int(frame.get("Penalty") or 0)
        session.send([restamp(reply_frames(S4, "qpen")[0], ActionID=action_id)])

    async def _action_originate(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        channel_id = frame.get("ChannelId") or f"1795432716.{len(self.actions('Originate'))}"
        if self.drop_next_originates > 0:
            self.drop_next_originates -= 1
            if self.create_channel_before_drop:
                self.add_channel(channel_id, f"{frame.get('Channel')}-00000005;1")
            session.drop()
            return
        queued = reply_frames(S5, "orig-xfer")[0]
        outcome = first_event(S5, "OriginateResponse")
        session.send([restamp(queued, ActionID=action_id)])
        with contextlib.suppress(ConnectionError):
            await session.writer.drain()
        self.add_channel(channel_id, f"{frame.get('Channel')}-00000005;1")
        session.send(
            [
                restamp(
                    outcome,
                    ActionID=action_id,
                    Channel=f"{frame.get('Channel')}-00000005;1",
                    Context=frame.get("Context") or "",
                    Exten=frame.get("Exten") or "",
                    Uniqueid=channel_id,
                )
            ]
        )

    async def _simple(self, session: Session, action_id: str, source: tuple[str, str]) -> None:
        session.send([restamp(reply_frames(*source)[0], ActionID=action_id)])

    async def _action_redirect(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        await self._simple(session, action_id, (S5, "redir-1"))

    async def _action_blindtransfer(
        self, session: Session, frame: AmiFrame, action_id: str
    ) -> None:
        await self._simple(session, action_id, (S10, "bxfer-1"))

    async def _action_atxfer(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        await self._simple(session, action_id, (S15, "atx-1"))

    async def _action_stopmixmonitor(
        self, session: Session, frame: AmiFrame, action_id: str
    ) -> None:
        await self._simple(session, action_id, (S10, "stopmix-1"))

    async def _action_mixmonitor(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        # apps/app_mixmonitor.c manager_mixmonitor: no Message, a MixMonitorID
        session.send(
            [
                AmiFrame(
                    (
                        ("Response", "Success"),
                        ("ActionID", action_id),
                        ("MixMonitorID", "0x7f7f38004a10"),
                    )
                )
            ]
        )

    async def _action_hangup(self, session: Session, frame: AmiFrame, action_id: str) -> None:
        session.send([_ack(action_id, "Channel Hungup")])  # main/manager.c

    async def _action_confbridgekick(
        self, session: Session, frame: AmiFrame, action_id: str
    ) -> None:
        session.send([_ack(action_id, "User kicked")])  # apps/app_confbridge.c

    async def _action_confbridgemute(
        self, session: Session, frame: AmiFrame, action_id: str
    ) -> None:
        session.send([_ack(action_id, "User muted")])

    async def _action_confbridgeunmute(
        self, session: Session, frame: AmiFrame, action_id: str
    ) -> None:
        session.send([_ack(action_id, "User unmuted")])


# ----------------------------------------------------------------------------- client side


class RecordingListener:
    """An AmiListener that records everything; `hold` (when set) blocks on_event until set."""

    def __init__(self) -> None:
        self.snapshots: list[ResyncSnapshot] = []
        self.disconnects = 0
        self.events: list[AmiFrame] = []
        self.received_at: list[datetime] = []
        self.hold: asyncio.Event | None = None
        self._changed = asyncio.Condition()

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        self.snapshots.append(snapshot)
        await self._notify()

    async def on_disconnected(self) -> None:
        self.disconnects += 1
        await self._notify()

    async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
        if self.hold is not None:
            await self.hold.wait()
        self.events.append(frame)
        self.received_at.append(received_at)
        await self._notify()

    def named(self, event: str) -> list[AmiFrame]:
        return [f for f in self.events if f.event == event]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


def fast_client(server: FakeAmiServer, listener: AmiListener, **options: Any) -> AmiClient:
    """A client for `server` with test-sized timeouts (override any of them)."""
    settings: dict[str, Any] = {
        "action_timeout": 2.0,
        "ping_interval": 5.0,
        "backoff": Backoff(base=0.01, factor=2.0, max_delay=0.05, jitter=0.0),
    }
    settings.update(options)
    return AmiClient("127.0.0.1", server.port, server.username, server.secret, listener, **settings)


@asynccontextmanager
async def running_client(
    server: FakeAmiServer, listener: AmiListener, **options: Any
) -> AsyncIterator[AmiClient]:
    """A started client, already connected and resynced; closed afterwards."""
    client = fast_client(server, listener, **options)
    await client.start()
    try:
        await client.wait_connected(5.0)
        yield client
    finally:
        await client.close()
