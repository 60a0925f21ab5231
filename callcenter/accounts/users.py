"""User accounts: sign-in and the bootstrap administrator."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from callcenter.passwords import hash_password, verify_password
from callcenter.ports.records import User
from callcenter.ports.stores import Stores, Transactions

log = logging.getLogger(__name__)

# Verifying against a real hash even for unknown names keeps sign-in time the same
# whether or not the user exists, so response timing does not reveal user names.
_DUMMY_HASH = hash_password("no-such-user")

# Password hashing is deliberately slow (argon2); it runs on two worker threads so a burst
# of sign-ins queues there instead of stalling the event loop (calls, AGI, health checks).
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="password-hash")


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
