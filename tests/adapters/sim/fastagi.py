"""A tiny FastAGI server for tests: each session runs a script coroutine against it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class AgiSessionPeer:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    env: dict[str, str] = field(default_factory=dict)
    env_order: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)

    async def command(self, line: str) -> str:
        """Send one command; return its reply (lines such as a lone HANGUP are recorded)."""
        self.writer.write((line + "\n").encode())
        await self.writer.drain()
        while True:
            raw = await self.reader.readline()
            if not raw:
                return ""
            text = raw.decode().rstrip("\n")
            self.received.append(text)
            if text[:3].isdigit():
                return text

    async def read_line(self) -> str:
        raw = await self.reader.readline()
        text = raw.decode().rstrip("\n")
        self.received.append(text)
        return text


Script = Callable[[AgiSessionPeer], Awaitable[None]]


class FastAgiServer:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.sessions: list[AgiSessionPeer] = []
        self.finished = asyncio.Event()
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def __aenter__(self) -> FastAgiServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = AgiSessionPeer(reader, writer)
        self.sessions.append(peer)
        try:
            while True:
                raw = await reader.readline()
                line = raw.decode().rstrip("\n")
                if not line:
                    break
                key, _, value = line.partition(": ")
                peer.env[key] = value
                peer.env_order.append(key)
            await self.script(peer)
        finally:
            writer.close()
            self.finished.set()
