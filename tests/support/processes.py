"""Run the `callcenter` command as a real process, the way an operator would."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

_LISTENING = re.compile(rb"Uvicorn running on http://[^:]+:(\d+)")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env.update(extra)
    return env


@dataclass
class Served:
    port: int
    process: asyncio.subprocess.Process
    log: list[bytes] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def serving(
    cwd: Path, env: dict[str, str], start_within: float = 60.0
) -> AsyncIterator[Served]:
    """Start `callcenter serve` on a free port; yield once it listens; stop it after."""
    env = {**env, "CALLCENTER_HTTP_PORT": "0"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "callcenter",
        "serve",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    log: list[bytes] = []
    try:
        async with asyncio.timeout(start_within):
            while True:
                line = await proc.stderr.readline()
                if not line:
                    raise AssertionError(b"serve exited early:\n" + b"".join(log))
                log.append(line)
                match = _LISTENING.search(line)
                if match:
                    break
        served = Served(int(match.group(1)), proc, log)

        async def drain() -> None:
            assert proc.stderr is not None
            while line := await proc.stderr.readline():
                log.append(line)

        drainer = asyncio.create_task(drain())
        yield served
    finally:
        if proc.returncode is None:
            proc.terminate()
            async with asyncio.timeout(30):
                await proc.wait()
    drainer.cancel()
