"""The browser pages as HTTP: sign-in with the API's accounts, pages by role, the docs with
local assets (no CDN)."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import Operator, User
from callcenter.domain.roles import Role
from callcenter.passwords import hash_password
from tests.api.conftest import MakeUser, bearer, sign_in


async def _operator_user(factory: async_sessionmaker[AsyncSession]) -> None:
    async with factory.begin() as session:
        op = Operator(extension="101", full_name="Смирнова Ольга", support_line=1)
        session.add(op)
        await session.flush()
        session.add(
            User(
                username="op101",
                password_hash=hash_password("secret"),
                role=Role.OPERATOR,
                full_name="Смирнова Ольга",
                operator_id=op.id,
            )
        )


async def _page_sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    return await client.post("/login", data={"username": username, "password": "secret"})


async def test_the_root_is_the_russian_sign_in_page(client: httpx.AsyncClient) -> None:
    reply = await client.get("/")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert '<html lang="ru">' in reply.text
    assert "Вход в контакт-центр" in reply.text
    assert 'action="/login"' in reply.text


async def test_a_wrong_password_stays_on_the_sign_in_page(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("boss", role=Role.SUPERVISOR)
    reply = await client.post("/login", data={"username": "boss", "password": "nope"})
    assert reply.status_code == 401
    assert "Неверное имя пользователя или пароль" in reply.text
    assert "cc_session" not in reply.headers.get("set-cookie", "")


async def test_the_sign_in_page_is_throttled_like_the_api(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    """Issue 16, row 1, replayed on the page: guessing through the form is no way around the
    API's sign-in limits."""
    await make_user("boss", role=Role.SUPERVISOR)
    codes = [
        (await client.post("/login", data={"username": "boss", "password": "nope"})).status_code
        for _ in range(8)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5:] == [429] * 3
    locked = await client.post("/login", data={"username": "boss", "password": "secret"})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Слишком много неудачных попыток" in locked.text
    assert "cc_session" not in locked.headers.get("set-cookie", "")


async def test_an_operator_gets_the_workstation_and_not_the_wallboard(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _operator_user(session_factory)
    signed = await _page_sign_in(client, "op101")
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    home = await client.get("/")
    assert home.status_code == 303
    assert home.headers["location"] == "/operator"
    page = await client.get("/operator")
    assert page.status_code == 200
    assert "Рабочее место оператора" in page.text
    assert "доб. 101" in page.text
    token = re.search(r'name="cc-token" content="([^"]+)"', page.text)
    assert token is not None
    # the page's token works on the API
    me = await client.get("/api/v1/auth/me", headers=bearer(token.group(1)))
    assert me.json()["username"] == "op101"
    refused = await client.get("/supervisor")
    assert refused.status_code == 403
    assert "только руководителям" in refused.text
    assert 'href="/reports"' not in page.text


async def test_a_supervisor_gets_the_wallboard_with_a_reports_link(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("boss", role=Role.SUPERVISOR)
    await _page_sign_in(client, "boss")
    home = await client.get("/")
    assert home.headers["location"] == "/supervisor"
    page = await client.get("/supervisor")
    assert page.status_code == 200
    assert "Табло руководителя" in page.text
    assert "/vendor/chart.js/chart.umd.min.js" in page.text
    assert 'href="/reports"' in page.text
    # not an operator account: no workstation
    assert (await client.get("/operator")).status_code == 403
    reports = await client.get("/reports")
    assert reports.status_code == 200
    assert "Графики по интервалам" in reports.text
    assert "Конструктор отчёта" in reports.text
    assert 'data-zone="Europe/Moscow"' in reports.text
    assert "/static/reports.js" in reports.text


async def test_an_operator_cannot_open_the_reports_page(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    await _operator_user(session_factory)
    await _page_sign_in(client, "op101")
    refused = await client.get("/reports")
    assert refused.status_code == 403
    assert "Отчёты доступны только руководителям" in refused.text
    assert "chart-volume" not in refused.text


async def test_pages_without_a_session_go_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/operator", "/supervisor", "/reports"):
        reply = await client.get(path)
        assert reply.status_code == 303
        assert reply.headers["location"] == "/"


async def test_signing_out_forgets_the_session(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("boss", role=Role.SUPERVISOR)
    await _page_sign_in(client, "boss")
    out = await client.post("/logout")
    assert out.status_code == 303
    assert (await client.get("/supervisor")).status_code == 303


async def test_the_session_cookie_does_not_open_the_api(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("boss", role=Role.SUPERVISOR)
    await _page_sign_in(client, "boss")
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_docs_and_redoc_load_their_assets_locally(client: httpx.AsyncClient) -> None:
    for path, asset in (
        ("/docs", "/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/vendor/redoc/redoc.standalone.js"),
    ):
        page = await client.get(path)
        assert page.status_code == 200
        assert asset in page.text
        assert "cdn." not in page.text
        assert "fonts.googleapis" not in page.text
        served = await client.get(asset)
        assert served.status_code == 200, f"{asset}: run `make install` (npm ci)"
        assert len(served.content) > 10_000
    chart = await client.get("/vendor/chart.js/chart.umd.min.js")
    assert chart.status_code == 200


async def test_only_supervisors_may_spy(client: httpx.AsyncClient, make_user: MakeUser) -> None:
    await make_user("op")
    token = await sign_in(client, "op")
    reply = await client.post(
        "/api/v1/supervisor/spy",
        json={"operator_id": 1, "mode": "whisper", "phone": "150"},
        headers=bearer(token),
    )
    assert reply.status_code == 403
