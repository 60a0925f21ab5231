"""Fixtures for the persistence adapter's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

# a fixed, aware moment: repository code never reads the clock for business times
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database for migration tests: a new SQLite file, or the run's PostgreSQL database.

    The PostgreSQL one is shared with the migrated-database fixtures, so a migration test
    starts by going down to base and must leave it at head.
    """
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
