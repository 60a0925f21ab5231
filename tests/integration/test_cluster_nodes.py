"""Issue 15: two telephony nodes (each with its own Asterisk: a simulator process) and two
API nodes, all separate processes on one PostgreSQL.

* The supervisor view of either API node covers both sites: both nodes, the operators
  signed in at each site.
* An operator signs in through any API node; the telephony node does it on its Asterisk.
* The emergency switch set on one API node reaches every telephony node.
* A campaign is dialled by exactly one node (the advisory lock); when that node is killed
  with SIGKILL, the other takes the campaign over.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from contextlib import AsyncExitStack
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from callcenter.db.campaign_locks import PostgresAdvisoryLocks
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.models import Campaign, Contact, ContactList
from callcenter.domain.campaigns import CampaignKind, CampaignStatus
from tests.support.cluster import cluster_env, start_api, start_site
from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env
from tests.support.roles import (
    UVICORN_PORT,
    Running,
    free_port,
    running,
    token,
    until,
)

# these tests start real processes (roles, simulators) and wait for them
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


async def add_campaign(url: str) -> int:
    """A running auto-informing campaign whose callees may only be called at 03:00-03:01
    local time: its dialer holds the campaign and waits (no call is placed)."""
    engine = create_engine(url)
    factory = create_session_factory(engine)
    async with factory.begin() as session:
        contacts = ContactList(name="cluster test")
        session.add(contacts)
        await session.flush()
        session.add(Contact(list_id=contacts.id, phone="+79161234567", timezone="Asia/Kamchatka"))
        campaign = Campaign(
            name="cluster takeover",
            kind=CampaignKind.AUTO_INFORM,
            status=CampaignStatus.RUNNING,
            contact_list_id=contacts.id,
            starts_at=datetime.now(UTC) - timedelta(minutes=1),
            window_start=time(3, 0),
            window_end=time(3, 1),
            message_template="Плановое отключение завтра.",
        )
        session.add(campaign)
        await session.flush()
        campaign_id = campaign.id
    await engine.dispose()
    return campaign_id


async def campaign_holder(url: str, campaign_id: int) -> str | None:
    """The application name of the connection holding the campaign's advisory lock."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            name = await conn.scalar(
                text(
                    "SELECT a.application_name FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.classid = :ns AND l.objid = :id"
                ),
                {"ns": PostgresAdvisoryLocks.NAMESPACE, "id": campaign_id},
            )
    finally:
        await engine.dispose()
    return str(name) if name else None


async def test_two_telephony_nodes_and_two_api_nodes_share_one_postgres(
    cluster_db: str, tmp_path: Path
) -> None:
    campaign_id = await add_campaign(cluster_db)
    base = cluster_env(cluster_db, tmp_path)
    sites = {"main": "site-main.yaml", "branch": "site-branch.yaml"}
    async with AsyncExitStack() as stack:
        nodes: dict[str, Running] = {}
        for site, scenario in sites.items():
            nodes[site] = await start_site(stack, base, tmp_path, site, scenario)
        apis = [await start_api(stack, base, tmp_path) for _ in range(2)]
        first = await stack.enter_async_context(httpx.AsyncClient(base_url=apis[0].base_url))
        second = await stack.enter_async_context(httpx.AsyncClient(base_url=apis[1].base_url))
        supervisor = {"Authorization": f"Bearer {await token(second, 'supervisor', 'supervisor')}"}

        # the supervisor view on either API node covers both sites
        async def both_sites() -> dict[str, Any] | None:
            view = (await second.get("/api/v1/queues", headers=supervisor)).json()
            connected = {n["site"] for n in view.get("nodes") or [] if n["pbx_connected"]}
            signed_in = {o["extension"] for o in view["operators"] if o["state"] != "logged_out"}
            if connected == {"main", "branch"} and {"101", "106"} <= signed_in:
                return view
            seen.append((connected, signed_in))
            return None

        seen: list[Any] = []
        try:
            view = await until(both_sites, within=60, what="both sites in the supervisor view")
        except AssertionError:
            print(seen[-1], nodes["main"].output()[-3000:], apis[1].output()[-2000:])
            raise
        assert {q["name"] for q in view["queues"]} >= {"line1", "line2"}

        # an operator signs in on the other API node; every API node then shows it
        operator = {"Authorization": f"Bearer {await token(first, 'operator104', 'operator')}"}
        signed_in = await first.post("/api/v1/me/login", headers=operator)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["state"] == "ready"

        async def seen_on_second() -> bool:
            view = (await second.get("/api/v1/queues", headers=supervisor)).json()
            return any(o["extension"] == "104" and o["state"] == "ready" for o in view["operators"])

        await until(seen_on_second, within=30, what="operator 104 ready on the second API node")
        mine = await second.get("/api/v1/me/state", headers=operator)
        assert mine.json()["state"] == "ready"

        # the emergency switch reaches the telephony nodes (and both API nodes)
        switched = await second.post(
            "/api/v1/emergency",
            headers=supervisor,
            json={"active": True, "announcement": "Авария на подстанции"},
        )
        assert switched.status_code == 200, switched.text

        async def emergency_everywhere() -> bool:
            view = (await first.get("/api/v1/queues", headers=supervisor)).json()
            state = (await first.get("/api/v1/emergency", headers=supervisor)).json()
            return bool(state["active"]) and all(
                q["wait_target_seconds"] == 180 for q in view["queues"]
            )

        await until(emergency_everywhere, within=30, what="emergency mode on every node")

        # the campaign is dialled by one node; kill it and the other takes the campaign over
        holder = await until(
            lambda: campaign_holder(cluster_db, campaign_id), within=30, what="a dialling node"
        )
        dying = "main" if holder.endswith("tel-main") else "branch"
        survivor = "branch" if dying == "main" else "main"
        assert holder == f"callcenter telephony tel-{dying}"
        nodes[dying].kill()
        await nodes[dying].process.wait()
        killed_at = asyncio.get_running_loop().time()

        async def taken_over() -> str | None:
            name = await campaign_holder(cluster_db, campaign_id)
            return name if name == f"callcenter telephony tel-{survivor}" else None

        await until(taken_over, within=60, what="the campaign taken over by the other node")
        took = asyncio.get_running_loop().time() - killed_at
        print(f"campaign taken over {took:.1f} s after the kill")

        # the dead site drops out of the supervisor view; the living one stays
        async def only_survivor() -> bool:
            view = (await second.get("/api/v1/queues", headers=supervisor)).json()
            return {n["site"] for n in view.get("nodes") or []} == {survivor}

        await until(only_survivor, within=40, what="the killed node leaves the view")


