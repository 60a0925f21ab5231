"""Done when: a predictive campaign completes end to end through `DialerService`, with its
abandoned attempts in its report.

The whole platform as `callcenter serve` builds it, against the built-in PBX simulator: the
supervisor creates and starts an operator campaign in predictive mode over the HTTP API; the
dialer paces on the operators the ACD follows (simulated PJSIP phones 101-103 in line 1),
originates over AMI, the simulator's dialplan runs AMD() and the "dialer" FastAGI script, and
live answers go to the line-1 queue where a simulated operator answers. The list holds live
people, answering machines, a busy number and one that never answers.

The first round of calls is placed for the three operators ready; one of them goes on a
break while those calls ring, so a person finds nobody within the grace period: abandoned
(they hear the apology), stored with its own result, counted in the report and its abandon
rate. The others are put through as operators free up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform, build_platform
from callcenter.config import load_settings
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import User
from callcenter.db.repositories import campaigns as campaigns_repo
from callcenter.db.seed import seed_demo
from callcenter.domain.roles import Role
from callcenter.outbound.dialer import InMemoryOperatorPool
from callcenter.passwords import hash_password
from callcenter.sim.link import SimulatorLink
from callcenter.sim.parties import CalledParty, Operator, Outcome
from callcenter.sim.simulator import Simulator
from tests.support.paths import REPO_ROOT

TIME_SCALE = 0.5  # 2 simulated seconds per real second: room for an operator to step away
OPERATORS = ("101", "102", "103")  # the demo data's line-1 operators
PEOPLE = [f"+7916222000{i}" for i in range(1, 8)]  # seven people who answer
OTHERS = {
    "+79162220101": Outcome.MACHINE,
    "+79162220102": Outcome.MACHINE,
    "+79162220103": Outcome.BUSY,
    "+79162220104": Outcome.NOANSWER,
}


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[tuple[Platform, Simulator, httpx.AsyncClient]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    settings = load_settings(
        database_url=url,
        recordings_dir=tmp_path / "recordings",
        flows_dir=REPO_ROOT / "ivr_flows",
        prompts_cache_dir=REPO_ROOT / "var" / "prompts",
        agi_port=0,
        demo_traffic=False,
        flows_watch=False,
    )
    platform = build_platform(settings, simulator_time_scale=TIME_SCALE)
    await seed_demo(platform.session_factory, now=datetime.now(UTC), if_empty=True)
    async with platform.session_factory.begin() as session:
        session.add(
            User(
                username="chief",
                password_hash=hash_password("pw"),
                role=Role.SUPERVISOR,
                full_name="Chief",
            )
        )
    await platform.start()
    assert isinstance(platform.pbx, SimulatorLink)
    sim = platform.pbx.simulator
    assert sim is not None
    await platform.pbx.client.wait_connected(10)
    app = create_app(platform, manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        token = await http.post("/api/v1/auth/token", data={"username": "chief", "password": "pw"})
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        try:
            yield platform, sim, http
        finally:
            await platform.stop()


async def _operators_ready(platform: Platform, count: int) -> None:
    assert platform.dialer is not None
    assert platform.acd is not None
    pool = platform.dialer.pool
    assert isinstance(pool, InMemoryOperatorPool)
    seen = -1
    async with asyncio.timeout(20):
        while pool.load("line1", datetime.now(UTC)).ready < count:
            seen = await platform.acd.feed.wait(seen, 0.2)


@contextlib.asynccontextmanager
async def _operators_at_work(http: httpx.AsyncClient) -> AsyncIterator[None]:
    """The operators end their after-call work as soon as it starts (POST /me/ready), as a
    busy outbound team does; the ACD's automatic wrap-up is minutes long."""
    tokens = {}
    for extension in OPERATORS[:2]:
        signed = await http.post(
            "/api/v1/auth/token",
            data={"username": f"operator{extension}", "password": "operator"},
        )
        tokens[extension] = {"Authorization": f"Bearer {signed.json()['access_token']}"}

    async def work() -> None:
        while True:
            for headers in tokens.values():
                state = (await http.get("/api/v1/me/state", headers=headers)).json()
                if state["state"] == "wrap_up":
                    await http.post("/api/v1/me/ready", headers=headers)
            await asyncio.sleep(0.1)

    task = asyncio.create_task(work())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _campaign_finished(http: httpx.AsyncClient, campaign_id: int) -> dict[str, Any]:
    """Poll the progress a supervisor sees until the campaign is finished."""
    async with asyncio.timeout(180):
        while True:
            progress = (await http.get(f"/api/v1/campaigns/{campaign_id}/progress")).json()
            if progress["status"] == "finished":
                return dict(progress)
            await asyncio.sleep(0.1)


