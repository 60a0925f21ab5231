"""The operator workstation and the supervisor wallboard in a real browser (Chromium)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import expect

from callcenter.db.seed import DEMO_CUSTOMER_PHONE
from callcenter.sim.callers import CallerScript
from tests.browser.conftest import Site, screenshot
from tests.e2e.test_platform_calls import operator

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def watch(site: Site, wanted: Callable[[dict[str, str]], bool]) -> asyncio.Event:
    """An event set when the simulator sends an AMI event that `wanted` accepts."""
    seen = asyncio.Event()

    def listener(pairs: list[tuple[str, str]]) -> None:
        if wanted(dict(pairs)):
            seen.set()

    site.rig.sim.pbx.listeners.append(listener)
    return seen


async def call_record(site: Site, call_id: str, probe: Callable[[dict[str, Any]], bool]) -> None:
    rig = site.rig
    assert rig.platform.calls is not None
    async with asyncio.timeout(30):
        while True:
            await rig.platform.calls.flush()
            detail = (await rig.http.get(f"/api/v1/calls/{call_id}", headers=rig.headers)).json()
            if probe(detail):
                return
            await asyncio.sleep(0.1)


async def test_operator_shift_in_the_browser(site: Site) -> None:
    # operator 101's phone answers after 2 s and stays on the line
    site.rig.sim.add_operator(operator("101", answer_after=2.0, talk_time=3600.0))
    context, page = await site.sign_in("operator101", "operator")
    await expect(page).to_have_url(re.compile(r"/operator$"))
    state = page.locator("#state")

    # log in to the queues, then "ready" with the keyboard shortcut
    await page.click("#btn-login")
    await expect(state).not_to_have_attribute("data-state", "logged_out")
    await page.keyboard.press("Alt+KeyR")
    await expect(state).to_have_attribute("data-state", "ready")
    await expect(page.locator("body")).to_have_attribute("data-pop-ready", "true")

    # a known customer rings from a pulse phone: the call pops with the customer card
    await site.rig.sim.place_inbound_call(CallerScript(number=DEMO_CUSTOMER_PHONE, pulse=True))
    await expect(page.locator("#pop-number")).to_have_text(DEMO_CUSTOMER_PHONE, timeout=30_000)
    await expect(page.locator("#customer-card .account")).not_to_be_empty()
    await expect(page.locator("#pop-queue")).to_have_text("line1")
    await expect(state).to_have_attribute("data-state", "on_call", timeout=30_000)
    row = page.locator("#live-calls tbody tr")
    await expect(row).to_have_count(1)
    linkedid = await row.get_attribute("data-linkedid")
    assert linkedid

    # an appeal from the call, with its deadline shown
    await page.keyboard.press("Alt+KeyA")
    await expect(page.locator("#appeal-text")).to_be_focused()
    await page.select_option("#appeal-topic", index=1)
    await page.fill("#appeal-text", "Нет света в доме с утра")
    await page.click("#btn-appeal")
    result = page.locator("#appeal-result")
    await expect(result).to_contain_text("Зарегистрировано обращение №")
    await expect(result).to_contain_text("срок ответа")
    await expect(page.locator("#appeals tbody tr")).to_have_count(1)
    # open it, correct the text, see its history
    await page.click('#appeals tbody button:has-text("Открыть")')
    await page.fill("#appeal-edit-text", "Нет света в доме с 8 утра")
    await page.click("#btn-appeal-edit")
    await expect(page.locator("#toast")).to_contain_text("исправлен")
    await expect(page.locator("#appeal-detail")).to_contain_text("зарегистрировано")
    await screenshot(page, "operator-workstation")

    # the call script for an outage: the answers are saved into the appeal
    await page.click('[data-tab="scripts"]')
    await page.select_option("#script-select", label="Нет электроэнергии")
    await page.click('#script-view button:has-text("Света нет")')
    await page.fill("#script-view input", "с 8 утра")
    await page.click('#script-view button:has-text("Далее")')
    await page.fill("#script-view input", "Тверь, ул. Луговая, 5")
    await page.click('#script-view button:has-text("Далее")')
    await page.click("#btn-script-save")
    await expect(page.locator("#script-saved")).to_contain_text("outage_since = с 8 утра")

    # the call's record, as the API knows it
    live = (
        await site.rig.http.get(
            "/api/v1/me/calls/live",
            headers={"Authorization": f"Bearer {await _token(page)}"},
        )
    ).json()
    (call,) = live
    appeals = (await site.rig.http.get("/api/v1/appeals", headers=site.rig.headers)).json()["items"]
    assert appeals[0]["call_id"] == call["call_id"]
    assert appeals[0]["customer_id"] is not None

    # transfer to line 2: the call record shows it
    await page.select_option("#transfer-kind", "line")
    await page.fill("#transfer-target", "2")
    await page.click("#btn-transfer")
    await expect(page.locator("body")).to_have_attribute("data-last-transfer", "line2")
    await call_record(
        site,
        call["call_id"],
        lambda d: bool(d.get("transfers")) and "line2" in d["transfers"][-1]["to_target"],
    )

    # leave the queues and sign out
    await page.keyboard.press("Alt+KeyQ")
    await expect(state).to_have_attribute("data-state", "logged_out")
    await page.click("#signout")
    await expect(page.locator("#login-form")).to_be_visible()
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def _token(page: Any) -> str:
    token = await page.locator('meta[name="cc-token"]').get_attribute("content")
    assert token
    return str(token)


async def test_the_wallboard_shows_a_waiting_caller_live(site: Site) -> None:
    # an operator of line 1 whose phone rings and rings: the caller waits in the queue
    site.rig.sim.add_operator(operator("101", answer_after=3600.0), queues=["line1"])
    context, page = await site.sign_in("supervisor", "supervisor")
    await expect(page).to_have_url(re.compile(r"/supervisor$"))
    await expect(page.locator("#live")).to_have_text("есть")
    await expect(page.locator("#kpi-waiting")).to_have_text("0")
    # the charts are drawn (Chart.js from npm, today's 15-minute intervals)
    await page.wait_for_function(
        "() => window.CCWallboard.charts.intervals"
        " && window.CCWallboard.charts.intervals.data.labels.length > 0"
        " && window.CCWallboard.charts.waiting.data.labels.length > 0"
    )

    joined = watch(site, lambda e: e.get("Event") == "QueueCallerJoin")
    await site.rig.sim.place_inbound_call(CallerScript(number="+79161230000", pulse=True))
    async with asyncio.timeout(30):
        await joined.wait()
    # the wallboard shows the caller within 2 s of joining the queue
    await expect(page.locator("#kpi-waiting")).to_have_text("1", timeout=2_000)
    queue_row = page.locator('#queues tr[data-queue="line1"]')
    await expect(queue_row.locator("td.waiting")).to_have_text("1", timeout=2_000)
    await expect(page.locator('#operators tr[data-operator="101"]')).to_contain_text(
        "входящий вызов"
    )
    summary = page.locator('#operator-summary tr[data-line="1"] td[data-state="ringing"]')
    await expect(summary).to_have_text("1")
    await page.wait_for_function(
        "() => window.CCWallboard.charts.waiting.data.datasets[0].data.includes(1)"
    )
    await screenshot(page, "supervisor-wallboard")
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def test_a_supervisor_whispers_to_an_operator(site: Site) -> None:
    site.rig.sim.add_operator(operator("101", answer_after=1.0, talk_time=3600.0), queues=["line1"])
    context, page = await site.sign_in("supervisor", "supervisor")
    await expect(page.locator("#live")).to_have_text("есть")
    await site.rig.sim.place_inbound_call(CallerScript(number="+79161230000", pulse=True))
    row = page.locator('#operators tr[data-operator="101"]')
    await expect(row).to_contain_text("разговор", timeout=30_000)

    whisper_app = watch(
        site,
        lambda e: (
            e.get("Event") == "Newexten"
            and e.get("Application") == "ChanSpy"
            and e.get("AppData") == "PJSIP/101-,qwE"
        ),
    )
    spying = watch(
        site,
        lambda e: (
            e.get("Event") == "ChanSpyStart"
            and e.get("SpyeeChannel", "").startswith("PJSIP/101-")
            and e.get("SpyerChannel", "").startswith("PJSIP/150-")
        ),
    )
    await page.fill("#spy-phone", "150")
    await row.locator('button[data-spy="whisper"]').click()
    await expect(page.locator("#toast")).to_contain_text("Суфлирование")
    async with asyncio.timeout(30):
        await whisper_app.wait()
        await spying.wait()
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()


async def test_an_operator_cannot_open_the_wallboard(site: Site) -> None:
    context, page = await site.sign_in("operator101", "operator")
    await expect(page).to_have_url(re.compile(r"/operator$"))
    await expect(page.locator('a[href="/supervisor"]')).to_have_count(0)
    response = await page.goto("/supervisor")
    assert response is not None
    assert response.status == 403
    await expect(page.locator("[role=alert]")).to_contain_text("только руководителям")
    await expect(page.locator("#queues")).to_have_count(0)
    await context.close()


async def test_the_api_docs_render_without_the_internet(site: Site) -> None:
    context, page = await site.page()
    outside: list[str] = []

    async def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(site.base_url) or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await context.route("**/*", only_local)
    await page.goto("/docs")
    await expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Callcenter")
    await page.goto("/redoc")
    await expect(page.locator("h1").first).to_contain_text("Callcenter", timeout=30_000)
    assert outside == []
    await context.close()