ROLE_STARTED = re.compile(rb"started the (\w+) role \(pid (\d+)\)")


async def test_serve_on_postgres_supervises_the_roles_and_restarts_a_dead_one(
    cluster_db: str, tmp_path: Path
) -> None:
    env = clean_env(
        CALLCENTER_DATABASE_URL=cluster_db,
        CALLCENTER_RECORDINGS_DIR=str(tmp_path / "recordings"),
        CALLCENTER_PROMPTS_CACHE_DIR=str(REPO_ROOT / "var" / "prompts"),
        CALLCENTER_FLOWS_DIR=str(REPO_ROOT / "ivr_flows"),
        CALLCENTER_FLOWS_WATCH="false",
        CALLCENTER_DEMO_TRAFFIC="false",
        CALLCENTER_AGI_PORT=str(free_port()),
        CALLCENTER_AMI_PORT=str(free_port()),
        CALLCENTER_HTTP_PORT="0",
        CALLCENTER_METRICS_PORT=str(node_port := free_port()),
        CALLCENTER_LOG_LEVEL="INFO",
    )
    async with running(["serve"], cwd=tmp_path, env=env, ready=UVICORN_PORT) as served:
        children = {
            m.group(1).decode(): int(m.group(2))
            for m in (ROLE_STARTED.search(line) for line in served.log)
            if m is not None
        }
        assert set(children) == {"telephony", "api"}
        assert served.process.pid not in children.values()  # separate processes
        # the API role made way for telephony (CALLCENTER_API_NICE, default 5)
        base = os.getpriority(os.PRIO_PROCESS, children["telephony"])
        assert os.getpriority(os.PRIO_PROCESS, children["api"]) == min(base + 5, 19)
        async with httpx.AsyncClient(base_url=served.base_url) as client:

            async def pbx_connected() -> bool:
                health = (await client.get("/health")).json()
                return bool(health["pbx"]["state"] == "connected")

            # the API process sees the telephony process's PBX link through PostgreSQL
            await until(pbx_connected, within=60, what="the telephony role's PBX link")
            # each role answers its own probes; the telephony role on its own port
            api_ready = await client.get("/health/ready")
            assert api_ready.status_code == 200, api_ready.text
            assert set(api_ready.json()["checks"]) == {"database"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node_port}") as node:

                async def node_ready() -> bool:
                    return (await node.get("/health/ready")).status_code == 200

                await until(node_ready, within=30, what="the telephony role ready")
                checks = (await node.get("/health/ready")).json()["checks"]
                assert set(checks) == {"database", "pbx", "fastagi", "ivr", "journal"}
                assert "callcenter_ami_connected 1.0" in (await node.get("/metrics")).text
            os.kill(children["telephony"], signal.SIGKILL)

            def restarted() -> int | None:
                for line in served.log:
                    found = ROLE_STARTED.search(line)
                    if found and found.group(1) == b"telephony":
                        pid = int(found.group(2))
                        if pid != children["telephony"]:
                            return pid
                return None

            async def telephony_back() -> int | None:
                return restarted()

            await until(telephony_back, within=60, what="the telephony role restarted")
            await until(pbx_connected, within=60, what="the PBX link back after the restart")
