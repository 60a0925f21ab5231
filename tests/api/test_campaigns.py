from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform
from callcenter.domain.roles import Role
from tests.api.conftest import MakeUser, bearer, sign_in
from tests.support.eventually import eventually

CSV_CP1251 = (
    "Телефон;ФИО;debt;day;Часовой пояс\r\n"
    "8 (916) 123-45-67;Иванов И.И.;1234,56;15.03.2026;\r\n"
    "+7 916 123 45 67;Иванов повтор;10;15.03.2026;\r\n"
    "12345;Короткий;10;15.03.2026;\r\n"
    "+7 343 123-45-67;Петров П.П.;много;31.02.2026;Asia/Yekaterinburg\r\n"
    "89031234567;Сидоров;99;2026-03-16;Марс/Олимп\r\n"
    "89261112233;Кузнецов;0,5;2026-03-16;+05:00\r\n"
).encode("cp1251")

TEMPLATE = "Задолженность {debt:money}. Отключение {day:date}."


@pytest.fixture
async def supervisor(client: httpx.AsyncClient, make_user: MakeUser) -> dict[str, str]:
    await make_user("boss", role=Role.SUPERVISOR)
    return bearer(await sign_in(client, "boss"))


async def _import(
    client: httpx.AsyncClient, auth: dict[str, str], data: bytes, **form: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/contact-lists/import",
        headers=auth,
        files={"file": ("list.csv", data, "text/csv")},
        data=form,
    )


async def _campaign(
    client: httpx.AsyncClient, auth: dict[str, str], list_id: int, **overrides: object
) -> httpx.Response:
    body: dict[str, object] = {
        "name": "Задолженность, март",
        "kind": "auto_inform",
        "contact_list_id": list_id,
        "starts_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        "message_template": TEMPLATE,
        **overrides,
    }
    return await client.post("/api/v1/campaigns", headers=auth, json=body)


