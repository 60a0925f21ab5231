"""The single migration history builds the models' schema on both backends, without drift."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from callcenter.db.base import Base
from callcenter.db.engine import create_engine
from callcenter.db.migrate import downgrade_to_base, head_revision, upgrade_to_head


def _on_connection(url: str, fn: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(fn)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _drift(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    diff: list[Any] = compare_metadata(context, Base.metadata)
    return diff


@pytest.mark.slow
def test_upgrade_downgrade_upgrade_reaches_the_models_schema(unmigrated_url: str) -> None:
    downgrade_to_base(unmigrated_url)
    assert _on_connection(unmigrated_url, _tables) == set()

    upgrade_to_head(unmigrated_url)
    assert _on_connection(unmigrated_url, _tables) == set(Base.metadata.tables)
    assert _on_connection(unmigrated_url, _revision) == head_revision()

    downgrade_to_base(unmigrated_url)
    assert _on_connection(unmigrated_url, _tables) == set()
    assert _on_connection(unmigrated_url, _revision) is None

    upgrade_to_head(unmigrated_url)
    assert _on_connection(unmigrated_url, _revision) == head_revision()


def test_migrated_schema_matches_the_models_exactly(unmigrated_url: str) -> None:
    upgrade_to_head(unmigrated_url)
    assert _on_connection(unmigrated_url, _drift) == []
