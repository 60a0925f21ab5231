"""`GET /health`: is the database reachable, is the PBX linked."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from callcenter import __version__
from callcenter.api.deps import PlatformDep
from callcenter.api.schemas import DatabaseHealth, HealthOut, PbxHealth
from callcenter.db.migrate import current_revision
from callcenter.ports.pbx import PbxState

router = APIRouter(tags=["health"])

DB_PROBE_TIMEOUT_S = 3.0


async def _database(platform: PlatformDep) -> DatabaseHealth:
    backend = platform.engine.dialect.name
    started = time.perf_counter()
    try:
        async with asyncio.timeout(DB_PROBE_TIMEOUT_S):
            async with platform.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            revision = await current_revision(platform.engine)
    except Exception as exc:  # any failure means "down"; the text tells the operator why
        return DatabaseHealth(ok=False, backend=backend, error=f"{type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - started) * 1000
    return DatabaseHealth(ok=True, backend=backend, revision=revision, latency_ms=round(latency, 2))


@router.get("/health", response_model=HealthOut, summary="Database and PBX link state")
async def health(platform: PlatformDep, response: Response) -> HealthOut:
    database = await _database(platform)
    pbx = platform.pbx.status()
    if not database.ok:
        overall = "down"
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    elif pbx.state is PbxState.CONNECTED:
        overall = "ok"
    else:
        overall = "degraded"
    return HealthOut(
        status=overall,
        version=__version__,
        database=database,
        pbx=PbxHealth(state=pbx.state, target=pbx.target, detail=pbx.detail),
    )
