from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform
from callcenter.config import load_settings
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.migrate import head_revision
from callcenter.ports.pbx import NoPbxLink


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
