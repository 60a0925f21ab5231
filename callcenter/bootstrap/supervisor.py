"""The all-in-one `callcenter serve` on PostgreSQL: the telephony role and the API role as
two child processes, restarted when one dies, stopped together on SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # after the 1st, 2nd... death in a row
HEALTHY_AFTER = 60.0  # a child up this long starts the count again


@dataclass
class Child:
    role: str
    process: asyncio.subprocess.Process | None = None
    failures: int = 0


def role_command(role: str) -> list[str]:
    return [sys.executable, "-m", "callcenter", "serve", "--role", role]


async def supervise(roles: tuple[str, ...] = ("telephony", "api")) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    children = [Child(role) for role in roles]

    async def keep(child: Child) -> None:
        while not stop.is_set():
            started = loop.time()
            child.process = await asyncio.create_subprocess_exec(
                *role_command(child.role), env=dict(os.environ)
            )
            log.info("started the %s role (pid %s)", child.role, child.process.pid)
            code = await child.process.wait()
            if stop.is_set():
                return
            if loop.time() - started > HEALTHY_AFTER:
                child.failures = 0
            delay = RESTART_DELAYS[min(child.failures, len(RESTART_DELAYS) - 1)]
            child.failures += 1
            log.error(
                "the %s role exited with code %s; restarting in %g s", child.role, code, delay
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    keepers = [asyncio.create_task(keep(c), name=f"keep-{c.role}") for c in children]
    await stop.wait()
    # the API stops taking requests first, then the telephony node finishes its calls' records
    for child in reversed(children):
        process = child.process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=20.0)
            except TimeoutError:
                log.error("the %s role did not stop in 20 s: killed", child.role)
                process.kill()
                await process.wait()
    for task in keepers:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return 0
