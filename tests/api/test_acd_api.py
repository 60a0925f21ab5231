"""The ACD's HTTP API: the operator's own state, the live view with the visibility rule,
staffing, the emergency switch, and the live WebSocket (over a real server socket)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
import websockets
from fastapi import FastAPI

from callcenter.acd.service import AcdService, AcdSettings
from callcenter.api.app import create_app
from callcenter.api.tokens import issue_token
from callcenter.bootstrap import Platform
from callcenter.db.repositories import users as users_repo
from callcenter.domain.roles import Role
from tests.support.eventually import eventually
from tests.unit.acd.support import FakeControl, Sessions, Staff, StepClock, joined, make_staff

PEOPLE = {
    # username: (role, operator extension)
    "anna": (Role.OPERATOR, "101"),
    "vera": (Role.OPERATOR, "106"),
    "sveta": (Role.SUPERVISOR, None),
}


@pytest.fixture
def control() -> FakeControl:
    return FakeControl()


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime.now(UTC))


@pytest.fixture
async def staff(session_factory: Sessions) -> Staff:
    return await make_staff(session_factory)


@pytest.fixture
async def acd(
    session_factory: Sessions, staff: Staff, control: FakeControl, clock: StepClock
) -> AcdService:
    service = AcdService(
        session_factory,
        settings=AcdSettings(auto_emergency=False),
        control=control,
        clock=clock,
    )
    await service.load()
    return service


@pytest.fixture
def app(platform: Platform, acd: AcdService) -> FastAPI:
    application = create_app(platform, manage_lifecycle=False)
    application.state.acd = acd
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def tokens(session_factory: Sessions, staff: Staff, platform: Platform) -> dict[str, str]:
    secret = platform.settings.jwt_secret.get_secret_value()
    issued = {}
    async with session_factory.begin() as session:
        for name, (role, extension) in PEOPLE.items():
            user = await users_repo.create(
                session,
                username=name,
                password_hash="!",  # never signed in with a password: argon2 is slow
                role=role,
                operator_id=staff.id(extension) if extension else None,
            )
            issued[name], _ = issue_token(
                secret=secret,
                user_id=user.id,
                username=name,
                role=role,
                now=datetime.now(UTC),
                ttl=timedelta(hours=1),
            )
    return issued


def auth(tokens: dict[str, str], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[name]}"}


async def test_an_operator_logs_in_pauses_and_comes_back(
    client: httpx.AsyncClient, tokens: dict[str, str], control: FakeControl
) -> None:
    me = auth(tokens, "anna")
    reply = await client.post("/api/v1/me/login", headers=me)
    assert reply.status_code == 200, reply.text
    assert reply.json()["state"] == "ready"
    reply = await client.post("/api/v1/me/pause", headers=me, json={"reason": "lunch"})
    assert reply.json()["state"] == "paused"
    assert reply.json()["pause_reason"] == "lunch"
    assert control.actions[-1][1]["reason"] == "lunch"
    assert (await client.get("/api/v1/me/state", headers=me)).json()["state"] == "paused"
    reply = await client.post("/api/v1/me/unpause", headers=me)
    assert reply.json()["state"] == "ready"
    reply = await client.post("/api/v1/me/logout", headers=me)
    assert reply.json()["state"] == "logged_out"


async def test_operator_commands_are_checked(
    client: httpx.AsyncClient, tokens: dict[str, str], control: FakeControl
) -> None:
    me = auth(tokens, "anna")
    reply = await client.post("/api/v1/me/pause", headers=me, json={"reason": "lunch"})
    assert reply.status_code == 409
    assert "войдите" in reply.json()["detail"]
    reply = await client.post("/api/v1/me/login", headers=me)
    reply = await client.post("/api/v1/me/pause", headers=me, json={"reason": "nap"})
    assert reply.status_code == 422
    # a supervisor's account has no operator behind it
    reply = await client.post("/api/v1/me/login", headers=auth(tokens, "sveta"))
    assert reply.status_code == 422
    control.connected = False
    reply = await client.post("/api/v1/me/pause", headers=me, json={"reason": "lunch"})
    assert reply.status_code == 503
    assert (await client.get("/api/v1/me/state", headers=me)).json()["state"] == "ready"
    assert (await client.post("/api/v1/me/login")).status_code == 401


async def test_the_live_view_follows_the_visibility_rule(
    client: httpx.AsyncClient, tokens: dict[str, str], acd: AcdService, clock: StepClock
) -> None:
    await acd.on_event(joined("1795433773.54", clock.now, 1))
    line1 = (await client.get("/api/v1/queues", headers=auth(tokens, "anna"))).json()
    assert line1["lines"] == [1, 2]
    assert {q["name"] for q in line1["queues"]} == {"line1", "line2", "branch-overflow"}
    assert {o["extension"] for o in line1["operators"]} == {"101", "102", "106"}
    assert next(q for q in line1["queues"] if q["name"] == "line1")["waiting"] == 1
    line2 = (await client.get("/api/v1/queues", headers=auth(tokens, "vera"))).json()
    assert [q["name"] for q in line2["queues"]] == ["line2"]
    assert [o["extension"] for o in line2["operators"]] == ["106"]
    assert [m["line"] for m in line2["metrics"]] == [2]
    full = await client.get("/api/v1/queues?intervals=true", headers=auth(tokens, "sveta"))
    body = full.json()
    assert {q["name"] for q in body["queues"]} == {"line1", "line2", "line3", "branch-overflow"}
    assert [m["line"] for m in body["metrics"]] == [None, 1, 2, 3]
    assert body["intervals"][0]["intervals"][0]["metrics"]["service_level"] is None
    assert body["emergency"]["wait_target_seconds"] == 40


async def test_staffing_by_erlang_c(client: httpx.AsyncClient, tokens: dict[str, str]) -> None:
    query = "calls_per_hour=100&aht=180&target_sl=0.8&target_seconds=20"
    reply = await client.get(f"/api/v1/staffing?{query}", headers=auth(tokens, "sveta"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    # see tests/unit/acd/test_erlang.py for the hand computation
    assert body["agents"] == 8
    assert body["service_level"] == pytest.approx(0.8801, abs=1e-4)
    assert body["asa_seconds"] == pytest.approx(10.04, abs=0.01)
    assert body["occupancy"] == 0.625
    # the target is a share: 80 or 1.5 is no share (once read as 1.5 %), and says so
    for wrong in ("80", "1.5", "1"):
        refused = await client.get(
            f"/api/v1/staffing?calls_per_hour=100&aht=180&target_sl={wrong}&target_seconds=20",
            headers=auth(tokens, "sveta"),
        )
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["query", "target_sl"]
    forbidden = await client.get(f"/api/v1/staffing?{query}", headers=auth(tokens, "anna"))
    assert forbidden.status_code == 403
    bad = await client.get(
        "/api/v1/staffing?calls_per_hour=100&aht=0", headers=auth(tokens, "sveta")
    )
    assert bad.status_code == 422


async def test_the_emergency_switch_is_for_supervisors(
    client: httpx.AsyncClient, tokens: dict[str, str], acd: AcdService
) -> None:
    refused = await client.post(
        "/api/v1/emergency", headers=auth(tokens, "anna"), json={"active": True}
    )
    assert refused.status_code == 403
    reply = await client.post(
        "/api/v1/emergency",
        headers=auth(tokens, "sveta"),
        json={"active": True, "announcement": "Авария в Конаково"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["wait_target_seconds"] == 180
    state = (await client.get("/api/v1/emergency", headers=auth(tokens, "anna"))).json()
    assert state["active"] is True
    assert state["source"] == "supervisor"
    assert acd.greeting_addition() == "Авария в Конаково"


@pytest.fixture
async def live_server(app: FastAPI) -> AsyncIterator[int]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        # uvicorn has no "started" event to wait on: poll its flag, bounded
        await eventually(lambda: server.started, within=5, poll=0.01, what="uvicorn started")
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_the_live_stream_updates_within_a_second(
    live_server: int, tokens: dict[str, str], acd: AcdService, clock: StepClock
) -> None:
    url = f"ws://127.0.0.1:{live_server}/api/v1/ws/supervisor?token={tokens['sveta']}"
    async with websockets.connect(url) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["type"] == "snapshot"
        line1 = next(q for q in first["data"]["queues"] if q["name"] == "line1")
        assert line1["waiting"] == 0
        loop = asyncio.get_running_loop()
        changed_at = loop.time()
        await acd.on_event(joined("1795433773.54", clock.now, 1))
        update = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
        assert loop.time() - changed_at < 1.0
        line1 = next(q for q in update["data"]["queues"] if q["name"] == "line1")
        assert line1["waiting"] == 1


async def test_the_live_stream_needs_a_valid_token(live_server: int) -> None:
    url = f"ws://127.0.0.1:{live_server}/api/v1/ws/supervisor?token=forged"
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url) as ws:
            await ws.recv()
