"""Sign-in attacks and deployment mistakes (issue 16, rows 1, 8, 9 and 16)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from callcenter.accounts import users as accounts_users
from callcenter.api.app import create_app
from callcenter.bootstrap import Platform
from callcenter.cli.core import http_server_config
from callcenter.config import DEV_JWT_SECRET, SettingsError, load_settings
from callcenter.db.repositories import audit as audit_repo
from tests.api.conftest import MakeUser, sign_in

TOKEN_URL = "/api/v1/auth/token"


async def _attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(TOKEN_URL, data={"username": username, "password": password})


async def test_wrong_passwords_lock_the_user_name_with_retry_after_and_are_audited(
    client: httpx.AsyncClient, make_user: MakeUser, platform: Platform
) -> None:
    await make_user("ivanova", "right-one")
    limit = platform.settings.signin_max_failures
    for _ in range(limit):
        assert (await _attempt(client, "ivanova", "guess")).status_code == 401
    locked = await _attempt(client, "ivanova", "right-one")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    # another user signing in from elsewhere is not affected
    await make_user("petrov", "pw")
    assert (await _attempt(client, "petrov", "pw")).status_code == 200
    async with platform.session_factory() as session:
        failed = await audit_repo.search(session, action="auth.sign_in_failed")
        throttled = await audit_repo.search(session, action="auth.sign_in_throttled")
    assert len(failed) == limit
    assert {e.details["username"] for e in failed} == {"'ivanova'"}
    assert all(e.remote_addr == "127.0.0.1" and e.user_id is not None for e in failed)
    assert len(throttled) == 1


async def test_many_unknown_names_from_one_address_are_throttled(
    client: httpx.AsyncClient, platform: Platform, make_user: MakeUser
) -> None:
    await make_user("ivanova", "right-one")
    for n in range(platform.settings.signin_address_max_failures):
        assert (await _attempt(client, f"nobody{n}", "x")).status_code == 401
    # the address is locked out even for a real user's right password
    assert (await _attempt(client, "ivanova", "right-one")).status_code == 429


async def test_a_hostile_user_name_is_logged_and_audited_escaped(
    client: httpx.AsyncClient, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    name = "admin\r\n2026-01-01 INFO forged line\x00"
    assert (await _attempt(client, name, "x")).status_code == 401
    assert "\r\n2026" not in caplog.text
    async with platform.session_factory() as session:
        (entry,) = await audit_repo.search(session, action="auth.sign_in_failed")
    assert "\\r\\n" in entry.details["username"]


async def test_password_hashing_does_not_stall_other_requests(
    client: httpx.AsyncClient, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user("ivanova", "right-one")
    release = threading.Event()
    entered = threading.Event()
    real_verify = accounts_users.verify_password

    def slow_verify(password: str, password_hash: str) -> bool:
        entered.set()
        release.wait(timeout=30)
        return real_verify(password, password_hash)

    monkeypatch.setattr(accounts_users, "verify_password", slow_verify)
    signing_in = asyncio.create_task(_attempt(client, "ivanova", "right-one"))
    assert await asyncio.to_thread(entered.wait, 30)
    # while a password is being checked, the platform still answers
    health = await asyncio.wait_for(client.get("/health"), timeout=10)
    assert health.status_code == 200
    assert not signing_in.done()
    release.set()
    assert (await signing_in).status_code == 200


async def test_a_burst_of_parallel_sign_ins_cannot_outrun_the_address_limit(
    client: httpx.AsyncClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replayed against `make run`: 40 parallel sign-ins for unknown names all reached the
    password check before the first failure was counted, so none was throttled and the last
    waited 30 s for the hashing pool. Attempts still being checked count against the limit."""
    limit = platform.settings.signin_address_max_failures
    release = threading.Event()
    checking = 0
    real_verify = accounts_users.verify_password

    def held_verify(password: str, password_hash: str) -> bool:
        nonlocal checking
        checking += 1
        release.wait(timeout=30)
        return real_verify(password, password_hash)

    monkeypatch.setattr(accounts_users, "verify_password", held_verify)
    burst = [asyncio.create_task(_attempt(client, f"ghost{n}", "x")) for n in range(40)]
    # those over the limit are refused at once, while the others are still being checked
    done, _ = await asyncio.wait(burst, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    assert done
    refused = [t.result() for t in done]
    assert all(r.status_code == 429 and int(r.headers["Retry-After"]) > 0 for r in refused)
    release.set()
    replies = await asyncio.gather(*burst)
    codes = [r.status_code for r in replies]
    assert codes.count(401) <= limit, codes
    assert codes.count(429) >= 40 - limit, codes
    assert checking <= limit
    async with platform.session_factory() as session:
        throttled = await audit_repo.search(session, action="auth.sign_in_throttled")
    assert len(throttled) == codes.count(429)


def test_the_development_secret_is_refused_off_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLCENTER_JWT_SECRET", raising=False)
    with pytest.raises(SettingsError, match=r"CALLCENTER_JWT_SECRET: .*0\.0\.0\.0"):
        load_settings(http_host="0.0.0.0")
    assert load_settings(http_host="127.0.0.1").jwt_secret.get_secret_value() == DEV_JWT_SECRET
    ok = load_settings(http_host="0.0.0.0", jwt_secret="k" * 40)
    assert ok.http_host == "0.0.0.0"


@pytest.fixture
async def served(platform: Platform) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    """The real HTTP server (uvicorn, as `callcenter serve` configures it) on a free port."""

    async def run(trusted: list[str]) -> tuple[uvicorn.Server, int]:
        settings = platform.settings.model_copy(
            update={"http_port": 0, "http_trusted_proxies": trusted}
        )
        server = uvicorn.Server(
            http_server_config(settings, create_app(platform, manage_lifecycle=False))
        )
        config = server.config
        config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup()
        servers.append(server)
        port: int = server.servers[0].sockets[0].getsockname()[1]
        return server, port

    servers: list[uvicorn.Server] = []
    yield run  # type: ignore[misc]
    for server in servers:
        await server.shutdown()


async def _failed_sign_in_address(port: int, platform: Platform) -> str | None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as real:
        reply = await real.post(
            TOKEN_URL,
            data={"username": "x", "password": "y"},
            headers={"X-Forwarded-For": "6.6.6.6"},
        )
        assert reply.status_code == 401
    async with platform.session_factory() as session:
        entry = (await audit_repo.search(session, action="auth.sign_in_failed", limit=1))[0]
    return entry.remote_addr


async def test_forwarded_for_is_believed_only_from_configured_proxies(
    served: object, platform: Platform
) -> None:
    run = served
    _, port = await run([])  # type: ignore[operator]
    assert await _failed_sign_in_address(port, platform) == "127.0.0.1"
    _, port = await run(["127.0.0.1/32"])  # type: ignore[operator]
    assert await _failed_sign_in_address(port, platform) == "6.6.6.6"


async def test_docs_are_served_without_internet(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text
    scripts = [part.split('"')[1] for part in page.text.split("src=")[1:] if part.startswith('"')]
    assert scripts, page.text
    for src in scripts:
        assert src.startswith("/"), src
        asset = await client.get(src)
        assert asset.status_code == 200
        assert len(asset.content) > 10_000
    await make_user("ivanova", "pa55")
    assert await sign_in(client, "ivanova", "pa55")
