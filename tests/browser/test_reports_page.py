"""The reports page in a real browser (Chromium): interval charts drawn from the summary API,
a report built, saved, run and exported; an operator is refused."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Page, expect

from callcenter.db.models.calls import Call
from callcenter.domain.calls import Direction, Disposition
from tests.browser.conftest import Site, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# 23.11.2026 in Moscow (UTC+3): 10:00-10:15 local is 07:00-07:15 UTC
DAY_FROM, DAY_TO = "2026-11-23T00:00", "2026-11-24T00:00"


def utc(hh: int, mm: int) -> datetime:
    return datetime(2026, 11, 23, hh, mm, tzinfo=UTC)


async def seed_calls(site: Site) -> None:
    """Two busy quarters on line1: 10:00 local (3 offered, 2 answered within 40 s, 1
    abandoned) and 11:30 local (2 offered, 1 answered after 60 s, 1 answered in 10 s)."""
    calls = [
        (utc(7, 1), Disposition.ANSWERED, 10.0),
        (utc(7, 5), Disposition.ANSWERED, 35.0),
        (utc(7, 9), Disposition.ABANDONED, 20.0),
        (utc(8, 31), Disposition.ANSWERED, 60.0),
        (utc(8, 40), Disposition.ANSWERED, 10.0),
    ]
    async with site.rig.platform.session_factory.begin() as session:
        for n, (started, disposition, wait) in enumerate(calls):
            answered = disposition is Disposition.ANSWERED
            session.add(
                Call(
                    linkedid=f"report-page.{n}",
                    direction=Direction.INBOUND,
                    caller_number="+79160000000",
                    started_at=started,
                    answered_at=started + timedelta(seconds=wait) if answered else None,
                    ended_at=started + timedelta(seconds=wait + 120),
                    ivr_path=["1"],
                    ivr_seconds=5.0,
                    queue_name="line1",
                    wait_seconds=wait,
                    talk_seconds=120.0 if answered else None,
                    disposition=disposition,
                )
            )


async def canvas_ink(page: Page, canvas_id: str) -> int:
    """How many pixels of the canvas are drawn (not transparent)."""
    count: int = await page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            const { width, height } = canvas;
            const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
            let inked = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] > 0) inked += 1;
            return inked;
        }""",
        canvas_id,
    )
    return count


async def test_a_supervisor_sees_interval_charts_and_exports_a_report(site: Site) -> None:
    await seed_calls(site)
    context, page = await site.sign_in("supervisor", "supervisor")
    await page.goto("/reports")
    await expect(page.locator("body")).to_have_attribute("data-reports-ready", "true")
    await expect(page.locator('a[data-nav="reports"]')).to_have_attribute("aria-current", "page")

    # the charts of 23.11 by 15 minutes
    before = await canvas_ink(page, "chart-volume")
    await page.fill("#chart-from", DAY_FROM)
    await page.fill("#chart-to", DAY_TO)
    await page.select_option("#chart-interval", "15m")
    await page.click("#btn-chart")
    await expect(page.locator("body")).to_have_attribute("data-chart-intervals", "96")
    await expect(page.locator("#chart-summary")).to_contain_text("Поступило 5, отвечено 4")
    charts: dict[str, Any] = await page.evaluate(
        """() => {
            const c = window.CCReports.charts;
            return {
                labels: c.volume.data.labels,
                sets: c.volume.data.datasets.map((d) => [d.label, d.data]),
                sl: c.sl.data.datasets[0].data,
            };
        }"""
    )
    at_ten = charts["labels"].index("23.11 10:00")
    at_half_past_eleven = charts["labels"].index("23.11 11:30")
    sets = dict(charts["sets"])
    assert [sets["Поступило"][at_ten], sets["Отвечено"][at_ten], sets["Потеряно"][at_ten]] == [
        3,
        2,
        1,
    ]
    assert sets["Поступило"][at_half_past_eleven] == 2
    assert sum(sets["Поступило"]) == 5
    # service level (40 s): 2 of 3 at 10:00, 1 of 2 at 11:30; no data elsewhere
    assert charts["sl"][at_ten] == pytest.approx(66.7)
    assert charts["sl"][at_half_past_eleven] == 50
    assert charts["sl"][0] is None
    # both canvases drawn, the bars more than the empty axes before
    assert await canvas_ink(page, "chart-volume") > before
    assert await canvas_ink(page, "chart-sl") > 1000

    # build a report: line 1 by hour for the custom period, with the service level
    await page.select_option("#b-period", "custom")
    await page.fill("#b-from", DAY_FROM)
    await page.fill("#b-to", DAY_TO)
    wanted = ("offered", "answered", "abandoned", "service_level")
    for box in await page.locator('input[name="metric"]').all():
        await box.set_checked(await box.get_attribute("value") in wanted)
    await page.check('input[name="group"][value="interval"]')
    await page.select_option("#b-interval", "1h")
    await page.select_option("#f-line", "1")
    await page.click("#btn-build")
    result = page.locator("#result tbody tr")
    await expect(result).to_have_count(2)
    await expect(page.locator("#result thead th")).to_have_text(
        ["Интервал", "Поступило на операторов", "Отвечено", "Потеряно", "Уровень обслуживания"]
    )
    await expect(result.nth(0)).to_contain_text("66,7 %")
    await screenshot(page, "supervisor-reports")

    # save it, run it from the list, export it
    await page.fill("#b-name", "Линия 1 по часам")
    await page.click("#btn-save")
    saved = page.locator('#saved tr[data-report="Линия 1 по часам"]')
    await expect(saved).to_have_count(1)
    await page.reload()
    await expect(saved).to_have_count(1)
    await saved.locator('[data-action="run"]').click()
    await expect(page.locator("#result-title")).to_contain_text("Линия 1 по часам")
    await expect(result).to_have_count(2)

    async with page.expect_download() as waiting:
        await saved.locator('[data-action="csv"]').click()
    download = await waiting.value
    assert download.suggested_filename == "report-summary-2026-11-23.csv"
    path = await download.path()
    text = path.read_bytes().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    keys = lines[lines.index([]) + 2]
    rows = [dict(zip(keys, row, strict=True)) for row in lines[lines.index([]) + 3 :]]
    assert [(r["offered"], r["answered"], r["abandoned"]) for r in rows] == [
        ("3", "2", "1"),
        ("2", "2", "0"),
    ]
    async with page.expect_download() as waiting:
        await saved.locator('[data-action="xlsx"]').click()
    xlsx = await waiting.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    assert (await xlsx.path()).read_bytes().startswith(b"PK")
    # the unsaved builder exports too
    async with page.expect_download() as waiting:
        await page.click("#btn-build-csv")
    assert (await waiting.value).suggested_filename.endswith(".csv")

    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def test_an_operator_cannot_open_the_reports_page(site: Site) -> None:
    context, page = await site.sign_in("operator101", "operator")
    await expect(page).to_have_url(re.compile(r"/operator$"))
    await expect(page.locator('a[href="/reports"]')).to_have_count(0)
    response = await page.goto("/reports")
    assert response is not None
    assert response.status == 403
    await expect(page.locator("[role=alert]")).to_contain_text("только руководителям")
    await expect(page.locator("#chart-volume")).to_have_count(0)
    await expect(page.locator("#builder")).to_have_count(0)
    await context.close()
