"""Plays Asterisk's side of a FastAGI connection against the platform's FastAGI server.

Connects over TCP, sends an environment, answers commands from a list of replies
(`answer`) or from the lines of a real transcript (`replay`), and can misbehave: reply
`HANGUP` (`answer(["HANGUP"])`), go silent (`read_command` and never answer), dribble one byte
at a time (`dribble`), send a megabyte of environment (`send_large_environment`), or close
before the blank line (`send` part of it, then `send_eof`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

from callcenter.asterisk.agi import AgiHandler, AgiServer
from tests.support.transcripts import FROM_ASTERISK, TO_ASTERISK, TranscriptLine

READ_TIMEOUT = 5.0  # generous: only reached when a test is about to fail

# The environment of transcript agi-s1-ivr-session.log, in Asterisk's order.
BASE_ENVIRONMENT: tuple[tuple[str, str], ...] = (
    ("agi_network", "yes"),
    ("agi_network_script", "ivr"),
    ("agi_request", "agi://127.0.0.1:4573/ivr"),
    ("agi_channel", "Local/script1@callers-00000000;1"),
    ("agi_language", "en"),
    ("agi_type", "Local"),
    ("agi_uniqueid", "1795432716.0"),
    ("agi_version", "22-lts-ref"),
    ("agi_callerid", "+79161234567"),
    ("agi_calleridname", "Ivanov Ivan"),
    ("agi_callingpres", "0"),
    ("agi_callingani2", "0"),
    ("agi_callington", "0"),
    ("agi_callingtns", "0"),
    ("agi_dnid", "unknown"),
    ("agi_rdnis", "unknown"),
    ("agi_context", "ivr"),
    ("agi_extension", "88001000000"),
    ("agi_priority", "3"),
    ("agi_enhanced", "0.0"),
    ("agi_accountcode", ""),
    ("agi_threadid", "140185067177664"),
)


def environment(script: str = "ivr", **overrides: str) -> list[tuple[str, str]]:
    """The s1 environment for `script`; keyword overrides replace (or append) `agi_<key>`."""
    pairs = dict(BASE_ENVIRONMENT)
    pairs["agi_network_script"] = script
    pairs["agi_request"] = f"agi://127.0.0.1:4573/{script}"
    for key, value in overrides.items():
        pairs[key if key.startswith("agi_") else f"agi_{key}"] = value
    return list(pairs.items())


def encode_environment(pairs: Iterable[tuple[str, str]]) -> bytes:
    return b"".join(f"{k}: {v}\n".encode() for k, v in pairs) + b"\n"


def parse_agi_args(line: str) -> list[str]:
    """Split a command line into arguments exactly as Asterisk's res_agi.c parse_args does."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and current is None:
                current = []
                args.append("")
            continue
        if ch in " \t" and not quoted and not escaped:
            if current is not None:
                args[-1] = "".join(current)
            current = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if current is None:
            current = []
            args.append("")
        current.append(ch)
        escaped = False
    if current is not None:
        args[-1] = "".join(current)
    return args


class AgiPeer:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.received: list[bytes] = []  # every line the server sent, raw
        self.eof = asyncio.Event()  # the server closed the connection

    @classmethod
    async def connect(cls, address: tuple[str, int]) -> AgiPeer:
        reader, writer = await asyncio.open_connection(*address)
        return cls(reader, writer)

    async def close(self) -> None:
        self._writer.close()
        with suppress(OSError):
            await self._writer.wait_closed()

    async def __aenter__(self) -> AgiPeer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- sending ------------------------------------------------------------------------

    async def send(self, data: bytes) -> bool:
        """Write raw bytes; False when the server has already closed the connection."""
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError:
            return False
        return True

    async def send_line(self, line: str) -> bool:
        return await self.send(line.encode() + b"\n")

    async def send_environment(self, pairs: Iterable[tuple[str, str]] | None = None) -> None:
        await self.send(encode_environment(environment() if pairs is None else pairs))

    async def send_eof(self) -> None:
        self._writer.write_eof()

    # --- reading ------------------------------------------------------------------------

    async def read_command(self) -> str | None:
        """The next command line (without newline), or None once the server closed."""
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                raw = await self._reader.readline()
        except OSError:
            raw = b""
        if not raw.endswith(b"\n"):
            self.eof.set()
            return None
        self.received.append(raw)
        return raw.decode().rstrip("\n")

    async def read_until_eof(self) -> list[str]:
        """Every further line until the server closes the connection."""
        lines = []
        while (line := await self.read_command()) is not None:
            lines.append(line)
        return lines

    async def answer(self, replies: Sequence[str | Sequence[str]]) -> list[str]:
        """For each reply (one line or several): read a command, then send that reply.

        Returns the commands read, for the test to compare; stops early if the server closes.
        """
        got = []
        for reply in replies:
            command = await self.read_command()
            if command is None:
                break
            got.append(command)
            for line in [reply] if isinstance(reply, str) else reply:
                await self.send_line(line)
        return got

    async def replay(self, lines: Sequence[TranscriptLine]) -> list[bytes]:
        """Play a transcript's Asterisk side; return the command lines the server sent.

        The environment (every `<<` line before the first `>>`) is sent first; then each
        command received is answered with the `<<` lines that followed the corresponding `>>`
        line in the transcript, until the server closes the connection.
        """
        first = next(i for i, line in enumerate(lines) if line.direction == TO_ASTERISK)
        await self.send(b"".join(line.data for line in lines[:first]))
        replies: list[bytes] = []
        for line in lines[first:]:
            if line.direction == TO_ASTERISK:
                replies.append(b"")
            elif line.direction == FROM_ASTERISK:
                replies[-1] += line.data
        start = len(self.received)
        for reply in replies:
            if await self.read_command() is None:
                break
            await self.send(reply)
        else:
            await self.read_until_eof()
        return self.received[start:]

    # --- misbehaving --------------------------------------------------------------------

    async def dribble(self, data: bytes, interval: float) -> int:
        """Send `data` one byte every `interval` s until the server closes; bytes sent."""
        closed = asyncio.create_task(self.read_until_eof())
        sent = 0
        try:
            for byte in data:
                if not await self.send(bytes([byte])):
                    break
                sent += 1
                done, _ = await asyncio.wait([closed], timeout=interval)
                if done:
                    break
            await closed
        finally:
            closed.cancel()
        return sent

    async def send_large_environment(self, size: int = 1 << 20, line_bytes: int = 100) -> None:
        """About `size` bytes of environment in lines of `line_bytes` (one line if >= size)."""
        if line_bytes >= size:
            data = b"agi_request: agi://127.0.0.1/" + b"x" * size + b"\n\n"
        else:
            line = b"agi_arg_1: " + b"y" * (line_bytes - 12) + b"\n"
            data = b"agi_request: agi://127.0.0.1/ivr\n" + line * (size // len(line)) + b"\n"
        await self.send(data)


@asynccontextmanager
async def running_server(
    routes: Mapping[str, AgiHandler], **options: Any
) -> AsyncIterator[AgiServer]:
    """An AgiServer on 127.0.0.1, a free port, stopped (quickly) at the end."""
    server = AgiServer(routes, host="127.0.0.1", port=0, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=1.0)


@asynccontextmanager
async def connected(
    routes: Mapping[str, AgiHandler], **options: Any
) -> AsyncIterator[tuple[AgiServer, AgiPeer]]:
    """A running server and one peer connected to it."""
    async with (
        running_server(routes, **options) as server,
        await AgiPeer.connect(server.address) as peer,
    ):
        yield server, peer
