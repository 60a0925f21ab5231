"""Composition root: builds every component from Settings. Nothing is built at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.config import Settings
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.ports import NoPbxLink, PbxLink

log = logging.getLogger(__name__)


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    pbx: PbxLink
    started: bool = field(default=False, init=False)

    async def start(self) -> None:
        await self.pbx.start()
        status = self.pbx.status()
        log.info("PBX link: %s %s %s", status.state, status.target, status.detail)
        self.started = True

    async def stop(self) -> None:
        self.started = False
        await self.pbx.stop()
        await self.engine.dispose()


def build_pbx_link(settings: Settings) -> PbxLink:
    if settings.uses_simulator:
        return NoPbxLink(
            "no PBX is linked: CALLCENTER_AMI_HOST is empty and the built-in simulator "
            "is not available yet"
        )
    return NoPbxLink(
        f"no PBX is linked: the AMI adapter for {settings.ami_host}:{settings.ami_port} "
        "is not available yet"
    )


def build_platform(settings: Settings) -> Platform:
    engine = create_engine(settings.database_url)
    return Platform(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        pbx=build_pbx_link(settings),
    )
