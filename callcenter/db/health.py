"""Is the database reachable, and at which schema revision (for `/health`)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from callcenter.db.migrate import current_revision
from callcenter.ports.health import DatabaseProbe


async def probe_database(engine: AsyncEngine, *, limit_seconds: float = 3.0) -> DatabaseProbe:
    backend = engine.dialect.name
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit_seconds):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            revision = await current_revision(engine)
    except Exception as exc:  # any failure means "down"; the text tells the operator why
        return DatabaseProbe(ok=False, backend=backend, error=f"{type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - started) * 1000
    return DatabaseProbe(ok=True, backend=backend, revision=revision, latency_ms=round(latency, 2))
