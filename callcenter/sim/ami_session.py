"""One AMI session of the simulator's server, and the event classes a session may receive."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from callcenter.pbx.frames import AmiFrame, encode_frame
from callcenter.sim import events as ev

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
EVENT_CLASSES = frozenset(
    {
        "system",
        "call",
        "log",
        "verbose",
        "command",
        "agent",
        "user",
        "config",
        "dtmf",
        "reporting",
        "cdr",
        "dialplan",
        "originate",
        "agi",
        "cc",
        "aoc",
        "test",
        "security",
        "message",
    }
)


def event_tv(epoch: float) -> str:
    """EventTV / SessionTV: `2026-11-23T11:18:35.019+0000`."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_event_mask(value: str) -> frozenset[str] | None:
    """`on` -> every class, `off` -> none, else a comma list of classes; None if invalid."""
    text = value.strip().lower()
    if text in ("on", "yes", "true", "1", "all"):
        return EVENT_CLASSES
    if text in ("off", "no", "false", "0", "none", ""):
        return frozenset()
    classes = frozenset(part.strip() for part in text.split(",") if part.strip())
    if "all" in classes:
        return EVENT_CLASSES
    return classes if classes <= EVENT_CLASSES else None


class SessionOwner(Protocol):
    """The server a session belongs to: its frame counter and its `silent` test switch."""

    frames_sent: int
    silent: bool


@dataclass(eq=False)
class AmiSession:
    server: SessionOwner
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    session_id: str
    local_address: str
    remote_address: str
    started_epoch: float
    authenticated: bool = False
    username: str = ""
    events: frozenset[str] = EVENT_CLASSES
    challenge: str | None = None
    closed: bool = False
    frames_sent: int = 0
    actions: asyncio.Queue[AmiFrame] = field(default_factory=asyncio.Queue)

    def send(self, pairs: ev.Pairs | list[tuple[str, str]]) -> None:
        if self.closed or self.writer.is_closing():
            return
        self.writer.write(encode_frame(pairs))
        self.frames_sent += 1
        self.server.frames_sent += 1

    def send_event(self, pairs: ev.Pairs) -> None:
        if not self.authenticated or self.server.silent:
            return
        privilege = dict(pairs[:2]).get("Privilege", "")
        category = privilege.split(",")[0].lower()
        if category and category not in self.events:
            return
        self.send(pairs)

    def close(self) -> None:
        self.closed = True
        if not self.writer.is_closing():
            self.writer.close()
