"""The telephony role's small HTTP app: `/metrics` and the `/health` probes, nothing else.

A telephony node serves no people (that is the API role's job), but Prometheus, load
balancers and systemd still need to ask it how it is; it listens on
CALLCENTER_HTTP_HOST:CALLCENTER_TELEPHONY_HTTP_PORT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from callcenter import __version__
from callcenter.api.routes import health
from callcenter.api.routes import metrics as metrics_route

if TYPE_CHECKING:
    from callcenter.bootstrap import Platform


def create_node_app(platform: Platform) -> FastAPI:
    app = FastAPI(
        title="callcenter telephony node",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.platform = platform
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    return app
