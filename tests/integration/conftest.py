"""Fixtures of the integration tests that start platform processes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.roles import throwaway_postgres


@pytest.fixture
async def cluster_db() -> AsyncIterator[str]:
    """A migrated, demo-seeded PostgreSQL database of the test's own, dropped afterwards."""
    async with throwaway_postgres() as url:
        yield url
