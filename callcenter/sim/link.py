"""The platform's PBX link to the built-in simulator (demo mode, when no Asterisk is set).

It starts the simulator on loopback, points the platform's own AMI client at it (so every
event takes the same path as with a real Asterisk) and, with demo traffic on, runs the
gentle demo scenario in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from callcenter.asterisk.ami import AmiClient
from callcenter.ports.pbx import PbxLinkStatus, PbxState
from callcenter.sim.clock import Clock
from callcenter.sim.scenarios import Scenario, load_scenario
from callcenter.sim.simulator import Simulator

log = logging.getLogger(__name__)


class SimulatorLink:
    def __init__(
        self,
        client: AmiClient,
        *,
        ami_username: str,
        ami_secret: str,
        agi_host: str,
        agi_port: int,
        recordings_dir: Path,
        inbound_number: str,
        demo_scenario: str | None = "demo",
        time_scale: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self._ami_users = {ami_username: ami_secret}
        self._agi_host = agi_host
        self._agi_port = agi_port
        self._recordings_dir = recordings_dir
        self._inbound_number = inbound_number
        self._demo_scenario = demo_scenario
        self._time_scale = time_scale
        self._clock = clock
        self.simulator: Simulator | None = None
        self._demo: asyncio.Task[None] | None = None

    def status(self) -> PbxLinkStatus:
        sim = self.simulator
        target = f"simulator 127.0.0.1:{sim.ami_port}" if sim is not None else "simulator"
        stats = self.client.stats()
        if stats.connected:
            detail = "demo traffic on" if self._demo is not None else "demo traffic off"
            return PbxLinkStatus(PbxState.CONNECTED, target, detail)
        state = PbxState.DISCONNECTED if stats.connections else PbxState.CONNECTING
        return PbxLinkStatus(state, target, stats.last_error or "")

    def set_agi_port(self, port: int) -> None:
        """The FastAGI server's real port (it may have been asked for port 0)."""
        self._agi_port = port

    async def start(self) -> None:
        sim = Simulator(
            ami_host="127.0.0.1",
            ami_port=0,
            agi_host=self._agi_host,
            agi_port=self._agi_port,
            recordings_dir=self._recordings_dir,
            time_scale=self._time_scale,
            clock=self._clock,
            ami_users=self._ami_users,
            inbound_number=self._inbound_number,
        )
        await sim.start()
        self.simulator = sim
        self.client.set_target("127.0.0.1", sim.ami_port)
        await self.client.start()
        log.info("built-in PBX simulator on 127.0.0.1:%s (no CALLCENTER_AMI_HOST)", sim.ami_port)
        if self._demo_scenario:
            scenario = load_scenario(self._demo_scenario)
            self._demo = asyncio.create_task(self._run_demo(sim, scenario), name="demo-traffic")

    async def _run_demo(self, sim: Simulator, scenario: Scenario) -> None:
        try:
            await self.client.wait_connected(30)
            summary = await sim.run_scenario(scenario)
            log.info("demo traffic finished: %s calls", summary.calls)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("demo traffic stopped")

    async def stop(self) -> None:
        if self._demo is not None:
            self._demo.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._demo
            self._demo = None
        await self.client.close()
        if self.simulator is not None:
            await self.simulator.stop()
            self.simulator = None
