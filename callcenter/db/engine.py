"""Engine and session factory for the configured database."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)

from callcenter.db.stores import SqlStores


def create_engine(
    database_url: str, *, application_name: str | None = None, **kwargs: Any
) -> AsyncEngine:
    """Create an async engine; SQLite gets foreign keys, WAL and a busy timeout. On
    PostgreSQL `application_name` names the connections (pg_stat_activity shows which
    node holds what)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    idle_ping = kwargs.pop("idle_ping_seconds", IDLE_PING_SECONDS)
    if application_name:
        connect_args = dict(kwargs.pop("connect_args", {}) or {})
        server_settings = dict(connect_args.get("server_settings", {}) or {})
        server_settings.setdefault("application_name", application_name[:63])
        connect_args["server_settings"] = server_settings
        kwargs["connect_args"] = connect_args
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_idle_connections(engine, idle_ping)
    return engine


# A pooled PostgreSQL connection that has been idle this long is pinged before it is handed
# out; a busier one is not (see `_ping_idle_connections`).
IDLE_PING_SECONDS = 5.0


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """SQLAlchemy's `pool_pre_ping`, but only for connections idle longer than `idle_seconds`.

    The asyncpg dialect pings with BEGIN; ROLLBACK around an empty statement: three round
    trips per checkout, which were about a third of the statements the telephony role sent per
    call. A connection returned moments ago is alive; one that idled (across a PostgreSQL
    restart, a failover, a firewall's idle timeout) is checked as before and replaced when
    dead. The rare connection that dies while busy fails its statement, and SQLAlchemy then
    invalidates the whole pool (a disconnect error), so the next checkouts reconnect.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _handed_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new (just connected) or busy: alive
        try:
            dbapi_conn.ping()
        except Exception as error:
            # the pool replaces the connection and tries the checkout again
            raise exc.DisconnectionError(f"idle connection is gone: {error}") from error


SessionFactory = async_sessionmaker[SqlStores]


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that are also the use cases' `Stores` (see `callcenter.db.stores`)."""
    return async_sessionmaker(engine, class_=SqlStores, expire_on_commit=False)
