"""One FastAGI connection after the environment: writes commands, reads lines in the background.

Asterisk writes a lone `HANGUP` line whenever it notices the hang-up, also while no command
is running (e.g. while a handler looks something up in the database). A background reader
sees it at once, so the channel can refuse to send anything after it instead of discovering
it one command too late.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

log = logging.getLogger(__name__)

HANGUP_LINE = "HANGUP"
MAX_PENDING_LINES = 32  # Asterisk sends one reply per command plus HANGUP; more is a flood
CLOSE_TIMEOUT = 1.0


class AgiTransport:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lines: deque[str] = deque()
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._gone = asyncio.Event()  # HANGUP line seen or connection ended
        self._eof = False
        self.hangup_seen = False
        self._pump: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._pump = asyncio.create_task(self._read_lines(), name="agi-reader")

    async def _read_lines(self) -> None:
        try:
            while True:
                if len(self._lines) >= MAX_PENDING_LINES:
                    # stop reading: TCP back-pressure holds a flooding peer
                    self._room.clear()
                    await self._room.wait()
                raw = await self._reader.readline()
                if not raw.endswith(b"\n"):
                    return  # EOF, possibly in the middle of a line
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if line == HANGUP_LINE:
                    self.hangup_seen = True
                    self._gone.set()
                self._lines.append(line)
                self._arrived.set()
        except (ValueError, OSError) as exc:  # ValueError: line over the reader's limit
            log.debug("AGI connection read ended: %s", exc)
        finally:
            self._eof = True
            self._gone.set()
            self._arrived.set()

    @property
    def has_pending(self) -> bool:
        """Lines arrived that no command asked for."""
        return bool(self._lines)

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._lines

    async def wait_gone(self) -> None:
        """Return once a HANGUP line arrived or the connection ended."""
        await self._gone.wait()

    async def next_line(self) -> str | None:
        """The next line Asterisk sent, or None at end of stream. The caller bounds the wait."""
        while not self._lines:
            if self._eof:
                return None
            self._arrived.clear()
            await self._arrived.wait()
        self._room.set()
        return self._lines.popleft()

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            # asyncio.wait, not `await task`: a cancellation of our own caller must still
            # propagate rather than be swallowed together with the reader's.
            await asyncio.wait([self._pump])
        await close_writer(self._writer)


async def close_writer(writer: asyncio.StreamWriter) -> None:
    """Close the socket; abort it if a peer that does not read keeps the close pending."""
    writer.close()
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await writer.wait_closed()
    except (TimeoutError, OSError):
        writer.transport.abort()
