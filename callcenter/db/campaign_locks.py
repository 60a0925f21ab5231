"""Only one platform instance dials a campaign: the dialer's `CampaignLocks` port.

PostgreSQL: an advisory lock held on a dedicated connection. SQLite: a lease in the
campaign's row (one UPDATE per claim or renewal). In one process: a shared dictionary.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from sqlalchemy import or_, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from callcenter.db.engine import SessionFactory, create_session_factory
from callcenter.db.models import Campaign

log = logging.getLogger(__name__)

Sessions = SessionFactory
Clock = Callable[[], datetime]


class InProcessLocks:
    """Campaign locks shared by every DialerService of this process and database.

    Used for SQLite, which has no row locks and no advisory locks: it protects against two
    dialers in one process only (SQLite is the single-instance, embedded setup).
    """

    _owners: ClassVar[dict[tuple[str, int], object]] = {}  # shared by design

    def __init__(self, database: str) -> None:
        self._database = database
        self._token = object()

    async def acquire(self, campaign_id: int) -> bool:
        key = (self._database, campaign_id)
        owner = self._owners.setdefault(key, self._token)
        return owner is self._token

    async def held(self, campaign_id: int) -> bool:
        return self._owners.get((self._database, campaign_id)) is self._token

    async def release(self, campaign_id: int) -> None:
        key = (self._database, campaign_id)
        if self._owners.get(key) is self._token:
            del self._owners[key]


class PostgresAdvisoryLocks:
    """`pg_try_advisory_lock(namespace, campaign id)` held on a dedicated connection.

    The lock lives as long as that connection: if this instance dies or loses the database,
    PostgreSQL releases it and another instance takes the campaign over. `held` checks the
    connection is still alive (a lost connection means a lost lock).
    """

    NAMESPACE = 0x43434431  # "CCD1": keeps our keys apart from other advisory-lock users

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("advisory locks need PostgreSQL")
        self._engine = engine
        self._connections: dict[int, AsyncConnection] = {}

    async def acquire(self, campaign_id: int) -> bool:
        if campaign_id in self._connections:
            return True
        conn = await self._engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            got = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:ns, :id)"),
                {"ns": self.NAMESPACE, "id": campaign_id},
            )
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._connections[campaign_id] = conn
        return True

    async def held(self, campaign_id: int) -> bool:
        conn = self._connections.get(campaign_id)
        if conn is None:
            return False
        try:
            await conn.execute(text("SELECT 1"))
        except Exception:
            log.warning("dialer: lost the database connection holding campaign %s", campaign_id)
            self._connections.pop(campaign_id, None)
            with contextlib.suppress(Exception):
                await conn.close()
            return False
        return True

    async def release(self, campaign_id: int) -> None:
        conn = self._connections.pop(campaign_id, None)
        if conn is None:
            return
        try:
            await conn.execute(
                text("SELECT pg_advisory_unlock(:ns, :id)"),
                {"ns": self.NAMESPACE, "id": campaign_id},
            )
        except Exception:
            log.warning("dialer: could not unlock campaign %s (the connection will)", campaign_id)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()


class LeaseLocks:
    """A lease in the campaign's row: `dialer_owner` and `dialer_heartbeat_at`.

    For SQLite, which has no advisory locks: each claim or renewal is one UPDATE whose WHERE
    clause only matches a free, own, or expired lease, so two instances on one database file
    never both hold a campaign. A holder renews the lease on every `held` check; one that
    stops renewing (it died) loses the campaign after `ttl_seconds`.
    """

    def __init__(
        self,
        sessions: Sessions,
        *,
        owner: str | None = None,
        ttl_seconds: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self._sessions = sessions
        self.owner = owner or f"dialer-{uuid.uuid4().hex[:16]}"
        self._ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def _claim(self, campaign_id: int, *, take_free: bool) -> bool:
        now = self._clock()
        mine = Campaign.dialer_owner == self.owner
        claimable = or_(
            mine,
            Campaign.dialer_owner.is_(None),
            Campaign.dialer_heartbeat_at.is_(None),
            Campaign.dialer_heartbeat_at < now - self._ttl,
        )
        stmt = (
            update(Campaign)
            .where(Campaign.id == campaign_id, claimable if take_free else mine)
            .values(dialer_owner=self.owner, dialer_heartbeat_at=now)
        )
        async with self._sessions.begin() as session:
            result = await session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    async def acquire(self, campaign_id: int) -> bool:
        return await self._claim(campaign_id, take_free=True)

    async def held(self, campaign_id: int) -> bool:
        return await self._claim(campaign_id, take_free=False)

    async def release(self, campaign_id: int) -> None:
        stmt = (
            update(Campaign)
            .where(Campaign.id == campaign_id, Campaign.dialer_owner == self.owner)
            .values(dialer_owner=None, dialer_heartbeat_at=None)
        )
        async with self._sessions.begin() as session:
            await session.execute(stmt)


def locks_for(engine: AsyncEngine) -> PostgresAdvisoryLocks | LeaseLocks:
    """PostgreSQL: advisory locks; SQLite: a lease in the campaign's row."""
    if engine.dialect.name == "postgresql":
        return PostgresAdvisoryLocks(engine)
    return LeaseLocks(create_session_factory(engine))
