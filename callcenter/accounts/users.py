"""User accounts: sign-in and the bootstrap administrator."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from callcenter.passwords import hash_password, verify_password
from callcenter.ports.records import User
from callcenter.ports.stores import Stores, Transactions

log = logging.getLogger(__name__)

# Verifying against a real hash even for unknown names keeps sign-in time the same
# whether or not the user exists, so response timing does not reveal user names.
_DUMMY_HASH = hash_password("no-such-user")

# The CPU priority of the hashing threads: the lowest (Linux nice 19).
HASHING_NICE = 19


def _lowest_priority() -> None:
    """Make the calling worker thread yield the CPU to everything else on the machine.

    Linux schedules threads one by one, so this thread's nice value is its own. A sign-in
    flood then costs telephony (callers waiting for the next prompt, on this node or another
    role's process on the same machine) nothing but idle CPU; sign-ins wait instead.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)
    except (AttributeError, OSError) as exc:  # not Linux, or a sandbox that forbids it
        log.warning("password hashing keeps its CPU priority: %s", exc)


# Password hashing is deliberately slow (argon2); it runs on two worker threads at the lowest
# CPU priority, so a burst of sign-ins queues there instead of stalling the event loop (calls,
# AGI, health checks) or starving the telephony role of CPU.
_HASHING = ThreadPoolExecutor(
    max_workers=2, thread_name_prefix="password-hash", initializer=_lowest_priority
)


async def _verify(password: str, password_hash: str) -> bool:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, verify_password, password, password_hash)


async def authenticate(tx: Stores, username: str, password: str) -> User | None:
    user = await tx.users.get_by_username(username)
    # End the read before the slow check: a burst of sign-ins must not hold every pooled
    # database connection while it queues for the hashing threads (the caller's next
    # statement opens a new transaction; nothing was written, and rows stay loaded).
    await tx.commit()
    if user is None:
        await _verify(password, _DUMMY_HASH)
        return None
    if not await _verify(password, user.password_hash) or not user.is_active:
        return None
    return user


async def ensure_admin(session_factory: Transactions, username: str, password: str) -> None:
    """Create the bootstrap administrator, or reset its password and role if it exists."""
    async with session_factory.begin() as tx:
        await tx.users.upsert_admin(username, hash_password(password))
    log.info("bootstrap administrator %r is ready", username)
