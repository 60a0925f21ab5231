"""`GET /metrics`: Prometheus text format (see `callcenter.bootstrap.metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST

from callcenter.api.deps import PlatformDep

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics of this process", include_in_schema=False)
async def metrics(platform: PlatformDep) -> Response:
    await platform.refresh_metrics()
    return Response(platform.metrics_text(), media_type=CONTENT_TYPE_LATEST)
