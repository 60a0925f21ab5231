"""Run platform processes (roles, the simulator) as an operator would, for the tests of
issue 15: each started with its own environment, ready once a line of its output matches."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

UVICORN_PORT = re.compile(rb"Uvicorn running on http://[^:]+:(\d+)")
TELEPHONY_READY = re.compile(rb"telephony node \S+ \(site \S+\) running")
SIMULATOR_READY = re.compile(rb"simulator AMI on [^:]+:(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Running:
    process: asyncio.subprocess.Process
    match: re.Match[bytes]
    log: list[bytes] = field(default_factory=list)
    drainers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{int(self.match.group(1))}"

    def output(self) -> str:
        return b"".join(self.log).decode(errors="replace")

    def kill(self) -> None:
        """kill -9: no clean-up at all, as when a machine dies."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)


@asynccontextmanager
async def running(
    args: list[str], *, cwd: Path, env: dict[str, str], ready: re.Pattern[bytes], within: float = 90
) -> AsyncIterator[Running]:
    """Start `python -m callcenter ARGS`; yield once its output matches `ready`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callcenter",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    log: list[bytes] = []
    handle: Running | None = None
    try:
        async with asyncio.timeout(within):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    raise AssertionError(f"{args} exited early:\n" + b"".join(log).decode())
                log.append(line)
                found = ready.search(line)
                if found:
                    break
        handle = Running(proc, found, log)

        async def drain() -> None:
            assert proc.stdout is not None
            while line := await proc.stdout.readline():
                log.append(line)

        handle.drainers.append(asyncio.create_task(drain()))
        yield handle
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(30):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if handle is not None:
            for task in handle.drainers:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
