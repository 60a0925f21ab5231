"""The FastAPI application: routers, lifespan bound to the platform's start and stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from callcenter import __version__
from callcenter.accounts.throttle import SignInThrottle
from callcenter.api import hardening
from callcenter.api.metrics import HttpMetrics
from callcenter.api.routes import acd as acd_routes
from callcenter.api.routes import auth, calls, health, users, workstation_routers
from callcenter.api.routes import campaigns as campaigns_routes
from callcenter.api.routes import metrics as metrics_routes
from callcenter.api.routes import notify as notify_routes
from callcenter.api.routes import recordings as recordings_routes
from callcenter.api.routes import reports as reports_routes
from callcenter.api.routes import supervision as supervision_routes
from callcenter.api.web.pages import mount_web
from callcenter.bootstrap import Platform

DESCRIPTION = """
Contact-centre platform for an electricity utility on Asterisk.

Sign in at `POST /api/v1/auth/token` (OAuth2 password flow) and send the token as
`Authorization: Bearer <token>`. Roles: operator < supervisor < administrator.
"""


def create_app(platform: Platform, *, manage_lifecycle: bool = True) -> FastAPI:
    """Build the HTTP app. With `manage_lifecycle` the app starts and stops the platform."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await platform.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await platform.stop()

    app = FastAPI(
        title="Callcenter",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # served by callcenter.web with local assets (no CDN)
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = platform
    settings = platform.settings
    hardening.install(app, max_body_bytes=settings.http_max_body_bytes)
    app.state.signin_throttle = SignInThrottle(
        max_failures_per_user=settings.signin_max_failures,
        max_failures_per_address=settings.signin_address_max_failures,
        lockout_seconds=settings.signin_lockout_seconds,
    )
    app.add_middleware(HttpMetrics)
    app.include_router(health.router)
    app.include_router(metrics_routes.router)
    app.include_router(auth.router)
    app.include_router(users.router)
    app.include_router(calls.router)
    app.include_router(recordings_routes.router)
    for workstation_router in workstation_routers.ROUTERS:
        app.include_router(workstation_router)
    app.include_router(acd_routes.router)
    app.include_router(supervision_routes.router)
    # before the campaigns router: its /campaigns/{id}/{action} would take /campaigns/{id}/send
    app.include_router(notify_routes.router)
    app.include_router(campaigns_routes.router)
    app.include_router(reports_routes.router)
    mount_web(app, platform)
    return app
