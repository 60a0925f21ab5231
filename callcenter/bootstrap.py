"""Composition root: builds every component from Settings. Nothing is built at import time.

`build_platform` wires the PBX link (a real Asterisk over AMI when CALLCENTER_AMI_HOST is
set, else the built-in simulator), the FastAGI server, the call-record service and the
recording services. `Platform.start`/`stop` run them in order and back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.config import Settings
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.ports import NoPbxLink, PbxLink
from callcenter.services.recording_suite import Recordings, build_recordings

log = logging.getLogger(__name__)


class Component(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Platform:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    pbx: PbxLink
    recordings: Recordings = field(default=None)  # type: ignore[assignment]  # built below
    # started in this order before the PBX link, stopped in reverse after it
    components: list[Component] = field(default_factory=list)
    background: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    started: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.recordings is None:
            self.recordings = build_recordings(self.settings, self.session_factory)

    async def start(self) -> None:
        for component in self.components:
            await component.start()
        await self.pbx.start()
        status = self.pbx.status()
        log.info("PBX link: %s %s %s", status.state, status.target, status.detail)
        self.background.append(
            asyncio.create_task(
                self.recordings.upkeep.run_maintenance(
                    interval_seconds=self.settings.recordings_sweep_interval,
                    stop=asyncio.Event(),  # the task is cancelled on stop
                ),
                name="recording-maintenance",
            )
        )
        self.started = True

    async def stop(self) -> None:
        self.started = False
        for task in self.background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.background.clear()
        await self.pbx.stop()
        for component in reversed(self.components):
            try:
                await component.stop()
            except Exception:
                log.exception("stopping %s failed", type(component).__name__)
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