async def test_a_predictive_campaign_runs_to_the_end_and_reports_its_abandoned_calls(
    platform: tuple[Platform, Simulator, httpx.AsyncClient],
) -> None:
    plat, sim, http = platform
    # each person talks 10 simulated seconds (5 s here): an operator who took one is busy
    # longer than the 2 s a second person may wait
    for e164 in PEOPLE:
        sim.set_called_party("8" + e164[2:], CalledParty(Outcome.HUMAN, talk_time=10.0))
    for e164, outcome in OTHERS.items():
        sim.set_called_party("8" + e164[2:], CalledParty(outcome, talk_time=10.0))
    for extension in OPERATORS:
        sim.add_operator(
            Operator(extension, technology="PJSIP", answer_after=0.5, talk_time=60.0),
            queues=["line1"],
        )
    await _operators_ready(plat, len(OPERATORS))

    async with plat.session_factory.begin() as session:
        contact_list = await campaigns_repo.create_list(session, "Обзвон, декабрь")
        await campaigns_repo.add_contacts(
            session,
            contact_list.id,
            [
                campaigns_repo.NewContact(phone=e164, name=f"абонент {i}", timezone="UTC")
                for i, e164 in enumerate([*PEOPLE, *OTHERS])
            ],
        )
    now = datetime.now(UTC)
    created = await http.post(
        "/api/v1/campaigns",
        json={
            "name": "Предиктивный обзвон",
            "kind": "operator",
            "mode": "predictive",
            "contact_list_id": contact_list.id,
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "window_start": "00:00",
            "window_end": "23:59:59",
            "max_attempts": 1,
        },
    )
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert (campaign["mode"], campaign["target_abandon_pct"]) == ("predictive", 2.5)
    started = await http.post(f"/api/v1/campaigns/{campaign['id']}/start")
    assert started.status_code == 200, started.text
    assert plat.dialer is not None
    plat.dialer.wake()

    # while it runs, the supervisor sees the predictive dialer's live figures
    async with asyncio.timeout(30):
        while True:
            progress = (await http.get(f"/api/v1/campaigns/{campaign['id']}/progress")).json()
            live = progress["live"]
            if live is not None and live["placed"] > 0:
                break
            await asyncio.sleep(0.05)
    assert live["last_reason"] in {"predicted", "abandon_limit", "no_capacity"}
    # operator 103 steps away while the first calls ring
    signed = await http.post(
        "/api/v1/auth/token", data={"username": "operator103", "password": "operator"}
    )
    away = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    paused = await http.post("/api/v1/me/pause", json={"reason": "break"}, headers=away)
    assert paused.status_code == 200, paused.text

    async with _operators_at_work(http):
        await _campaign_finished(http, campaign["id"])

    report = (await http.get(f"/api/v1/campaigns/{campaign['id']}/report")).json()
    results = report["results"]
    abandoned = results.get("abandoned", 0)
    connected = results.get("connected", 0)
    # every person was either put through or abandoned; the others by what happened
    assert connected + abandoned + results.get("hung_up", 0) == len(PEOPLE)
    assert connected >= len(OPERATORS)
    assert abandoned >= 1
    assert report["negative"]["abandoned"] == abandoned
    assert report["positive"] == connected
    assert report["negative"]["machine"] == 2
    assert report["negative"]["busy"] == 1
    assert report["negative"]["no_answer"] == 1
    assert report["abandon_rate"] == pytest.approx(
        abandoned / (connected + abandoned + results.get("hung_up", 0))
    )
    assert report["progress"]["contacts"]["remaining"] == 0

    # each abandoned attempt is in the attempt list with its own result: a live answer
    # (AMD said HUMAN) that was negative
    attempts = (await http.get(f"/api/v1/campaigns/{campaign['id']}/attempts")).json()
    dropped = [a for a in attempts if a["result"] == "abandoned"]
    assert len(dropped) == abandoned
    assert all(
        (a["outcome"], a["reason_code"], a["amd_status"]) == ("negative", 4, "HUMAN")
        for a in dropped
    )
