from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.api.app import create_app
from callcenter.asterisk.agi import AgiServer
from callcenter.bootstrap import Platform
from callcenter.bootstrap.health import health_probe
from callcenter.bootstrap.metrics_http import MetricsServer
from callcenter.calls.records import CallEvents
from callcenter.config import load_settings
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.migrate import head_revision
from callcenter.domain.calls import CallTracker
from callcenter.inbound.flows import FlowLoader, FlowRegistry, default_queues
from callcenter.inbound.ivr import IvrService
from callcenter.inbound.self_service import IvrSelfService
from callcenter.pbx.frames import AmiFrame
from callcenter.ports.pbx import NoPbxLink, PbxLinkStatus, PbxState
from callcenter.speech.tts import PromptRenderer
from tests.unit.ivr.support import MAIN_FLOW_FILE


async def test_health_reports_database_and_unlinked_pbx(client: httpx.AsyncClient) -> None:
    reply = await client.get("/health")
    assert reply.status_code == 200
    body = reply.json()
    assert body["database"]["ok"] is True
    assert body["database"]["revision"] == head_revision()
    assert body["pbx"]["state"] == "not_linked"
    assert body["status"] == "degraded"


async def test_health_is_503_when_the_database_is_unreachable(tmp_path: object) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    engine = create_engine(url)
    factory: async_sessionmaker[AsyncSession] = create_session_factory(engine)
    platform = Platform(
        settings=load_settings(database_url=url),
        engine=engine,
        session_factory=factory,
        pbx=NoPbxLink("test"),
    )
    app = create_app(platform, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        reply = await c.get("/health")
    await engine.dispose()
    assert reply.status_code == 503
    body = reply.json()
    assert body["status"] == "down"
    assert body["database"]["ok"] is False
    assert body["database"]["error"]


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
async def test_openapi_docs_are_served(client: httpx.AsyncClient, path: str) -> None:
    reply = await client.get(path)
    assert reply.status_code == 200


# --- liveness and readiness per role ------------------------------------------------------


class FakeLink:
    """A PBX link whose state the test sets."""

    def __init__(self, state: PbxState, detail: str = "") -> None:
        self.state = state
        self.detail = detail

    def status(self) -> PbxLinkStatus:
        return PbxLinkStatus(self.state, "asterisk 127.0.0.1:5038", self.detail)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


async def test_an_api_node_is_live_and_ready_with_its_database(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    platform.role = "api"

    live = await client.get("/health/live")
    ready = await client.get("/health/ready")

    assert live.status_code == 200
    assert live.json() == {"status": "alive", "role": "api"}
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["reasons"] == []
    assert set(body["checks"]) == {"database"}  # the PBX is the telephony nodes' business


async def test_an_api_node_without_its_database_is_unready_and_says_why() -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    engine = create_engine(url)
    platform = Platform(
        settings=load_settings(database_url=url),
        engine=engine,
        session_factory=create_session_factory(engine),
        pbx=NoPbxLink("test"),
        role="api",
    )
    app = create_app(platform, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        live = await c.get("/health/live")
        ready = await c.get("/health/ready")
    await engine.dispose()

    assert live.status_code == 200  # alive: restarting it would not bring the database back
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "unready"
    assert len(body["reasons"]) == 1
    assert body["reasons"][0].startswith("database: ")


@pytest.fixture
async def telephony(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> AsyncIterator[tuple[Platform, FakeLink, httpx.AsyncClient]]:
    """A telephony node (journal, FastAGI listening, a PBX link the test controls) behind
    its metrics port (a real socket, as `serve --role telephony` runs it), with a 30 s
    journal lag limit."""
    link = FakeLink(PbxState.CONNECTED)
    agi = AgiServer(port=0)
    await agi.start()
    platform = Platform(
        settings=load_settings(database_url=database_url, health_max_journal_lag_seconds=30),
        engine=engine,
        session_factory=session_factory,
        pbx=link,
        calls=CallEvents(session_factory, tracker=CallTracker()),
        agi=agi,
        role="telephony",
    )
    server = MetricsServer(
        platform.metrics_text,
        "127.0.0.1",
        0,
        refresh=platform.refresh_metrics,
        health=partial(health_probe, platform),
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as c:
            yield platform, link, c
    finally:
        await server.stop()
        await agi.stop(grace=0.1)


async def test_a_telephony_node_is_ready_when_every_part_is(
    telephony: tuple[Platform, FakeLink, httpx.AsyncClient],
) -> None:
    _, _, client = telephony

    reply = await client.get("/health/ready")

    assert reply.status_code == 200
    body = reply.json()
    assert body["role"] == "telephony"
    assert body["reasons"] == []
    assert set(body["checks"]) == {"database", "pbx", "fastagi", "journal"}
    assert "callcenter_journal_lag_seconds" in (await client.get("/metrics")).text
    assert (await client.get("/health")).status_code == 200  # the old probe still answers


async def test_a_telephony_node_with_its_ami_link_down_is_unready(
    telephony: tuple[Platform, FakeLink, httpx.AsyncClient],
) -> None:
    _, link, client = telephony
    link.state, link.detail = PbxState.DISCONNECTED, "connection refused"

    reply = await client.get("/health/ready")

    assert reply.status_code == 503
    assert reply.json()["reasons"] == [
        "pbx: AMI link to asterisk 127.0.0.1:5038 is disconnected: connection refused"
    ]


async def test_a_telephony_node_whose_journal_lags_is_unready_until_it_catches_up(
    telephony: tuple[Platform, FakeLink, httpx.AsyncClient],
) -> None:
    platform, _, client = telephony
    assert platform.calls is not None
    # an event received 90 s ago and not yet written (the journal writer is not running)
    frame = AmiFrame.of(
        ("Event", "Newchannel"),
        ("Channel", "PJSIP/trunk-00000001"),
        ("Uniqueid", "1795440000.1"),
        ("Linkedid", "1795440000.1"),
    )
    await platform.calls.on_event(frame, datetime.now(UTC) - timedelta(seconds=90))

    lagging = await client.get("/health/ready")
    assert lagging.status_code == 503
    (reason,) = lagging.json()["reasons"]
    assert reason.startswith("journal: lag 9")
    assert reason.endswith("s (limit 30 s)")

    await platform.calls.flush()
    assert (await client.get("/health/ready")).status_code == 200


async def test_a_telephony_node_whose_fastagi_stopped_listening_is_unready(
    telephony: tuple[Platform, FakeLink, httpx.AsyncClient],
) -> None:
    platform, _, client = telephony
    assert platform.agi is not None
    platform.agi.close()

    reply = await client.get("/health/ready")

    assert reply.status_code == 503
    assert reply.json()["reasons"] == ["fastagi: not listening"]


async def test_a_telephony_node_without_its_default_ivr_flow_is_unready_and_says_why(
    telephony: tuple[Platform, FakeLink, httpx.AsyncClient], tmp_path: Path
) -> None:
    platform, _, client = telephony
    flows_dir = tmp_path / "flows"
    flows_dir.mkdir()
    (flows_dir / "main.yaml").write_text("menu: [unclosed\n", "utf-8")
    loader = FlowLoader(
        PromptRenderer(tmp_path / "prompts", voice="ru", rate=150), known_queues=default_queues()
    )
    flows = FlowRegistry(flows_dir, loader)
    await flows.reload()
    platform.ivr = IvrService(
        flows,
        PromptRenderer(tmp_path / "prompts", voice="ru", rate=150),
        IvrSelfService(
            platform.session_factory, clock=lambda: datetime.now(UTC), recordings_dir=tmp_path
        ),
        clock=lambda: datetime.now(UTC),
    )

    broken = await client.get("/health/ready")

    assert broken.status_code == 503
    (reason,) = broken.json()["reasons"]
    assert reason.startswith("ivr: default flow 'main' is not loaded: ")
    assert "main.yaml" in reason

    shutil.copy(MAIN_FLOW_FILE, flows_dir / "main.yaml")
    await flows.reload()
    fixed = await client.get("/health/ready")
    assert fixed.status_code == 200
    assert fixed.json()["checks"]["ivr"] == {"ok": True, "detail": "flows loaded: main"}
