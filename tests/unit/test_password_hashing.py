"""Sign-in hashing yields the CPU: its worker threads run at the lowest priority (Linux)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from callcenter.accounts import users
from callcenter.passwords import hash_password


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
async def test_password_checks_run_on_threads_at_the_lowest_cpu_priority() -> None:
    import asyncio

    def own_priority() -> tuple[int, int]:
        return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    loop = asyncio.get_running_loop()
    assert await users._verify("secret", hash_password("secret"))
    thread_id, nice = await loop.run_in_executor(users._HASHING, own_priority)

    assert nice == users.HASHING_NICE == 19
    assert thread_id != threading.get_native_id()
    # only those threads: the event loop's thread keeps its priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 19
