"""`GET /health`: is the database reachable, is the PBX linked; `/health/live` and
`/health/ready` for load balancers and systemd (see `callcenter.bootstrap.health`)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from callcenter import __version__
from callcenter.api.deps import PlatformDep
from callcenter.api.schemas import DatabaseHealth, HealthOut, PbxHealth
from callcenter.bootstrap.health import readiness, readiness_body
from callcenter.ports.pbx import PbxState

router = APIRouter(tags=["health"])

DB_PROBE_TIMEOUT_S = 3.0


async def _database(platform: PlatformDep) -> DatabaseHealth:
    probe = await platform.probe_database(limit_seconds=DB_PROBE_TIMEOUT_S)
    return DatabaseHealth(
        ok=probe.ok,
        backend=probe.backend,
        revision=probe.revision,
        latency_ms=probe.latency_ms,
        error=probe.error,
    )


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


@router.get("/health/live", summary="Liveness: the process answers")
async def live(platform: PlatformDep) -> dict[str, str]:
    return {"status": "alive", "role": platform.role}


@router.get(
    "/health/ready",
    summary="Readiness of this process's role (503 with the reasons when not ready)",
    responses={503: {"description": "not ready; `reasons` says why"}},
)
async def ready(platform: PlatformDep, response: Response) -> dict[str, object]:
    found = await readiness(platform)
    if not found.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return readiness_body(found)
