"""The reports API as a supervisor uses it: the summary, a report built, saved, run and
exported (CSV and XLSX holding the same numbers), the PNG chart; an operator is refused."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from callcenter.domain.roles import Role
from tests.support.api import MakeUser, bearer, sign_in
from tests.support.report_data import Sessions, seed

PERIOD = {"from": "2026-11-23T00:00:00+03:00", "to": "2026-11-24T00:00:00+03:00"}


async def supervisor(client: httpx.AsyncClient, make_user: MakeUser) -> dict[str, str]:
    await make_user("chief", role=Role.SUPERVISOR)
    return bearer(await sign_in(client, "chief"))


def csv_table(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    blank = lines.index([])
    keys = lines[blank + 2]
    return [dict(zip(keys, row, strict=True)) for row in lines[blank + 3 :]]


def xlsx_table(content: bytes) -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    keys = [str(k) for k in rows[4]]
    return [dict(zip(keys, row, strict=True)) for row in rows[5:]]


def same(a: str, b: Any) -> bool:
    if b is None:
        return a == ""
    if isinstance(b, int | float):
        return float(a) == pytest.approx(float(b))
    return a == str(b)


async def test_summary_by_line_for_a_supervisor(
    client: httpx.AsyncClient, make_user: MakeUser, session_factory: Sessions
) -> None:
    await seed(session_factory)
    headers = await supervisor(client, make_user)
    reply = await client.get(
        "/api/v1/reports/summary", params={**PERIOD, "group_by": "line"}, headers=headers
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    line1 = next(r for r in body["rows"] if r["line"] == 1)
    assert (line1["offered"], line1["answered"], line1["abandoned"]) == (3, 2, 1)
    assert line1["service_level"] == pytest.approx(1 / 3, abs=1e-4)
    assert any("Уровень обслуживания" in d for d in body["definitions"])
    assert body["timezone"] == "Europe/Moscow"

    bad = await client.get(
        "/api/v1/reports/summary", params={**PERIOD, "group_by": "caller"}, headers=headers
    )
    assert bad.status_code == 422
    odd = await client.get(
        "/api/v1/reports/summary", params={**PERIOD, "sla_seconds": 41}, headers=headers
    )
    assert odd.status_code == 422


async def test_build_save_run_and_export_a_report(
    client: httpx.AsyncClient, make_user: MakeUser, session_factory: Sessions
) -> None:
    await seed(session_factory)
    headers = await supervisor(client, make_user)
    definition = {
        "metrics": ["offered", "answered", "abandoned", "service_level", "asa_seconds"],
        "group_by": ["interval", "queue"],
        "interval": "1h",
        "filters": {"direction": "inbound"},
        "period": "custom",
        "start": PERIOD["from"],
        "end": PERIOD["to"],
    }
    saved = await client.post(
        "/api/v1/reports/saved",
        json={"name": "Очереди по часам", "definition": definition},
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    report_id = saved.json()["id"]
    listed = (await client.get("/api/v1/reports/saved", headers=headers)).json()
    assert [r["name"] for r in listed] == ["Очереди по часам"]

    run = await client.get(f"/api/v1/reports/saved/{report_id}/run", headers=headers)
    assert run.status_code == 200, run.text
    rows = run.json()["rows"]
    eight = next(
        r for r in rows if r["interval"].startswith("2026-11-23T08:00") and r["queue"] == "line1"
    )
    assert (eight["offered"], eight["answered"], eight["abandoned"]) == (3, 2, 1)
    assert eight["asa_seconds"] == 30.0
    assert set(rows[0]) == {"interval", "queue", *definition["metrics"]}

    files = {}
    for fmt in ("csv", "xlsx"):
        reply = await client.get(
            f"/api/v1/reports/saved/{report_id}/run", params={"format": fmt}, headers=headers
        )
        assert reply.status_code == 200
        assert "attachment" in reply.headers["content-disposition"]
        files[fmt] = reply.content
    from_csv, from_xlsx = csv_table(files["csv"]), xlsx_table(files["xlsx"])
    assert len(from_csv) == len(from_xlsx) == len(rows)
    for a, b, c in zip(from_csv, from_xlsx, rows, strict=True):
        for key, value in c.items():
            assert same(a[key], value), (key, a[key], value)
            assert same(a[key], b[key]), (key, a[key], b[key])
    assert "Период" in files["csv"].decode("utf-8-sig")
    book = load_workbook(io.BytesIO(files["xlsx"]))
    notes = [row[0] for row in book["Определения"].iter_rows(values_only=True)]
    assert any(str(n).startswith("Уровень обслуживания") for n in notes)

    refused = await client.post(
        "/api/v1/reports/saved",
        json={"name": "SQL", "definition": {"metrics": ["offered; DROP TABLE calls"]}},
        headers=headers,
    )
    assert refused.status_code == 422
    gone = await client.delete(f"/api/v1/reports/saved/{report_id}", headers=headers)
    assert gone.status_code == 204
    assert (await client.get("/api/v1/reports/saved", headers=headers)).json() == []


async def test_run_a_definition_without_saving_it(
    client: httpx.AsyncClient, make_user: MakeUser, session_factory: Sessions
) -> None:
    await seed(session_factory)
    headers = await supervisor(client, make_user)
    definition = {
        "metrics": ["offered", "answered", "abandoned"],
        "group_by": ["line"],
        "period": "custom",
        "start": PERIOD["from"],
        "end": PERIOD["to"],
    }
    run = await client.post("/api/v1/reports/run", json={"definition": definition}, headers=headers)
    assert run.status_code == 200, run.text
    line1 = next(r for r in run.json()["rows"] if r["line"] == 1)
    assert (line1["offered"], line1["answered"], line1["abandoned"]) == (3, 2, 1)
    as_csv = await client.post(
        "/api/v1/reports/run", params={"format": "csv"}, json={"definition": definition},
        headers=headers,
    )  # fmt: skip
    assert as_csv.status_code == 200
    assert "attachment" in as_csv.headers["content-disposition"]
    from_csv = next(r for r in csv_table(as_csv.content) if r["line"] == "1")
    assert (from_csv["offered"], from_csv["answered"], from_csv["abandoned"]) == ("3", "2", "1")
    bad = await client.post(
        "/api/v1/reports/run", json={"definition": {"group_by": ["caller"]}}, headers=headers
    )
    assert bad.status_code == 422
    assert (await client.get("/api/v1/reports/saved", headers=headers)).json() == []


async def test_standard_report_and_chart(
    client: httpx.AsyncClient, make_user: MakeUser, session_factory: Sessions
) -> None:
    await seed(session_factory)
    headers = await supervisor(client, make_user)
    nodes = await client.get("/api/v1/reports/standard/ivr_nodes", params=PERIOD, headers=headers)
    assert nodes.status_code == 200
    assert {r["node"] for r in nodes.json()["rows"]} == {"1", "2", "3"}
    chart = await client.get(
        "/api/v1/reports/charts/intervals.png",
        params={**PERIOD, "interval": "15m"},
        headers=headers,
    )
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(chart.content) > 10_000


async def test_an_operator_cannot_read_or_build_reports(
    client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await make_user("op", role=Role.OPERATOR)
    headers = bearer(await sign_in(client, "op"))
    for reply in (
        await client.get("/api/v1/reports/summary", params=PERIOD, headers=headers),
        await client.get("/api/v1/reports/saved", headers=headers),
        await client.post(
            "/api/v1/reports/saved", json={"name": "x", "definition": {}}, headers=headers
        ),
        await client.get("/api/v1/reports/charts/intervals.png", params=PERIOD, headers=headers),
        await client.post("/api/v1/reports/run", json={"definition": {}}, headers=headers),
    ):
        assert reply.status_code == 403
