"""Browser tests: Playwright (from PyPI) drives Debian's Chromium against the platform served
by uvicorn in this event loop, with the built-in PBX simulator behind it.

Chromium is `apt-get install chromium` (scripts/system-deps.sh --browser); Playwright never
downloads a browser here. Without Chromium the tests skip, except when CI is set: then they
fail. Screenshots go to CALLCENTER_TEST_SCREENSHOTS (default test-artifacts/browser), named at
the end of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from callcenter.api.app import create_app
from callcenter.api.web.pages import assets_dir
from tests.e2e.test_platform_calls import Rig
from tests.e2e.test_platform_calls import rig as rig  # the fixture
from tests.support.eventually import running
from tests.support.paths import REPO_ROOT

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
SCREENSHOTS = Path(
    os.environ.get("CALLCENTER_TEST_SCREENSHOTS", str(REPO_ROOT / "test-artifacts" / "browser"))
)
_saved: list[Path] = []


def chromium_path() -> str:
    configured = os.environ.get("CALLCENTER_TEST_CHROMIUM")
    for candidate in (configured, *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    reason = "Chromium is not installed (apt-get install chromium, or make system-deps-test)"
    if os.environ.get("CI"):
        pytest.fail(f"the browser tests need Chromium when CI is set: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if assets_dir(Path("node_modules")) is None:
        pytest.fail("the pages' npm packages are missing: run `make install` (npm ci)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Site:
    rig: Rig
    base_url: str
    browser: Browser

    async def page(self) -> tuple[BrowserContext, Page]:
        context = await self.browser.new_context(
            base_url=self.base_url, locale="ru-RU", viewport={"width": 1400, "height": 1000}
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors  # type: ignore[attr-defined]
        return context, page

    async def sign_in(self, username: str, password: str) -> tuple[BrowserContext, Page]:
        context, page = await self.page()
        await page.goto("/")
        await page.fill("#username", username)
        await page.fill("#password", password)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_load_state("domcontentloaded")
        return context, page


async def screenshot(page: Page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"  # Playwright creates the directory
    await page.screenshot(path=str(path), full_page=True)
    _saved.append(path)
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _saved:
        terminalreporter.write_line(f"browser screenshots saved under {SCREENSHOTS.resolve()}:")
        for path in _saved:
            terminalreporter.write_line(f"  {path.name}")


@pytest.fixture
async def site(rig: Rig, browser: Browser) -> AsyncIterator[Site]:
    # a browser waits in real time: the simulator's virtual clock runs by itself here
    async with running(rig.time):
        async for value in _site(rig, browser):
            yield value


async def _site(rig: Rig, browser: Browser) -> AsyncIterator[Site]:
    app = create_app(rig.platform, manage_lifecycle=False)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(20):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Site(rig, f"http://127.0.0.1:{port}", browser)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
