"""Pooled PostgreSQL connections: an idle one the server dropped is replaced unnoticed, and one
in steady use is not pinged (a ping is three round trips per checkout)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from callcenter.db.engine import create_engine

pytestmark = pytest.mark.postgres


async def backend_pid(engine: object) -> int:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        pid: int = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return pid


async def test_an_idle_connection_the_server_dropped_is_replaced_without_an_error(
    migrated_postgres_url: str,
) -> None:
    engine = create_engine(migrated_postgres_url, idle_ping_seconds=0.0)
    watcher = create_engine(migrated_postgres_url)
    try:
        dropped = await backend_pid(engine)
        async with watcher.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})

        replaced = await backend_pid(engine)  # would raise without the ping

        assert replaced != dropped
    finally:
        await engine.dispose()
        await watcher.dispose()


@pytest.mark.parametrize(("idle_ping_seconds", "pings"), [(5.0, 0), (0.0, 19)])
async def test_only_connections_idle_longer_than_the_threshold_are_pinged(
    migrated_postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
    idle_ping_seconds: float,
    pings: int,
) -> None:
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as Adapted

    pinged: list[object] = []
    original = Adapted.ping

    def counting_ping(self: Adapted) -> None:
        pinged.append(self)
        original(self)

    monkeypatch.setattr(Adapted, "ping", counting_ping)
    engine = create_engine(migrated_postgres_url, idle_ping_seconds=idle_ping_seconds)
    try:
        pid = await backend_pid(engine)
        for _ in range(19):  # back to back: the same connection, returned moments ago
            assert await backend_pid(engine) == pid
    finally:
        await engine.dispose()

    assert len(pinged) == pings
