"""Auto-informing by SMS over the API: the send request only stores a job, a worker sends,
the gateway's delivery reports (an authenticated callback) make messages positive or
negative, and the progress is on the API and the WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform
from callcenter.config import load_settings
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.domain.roles import Role
from callcenter.notify.sms import HttpSmsGateway, SmsGatewayConfig
from callcenter.outbound.notify_jobs import NotifyWorker, WorkerConfig
from callcenter.sim.sms_gateway import SmsGatewaySim
from tests.api.conftest import MakeUser, bearer, sign_in
from tests.support.eventually import eventually
from tests.support.notify import make_campaign

TOKEN = "gateway-callback-secret-0123456789"
Contact = campaigns_repo.NewContact


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGatewaySim]:
    sim = SmsGatewaySim()
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def sms(platform: Platform, gateway: SmsGatewaySim) -> AsyncIterator[HttpSmsGateway]:
    platform.settings = load_settings(
        database_url=platform.settings.database_url, sms_report_token=TOKEN
    )
    async with HttpSmsGateway(SmsGatewayConfig(url=gateway.url, sender="Energo")) as client:
        platform.sms = client
        yield client


async def test_send_returns_a_job_and_gateway_reports_make_messages_positive_or_negative(
    client: httpx.AsyncClient,
    make_user: MakeUser,
    session_factory: async_sessionmaker[AsyncSession],
    gateway: SmsGatewaySim,
    sms: HttpSmsGateway,
) -> None:
    setup = await make_campaign(
        session_factory,
        [
            Contact("+79161230001", "Иванов", {"day": "2026-03-15"}),
            Contact("+79161230002", "Петров", {"day": "2026-03-16"}),
        ],
        template="{name}, {day:date} плановое отключение.",
        all_day=True,
        starts_at=datetime.now(UTC) - timedelta(hours=1),
    )
    await make_user("boss", role=Role.SUPERVISOR)
    await make_user("op", role=Role.OPERATOR)
    auth = bearer(await sign_in(client, "boss"))
    url = f"/api/v1/campaigns/{setup.campaign_id}/send"

    assert (
        await client.post(url, json={"channel": "sms"}, headers=bearer(await sign_in(client, "op")))
    ).status_code == 403
    no_mail = await client.post(url, json={"channel": "email"}, headers=auth)
    assert no_mail.status_code == 422
    assert no_mail.json()["detail"] == "Почтовый сервер не настроен"

    reply = await client.post(url, json={"channel": "sms"}, headers=auth)
    assert reply.status_code == 202, reply.text
    job = reply.json()
    assert (job["status"], job["contacts"], job["created"]) == ("expanding", 2, True)
    again = await client.post(url, json={"channel": "sms"}, headers=auth)
    assert (again.json()["job_id"], again.json()["created"]) == (job["job_id"], False)
    assert gateway.requests == 0  # the request only stored the job

    # the gateway reports each message twice, as soon as it takes it (before the worker has
    # even stored "sent"); Петров's phone is off
    answers: list[dict[str, Any]] = []

    async def report(payload: dict[str, Any]) -> None:
        r = await client.post(
            "/api/v1/notify/sms/reports", json=payload, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert r.status_code == 200, r.text
        answers.append(r.json())

    gateway.report = report
    gateway.duplicate_reports = True
    gateway.undeliverable = {"+79161230002"}
    worker = NotifyWorker(
        session_factory,
        clock=lambda: datetime.now(UTC),
        sms=sms,
        config=WorkerConfig(sms_rate=1000),
    )
    await worker.run_until_idle()

    progress_url = f"/api/v1/campaigns/{setup.campaign_id}/messages"

    async def both_reported() -> bool:
        [channel] = (await client.get(progress_url, headers=auth)).json()["channels"]
        return bool(channel["delivered"] + channel["failed"] == 2 and len(answers) == 4)

    await eventually(both_reported)
    [channel] = (await client.get(progress_url, headers=auth)).json()["channels"]
    assert {k: channel[k] for k in ("channel", "contacts", "sent", "delivered", "failed")} == {
        "channel": "sms",
        "contacts": 2,
        "sent": 0,
        "delivered": 1,
        "failed": 1,
    }
    assert (channel["positive"], channel["negative"], channel["percent_done"]) == (1, 1, 100.0)
    assert sum(a["applied"] for a in answers) == 2
    assert sum(a["ignored"] for a in answers) == 2  # the repeated reports changed nothing
    assert sum(m["sent"] for m in channel["per_minute"]) == 2
    report = (
        await client.get(f"/api/v1/campaigns/{setup.campaign_id}/report", headers=auth)
    ).json()
    [in_report] = report["messages"]
    assert (in_report["positive"], in_report["negative"]) == (1, 1)

    failed = await client.get(
        f"/api/v1/campaigns/{setup.campaign_id}/messages/deliveries?status=failed", headers=auth
    )
    [row] = failed.json()
    assert (row["address"], row["outcome"], row["reason"]) == (
        "+79161230002",
        "negative",
        "абонент недоступен",
    )
    assert row["gateway_message_id"]
    assert row["sent_at"]

    # the callback needs the gateway's token
    report_url = "/api/v1/notify/sms/reports"
    body = {"id": row["gateway_message_id"], "status": "delivered"}
    assert (await client.post(report_url, json=body)).status_code == 401
    wrong = {"Authorization": "Bearer guess"}
    assert (await client.post(report_url, json=body, headers=wrong)).status_code == 401
    by_query = await client.post(
        f"{report_url}?token={TOKEN}", json=[body, {"id": "x", "status": "delivered"}]
    )
    assert by_query.json() == {"applied": 0, "ignored": 2}  # a failed message stays failed


@pytest.fixture
async def server_url(platform: Platform) -> AsyncIterator[str]:
    """The app on a real socket (WebSockets need one)."""
    config = uvicorn.Config(
        create_app(platform, manage_lifecycle=False),
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    # until uvicorn says it listens (it has no event for it)
    await eventually(lambda: server.started, within=5, poll=0.01, what="uvicorn started")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_websocket_streams_message_progress_to_supervisors(
    server_url: str,
    make_user: MakeUser,
    session_factory: async_sessionmaker[AsyncSession],
    sms: HttpSmsGateway,
) -> None:
    setup = await make_campaign(
        session_factory,
        [Contact("+79161230001", "Иванов", {"day": "2026-03-15"})],
        template="{name}, {day:date} плановое отключение.",
    )
    await make_user("boss", role=Role.SUPERVISOR)
    await make_user("op", role=Role.OPERATOR)
    async with httpx.AsyncClient(base_url=f"http://{server_url}") as client:
        auth = bearer(await sign_in(client, "boss"))
        operator = await sign_in(client, "op")
        sent = await client.post(
            f"/api/v1/campaigns/{setup.campaign_id}/send", json={"channel": "sms"}, headers=auth
        )
        assert sent.status_code == 202
    token = auth["Authorization"].removeprefix("Bearer ")
    path = f"/api/v1/campaigns/{setup.campaign_id}/messages/live"
    async with connect(f"ws://{server_url}{path}?token={token}") as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert (message["type"], message["campaign_id"]) == ("messages", setup.campaign_id)
    [channel] = message["channels"]
    assert (channel["channel"], channel["contacts"], channel["job_status"]) == (
        "sms",
        1,
        "expanding",
    )
    for bad in (operator, "not-a-token"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://{server_url}{path}?token={bad}"):
                pass
        assert refused.value.response.status_code == 403
