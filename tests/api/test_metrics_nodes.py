"""`/metrics` figures that come from the database: an API node's ACD figures (the live
pictures telephony nodes publish in PostgreSQL) and recordings pending / missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform
from callcenter.cluster.remote import RemoteAcd
from callcenter.config import load_settings
from callcenter.db.models import Recording
from callcenter.db.notify import pg_listen
from callcenter.db.repositories import cluster as cluster_repo
from callcenter.domain.recordings import RecordingState
from callcenter.ports.pbx import NoPbxLink

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def metrics_row(
    line: int | None, offered: int, answered: int, within: int, abandoned: int
) -> dict[str, Any]:
    figures = {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "left": 0,
        "answered_within_target": within,
        "asa_seconds": 10.0,
        "aht_seconds": 60.0,
        "busy_seconds": 0.0,
        "ready_seconds": 0.0,
    }
    return {
        "line": line,
        "today": figures,
        "current_interval": {"start": "2026-12-06T09:00:00Z", "end": "2026-12-06T09:15:00Z",
                             "metrics": figures},
    }  # fmt: skip


def picture(
    node: str, waiting: int, longest: float, operators: list[tuple[int, str]]
) -> dict[str, Any]:
    """A telephony node's published live picture, as `TelephonyNode.publish` writes it."""
    return {
        "node": node,
        "site": "main",
        "pbx_connected": True,
        "queues": [
            {"name": "line1", "support_line": 1, "waiting": waiting,
             "longest_wait_seconds": longest, "callers": [], "callbacks": [], "operators": {}},
        ],
        "operators": [
            {"operator_id": op_id, "state": state, "support_line": 1, "extension": str(100 + op_id)}
            for op_id, state in operators
        ],
        "metrics": [metrics_row(None, 10, 8, 6, 2), metrics_row(1, 10, 8, 6, 2)],
    }  # fmt: skip


@pytest.fixture
async def api_node(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession], database_url: str
) -> AsyncIterator[tuple[RemoteAcd, httpx.AsyncClient]]:
    remote = RemoteAcd(session_factory, listen=pg_listen(database_url))
    platform = Platform(
        settings=load_settings(database_url=database_url),
        engine=engine,
        session_factory=session_factory,
        pbx=NoPbxLink("an API node"),
        acd=remote,
        role="api",
    )
    app = create_app(platform, manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        yield remote, c


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
async def test_an_api_node_exports_the_acd_figures_the_telephony_nodes_publish(
    api_node: tuple[RemoteAcd, httpx.AsyncClient],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    remote, client = api_node
    now = datetime.now(UTC)
    async with session_factory.begin() as session:
        for name, waiting, longest, operators in (
            ("tel-a", 3, 42.0, [(1, "ready"), (2, "talking")]),
            ("tel-b", 2, 65.0, [(3, "talking"), (4, "wrap_up")]),
        ):
            await cluster_repo.heartbeat(
                session, name=name, role="telephony", site="main", pid=1, started_at=now,
                now=now, snapshot=picture(name, waiting, longest, operators),
            )  # fmt: skip
    await remote.refresh(None)

    got = samples((await client.get("/metrics")).text)

    queue = (("line", "1"), ("queue", "line1"))
    assert got[("callcenter_queue_callers_waiting", queue)] == 5  # both nodes' callers
    assert got[("callcenter_queue_longest_wait_seconds", queue)] == 65.0
    assert got[("callcenter_operators", (("line", "1"), ("state", "talking")))] == 2
    assert got[("callcenter_operators", (("line", "1"), ("state", "ready")))] == 1
    assert got[("callcenter_operators", (("line", "1"), ("state", "wrap_up")))] == 1
    assert got[("callcenter_calls_offered_today", (("line", "all"),))] == 20
    assert got[("callcenter_service_level_ratio", (("line", "1"),))] == pytest.approx(0.6)
    assert got[("callcenter_abandon_ratio", (("line", "all"),))] == pytest.approx(0.2)
    assert got[("callcenter_emergency_mode", ())] == 0


async def test_recordings_pending_and_missing_are_counted(
    platform: Platform,
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    now = datetime.now(UTC)
    async with session_factory.begin() as session:
        for n, state in enumerate(
            [RecordingState.RECORDING, RecordingState.MISSING, RecordingState.MISSING,
             RecordingState.COMPLETE]
        ):  # fmt: skip
            session.add(Recording(path=f"2026/12/06/r{n}.wav", state=state, started_at=now))

    got = samples((await client.get("/metrics")).text)

    assert got[("callcenter_recordings_pending", ())] == 1
    assert got[("callcenter_recordings_missing", ())] == 2