async def test_csv_import_reports_every_bad_row_and_normalises_numbers(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    reply = await _import(client, supervisor, CSV_CP1251, name="Должники")
    assert reply.status_code == 200, reply.text
    report = reply.json()
    assert (report["rows"], report["imported"], report["duplicates"]) == (6, 3, [3])
    errors = {e["line"]: e["messages"] for e in report["errors"]}
    assert set(errors) == {4, 6}
    assert "внутренний номер" in errors[4][0]
    assert errors[6] == ["неизвестный часовой пояс «Марс/Олимп»"]
    # values are checked against a campaign's message only when asked (next test)
    list_id = report["list_id"]
    listed = await client.get(f"/api/v1/contact-lists/{list_id}/contacts", headers=supervisor)
    contacts = {c["phone"]: c for c in listed.json()}
    assert set(contacts) == {"+79161234567", "+73431234567", "+79261112233"}
    assert contacts["+79161234567"]["name"] == "Иванов И.И."
    assert contacts["+79161234567"]["variables"] == {"debt": "1234,56", "day": "15.03.2026"}
    assert contacts["+73431234567"]["timezone"] == "Asia/Yekaterinburg"
    assert contacts["+79261112233"]["timezone"] == "+05:00"
    lists = await client.get("/api/v1/contact-lists", headers=supervisor)
    assert [(x["name"], x["contacts"]) for x in lists.json()] == [("Должники", 3)]


async def test_rows_are_checked_against_the_campaign_message(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    first = await _import(client, supervisor, b"phone\n+79161234567\n", name="L1")
    campaign = await _campaign(client, supervisor, first.json()["list_id"])
    assert campaign.status_code == 201, campaign.text
    reply = await _import(
        client,
        supervisor,
        CSV_CP1251,
        name="L2",
        campaign_id=str(campaign.json()["id"]),
        dry_run="true",
    )
    report = reply.json()
    assert report["imported"] == 0
    assert report["dry_run"]
    errors = {e["line"]: e["messages"] for e in report["errors"]}
    assert errors[5] == [
        "поле «debt»: «много» — не сумма в рублях",
        "поле «day»: «31.02.2026» — не дата (ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)",
    ]


async def test_campaign_lifecycle_progress_and_reports(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    imported = await _import(client, supervisor, CSV_CP1251, name="Должники")
    list_id = imported.json()["list_id"]
    bad = await _campaign(client, supervisor, list_id, message_template="Сумма {debt:euro}")
    assert bad.status_code == 422
    assert "неизвестный тип" in bad.json()["detail"]
    created = await _campaign(client, supervisor, list_id, weekdays=[1, 2, 3, 4, 5])
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert (campaign["status"], campaign["mode"], campaign["weekdays"]) == (
        "draft",
        "none",
        [1, 2, 3, 4, 5],
    )
    cid = campaign["id"]
    # one imported contact cannot fill the message: starting is refused, naming it
    refused = await client.post(f"/api/v1/campaigns/{cid}/start", headers=supervisor)
    assert refused.status_code == 422
    assert "+73431234567" in refused.json()["detail"]
    fixed = await client.patch(
        f"/api/v1/campaigns/{cid}",
        headers=supervisor,
        json={"message_template": "Уважаемый {name}, проверьте задолженность."},
    )
    assert fixed.status_code == 200, fixed.text
    started = await client.post(f"/api/v1/campaigns/{cid}/start", headers=supervisor)
    assert started.json()["status"] == "scheduled"
    again = await client.post(f"/api/v1/campaigns/{cid}/start", headers=supervisor)
    assert again.status_code == 409
    locked = await client.patch(f"/api/v1/campaigns/{cid}", headers=supervisor, json={"name": "x"})
    assert locked.status_code == 409

    progress = (await client.get(f"/api/v1/campaigns/{cid}/progress", headers=supervisor)).json()
    assert progress["contacts"]["total"] == 3
    assert progress["contacts"]["untouched"] == 3
    assert progress["live"] is None  # no dialer runs in the API tests
    message = await client.get(
        f"/api/v1/campaigns/{cid}/message",
        headers=supervisor,
        params={"contact_id": 1_000_000},
    )
    assert message.status_code == 404
    report = await client.get(f"/api/v1/campaigns/{cid}/report", headers=supervisor)
    assert report.json()["negative"]["busy"] == 0
    csv_reply = await client.get(f"/api/v1/campaigns/{cid}/report.csv", headers=supervisor)
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert csv_reply.text.startswith("\ufeffтелефон;абонент;попытка")
    listed = await client.get(
        "/api/v1/campaigns", headers=supervisor, params={"status": "scheduled"}
    )
    assert [c["campaign_id"] for c in listed.json()] == [cid]
    paused = await client.post(f"/api/v1/campaigns/{cid}/pause", headers=supervisor)
    assert paused.json()["status"] == "paused"
    cancelled = await client.post(f"/api/v1/campaigns/{cid}/cancel", headers=supervisor)
    assert cancelled.json()["status"] == "cancelled"


async def test_operator_campaign_rules(
    client: httpx.AsyncClient, supervisor: dict[str, str]
) -> None:
    imported = await _import(client, supervisor, b"phone\n+79161234567\n", name="L")
    list_id = imported.json()["list_id"]
    too_loose = await _campaign(
        client, supervisor, list_id, kind="operator", message_template="", max_abandon_pct=5
    )
    assert too_loose.status_code == 422
    assert "3.0 %" in too_loose.json()["detail"]
    wrong_mode = await _campaign(client, supervisor, list_id, kind="auto_inform", mode="predictive")
    assert wrong_mode.status_code == 422
    ok = await _campaign(client, supervisor, list_id, kind="operator", message_template="")
    assert ok.json()["mode"] == "predictive"


async def test_do_not_call_list(client: httpx.AsyncClient, supervisor: dict[str, str]) -> None:
    added = await client.post(
        "/api/v1/do-not-call",
        headers=supervisor,
        json={"phone": "8 (916) 123-45-67", "reason": "просил не звонить"},
    )
    assert added.json() == {"phone": "+79161234567"}
    bad = await client.post("/api/v1/do-not-call", headers=supervisor, json={"phone": "abc"})
    assert bad.status_code == 422
    listed = await client.get("/api/v1/do-not-call", headers=supervisor)
    assert [(x["phone"], x["reason"]) for x in listed.json()] == [
        ("+79161234567", "просил не звонить")
    ]
    gone = await client.delete("/api/v1/do-not-call/+79161234567", headers=supervisor)
    assert gone.status_code == 204
    missing = await client.delete("/api/v1/do-not-call/+79161234567", headers=supervisor)
    assert missing.status_code == 404


async def test_operators_cannot_manage_campaigns(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("op", role=Role.OPERATOR)
    auth = bearer(await sign_in(client, "op"))
    assert (await client.get("/api/v1/campaigns", headers=auth)).status_code == 403
    reply = await _import(client, auth, b"phone\n+79161234567\n", name="L")
    assert reply.status_code == 403
    # preview mode is theirs, but there is no such campaign being dialled
    assert (await client.post("/api/v1/campaigns/1/preview/next", headers=auth)).status_code == 404


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


async def test_supervisor_websocket_streams_campaign_progress(
    server_url: str, make_user: MakeUser
) -> None:
    await make_user("boss", role=Role.SUPERVISOR)
    await make_user("op", role=Role.OPERATOR)
    async with httpx.AsyncClient(base_url=f"http://{server_url}") as client:
        auth = bearer(await sign_in(client, "boss"))
        operator = await sign_in(client, "op")
        imported = await _import(client, auth, b"phone\n+79161234567\n", name="L")
        created = await _campaign(
            client, auth, imported.json()["list_id"], message_template="Проверка связи."
        )
        cid = created.json()["id"]
        await client.post(f"/api/v1/campaigns/{cid}/start", headers=auth)
        token = auth["Authorization"].removeprefix("Bearer ")
    async with connect(f"ws://{server_url}/api/v1/campaigns/live?token={token}") as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["type"] == "campaigns"
    [campaign] = message["campaigns"]
    assert (campaign["campaign_id"], campaign["status"]) == (cid, "scheduled")
    assert campaign["contacts"]["untouched"] == 1
    for token in (operator, "not-a-token"):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://{server_url}/api/v1/campaigns/live?token={token}"):
                pass
        assert refused.value.response.status_code == 403
