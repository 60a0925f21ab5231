"""Routes of the browser pages.

Signing in on `/` posts the same user name and password as `POST /api/v1/auth/token`; the
token goes into an HttpOnly, SameSite=Strict cookie, so the pages can be checked on the
server (an operator cannot open the wallboard), and into the page itself for its scripts,
which call the API with `Authorization: Bearer` and open the WebSockets with `?token=`.
The cookie is never accepted by the JSON API, so it cannot be used for cross-site requests.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request, status
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from callcenter.api.routes.auth import checked_sign_in
from callcenter.api.tokens import InvalidTokenError, decode_token, issue_token
from callcenter.bootstrap import Platform
from callcenter.domain.roles import Role

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
COOKIE = "cc_session"

# npm package → the directory of it served under /vendor/<name>
VENDOR_DIRS = {
    "chart.js": "chart.js/dist",
    "swagger-ui": "swagger-ui-dist",
    "redoc": "redoc/bundles",
}

templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


class PageUser:
    """The signed-in user of a page, with what the page shows about them."""

    def __init__(
        self,
        *,
        user_id: int,
        username: str,
        full_name: str,
        role: Role,
        token: str,
        operator: dict[str, Any] | None,
    ) -> None:
        self.id = user_id
        self.username = username
        self.full_name = full_name
        self.role = role
        self.token = token
        self.operator = operator

    @property
    def is_supervisor(self) -> bool:
        return self.role.at_least(Role.SUPERVISOR)

    @property
    def home(self) -> str:
        if self.is_supervisor:
            return "/supervisor"
        return "/operator"


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def page_user(request: Request) -> PageUser | None:
    """The user of the session cookie, re-read from the database (a disabled account or a
    changed role takes effect at once)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    platform = _platform(request)
    try:
        claims = decode_token(token, secret=platform.settings.jwt_secret.get_secret_value())
    except InvalidTokenError:
        return None
    async with platform.session_factory() as tx:
        user = await tx.users.get(claims.user_id)
        if user is None or not user.is_active or user.username != claims.username:
            return None
        operator: dict[str, Any] | None = None
        if user.operator_id is not None:
            row = await tx.operators.get(user.operator_id)
            if row is not None:
                operator = {
                    "id": row.id,
                    "extension": row.extension,
                    "full_name": row.full_name,
                    "support_line": row.support_line,
                }
    return PageUser(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name or user.username,
        role=Role(user.role),
        token=token,
        operator=operator,
    )


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _forbidden(request: Request, user: PageUser, message: str) -> HTMLResponse:
    return _render(
        request,
        "forbidden.html",
        {"user": user, "message": message, "title": "Нет доступа"},
        status_code=status.HTTP_403_FORBIDDEN,
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    user = await page_user(request)
    if user is not None:
        return RedirectResponse(user.home, status_code=status.HTTP_303_SEE_OTHER)
    return _render(request, "login.html", {"title": "Вход", "error": None, "username": ""})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=150)],
    password: Annotated[str, Form(max_length=200)],
) -> Response:
    platform = _platform(request)
    try:
        # the API's own check: the same limits and audit whichever door is knocked on
        async with platform.session_factory() as tx:
            user = await checked_sign_in(request, tx, username, password)
    except HTTPException as refused:
        throttled = refused.status_code == status.HTTP_429_TOO_MANY_REQUESTS
        page = _render(
            request,
            "login.html",
            {
                "title": "Вход",
                "error": "Слишком много неудачных попыток входа: попробуйте позже"
                if throttled
                else "Неверное имя пользователя или пароль",
                "username": username,
            },
            status_code=refused.status_code,
        )
        retry_after = (refused.headers or {}).get("Retry-After")
        if retry_after is not None:
            page.headers["Retry-After"] = retry_after
        return page
    settings = platform.settings
    ttl = timedelta(minutes=settings.jwt_expire_minutes)
    token, _expires = issue_token(
        secret=settings.jwt_secret.get_secret_value(),
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        now=datetime.now(UTC),
        ttl=ttl,
    )
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(ttl.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response


@router.get("/operator", response_class=HTMLResponse)
async def operator_page(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    if user.operator is None:
        return _forbidden(
            request, user, "Рабочее место открывается только учётной записи оператора."
        )
    return _render(request, "operator.html", {"user": user, "title": "Рабочее место оператора"})


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor_page(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    if not user.is_supervisor:
        return _forbidden(request, user, "Табло руководителя доступно только руководителям.")
    return _render(request, "wallboard.html", {"user": user, "title": "Табло руководителя"})


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(request: Request) -> Response:
    user = await page_user(request)
    if user is None:
        return RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    if not user.is_supervisor:
        return _forbidden(request, user, "Отчёты доступны только руководителям.")
    # the period fields are in the centre's time: the page turns them into ISO times with
    # the centre's offset on that date (Intl), whatever zone the supervisor's browser is in
    zone = ZoneInfo(_platform(request).settings.local_timezone)
    today = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return _render(
        request,
        "reports.html",
        {
            "user": user,
            "title": "Отчёты",
            "zone": zone.key,
            "default_from": today.strftime("%Y-%m-%dT%H:%M"),
            "default_to": (today + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )


# --- the API docs with local assets -------------------------------------------------------


def _docs_routes(app: FastAPI) -> APIRouter:
    docs = APIRouter(include_in_schema=False)
    openapi_url = app.openapi_url or "/openapi.json"
    oauth_redirect = "/docs/oauth2-redirect"

    @docs.get("/docs", response_class=HTMLResponse)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url=oauth_redirect,
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @docs.get(oauth_redirect, response_class=HTMLResponse)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @docs.get("/redoc", response_class=HTMLResponse)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — ReDoc",
            redoc_js_url="/vendor/redoc/redoc.standalone.js",
            redoc_favicon_url="/static/favicon.svg",
            with_google_fonts=False,
        )
        # ReDoc always draws its vendor's logo from cdn.redoc.ly (no option turns it off); the
        # browser refuses it here and ReDoc hides the broken image, so the page stays offline
        page.headers["Content-Security-Policy"] = "img-src 'self' data: blob:"
        return page

    return docs


def assets_dir(configured: Path) -> Path | None:
    """Where the npm packages are: the setting, else (relative) beside the source tree."""
    candidates = [configured]
    if not configured.is_absolute():
        candidates.append(HERE.parents[2] / configured)  # the source tree's root
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def mount_web(app: FastAPI, platform: Platform) -> None:
    """Add the pages, their own static files, the npm packages and the docs to `app` (which
    must be created with `docs_url=None, redoc_url=None`)."""
    app.include_router(router)
    app.include_router(_docs_routes(app))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    found = assets_dir(platform.settings.web_assets_dir)
    if found is None:
        log.warning(
            "web assets not found in %s: charts and API docs pages will not load; "
            "run `make install` (npm ci)",
            platform.settings.web_assets_dir,
        )
        return
    for name, sub in VENDOR_DIRS.items():
        directory = found / sub
        if directory.is_dir():
            app.mount(f"/vendor/{name}", StaticFiles(directory=str(directory)), name=name)
        else:
            log.warning("web assets: %s is missing; run `make install` (npm ci)", directory)
