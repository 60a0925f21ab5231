"""User accounts: sign-in and the bootstrap administrator."""

from __future__ import annotations

import asyncio
import logging
import weakref

from callcenter.passwords import hash_password, verify_password
from callcenter.ports.records import User
from callcenter.ports.stores import Stores, Transactions

log = logging.getLogger(__name__)

# Verifying against a real hash even for unknown names keeps sign-in time the same
# whether or not the user exists, so response timing does not reveal user names.
_DUMMY_HASH = hash_password("no-such-user")


# Password hashing (argon2) is deliberately slow CPU work: it runs in worker threads, never on
# the event loop, and at most this many at once, so a burst of sign-ins queues instead of
# taking every core from the calls.
HASHING_AT_ONCE = 2
_hashing: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _verify(password: str, password_hash: str) -> bool:
    loop = asyncio.get_running_loop()
    limit = _hashing.get(loop)
    if limit is None:
        limit = _hashing[loop] = asyncio.Semaphore(HASHING_AT_ONCE)
    async with limit:
        return await asyncio.to_thread(verify_password, password, password_hash)


async def authenticate(tx: Stores, username: str, password: str) -> User | None:
    user = await tx.users.get_by_username(username)
    if user is None:
        await _verify(password, _DUMMY_HASH)
        return None
    if not await _verify(password, user.password_hash) or not user.is_active:
        return None
    return user


async def ensure_admin(session_factory: Transactions, username: str, password: str) -> None:
    """Create the bootstrap administrator, or reset its password and role if it exists."""
    hashed = await asyncio.to_thread(hash_password, password)
    async with session_factory.begin() as tx:
        await tx.users.upsert_admin(username, hashed)
    log.info("bootstrap administrator %r is ready", username)
