"""Run platform processes (roles, the simulator) as an operator would, for the tests of
issue 15: each started with its own environment, ready once a line of its output matches."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

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


@asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[str]:
    """A migrated, demo-seeded PostgreSQL database of its own, dropped afterwards (skips the
    test when the server is unreachable, except under CI)."""
    import os
    import uuid
    from datetime import UTC, datetime

    import pytest
    from sqlalchemy.engine import make_url

    from callcenter.db.engine import create_engine, create_session_factory
    from callcenter.db.migrate import upgrade_to_head
    from callcenter.db.seed import seed_demo
    from tests.conftest import POSTGRES_ADMIN_URL, _pg_admin

    name = f"cc_roles_{uuid.uuid4().hex[:10]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required when CI is set: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade_to_head, url)
        engine = create_engine(url)
        await seed_demo(create_session_factory(engine), now=datetime.now(UTC), if_empty=False)
        await engine.dispose()
        yield url
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def until(check: Callable[[], Awaitable[Any]], *, within: float, what: str) -> Any:
    """Wait for `check` to return something truthy (polling; the deadline only ends a hang)."""
    deadline = asyncio.get_running_loop().time() + within
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: still not so after {within} s (last: {last!r})")


async def token(client: httpx.AsyncClient, username: str, password: str) -> str:
    reply = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert reply.status_code == 200, reply.text
    value: str = reply.json()["access_token"]
    return value
