"""Engine and session factory for the configured database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
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
    kwargs.setdefault("pool_pre_ping", True)
    if application_name:
        connect_args = dict(kwargs.pop("connect_args", {}) or {})
        server_settings = dict(connect_args.get("server_settings", {}) or {})
        server_settings.setdefault("application_name", application_name[:63])
        connect_args["server_settings"] = server_settings
        kwargs["connect_args"] = connect_args
    return create_async_engine(url, **kwargs)


SessionFactory = async_sessionmaker[SqlStores]


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that are also the use cases' `Stores` (see `callcenter.db.stores`)."""
    return async_sessionmaker(engine, class_=SqlStores, expire_on_commit=False)
