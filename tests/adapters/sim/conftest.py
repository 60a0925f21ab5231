"""Fixtures for the simulator's adapter tests: a lab-configured simulator, a scripted
FastAGI server, a raw AMI client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from callcenter.sim.clock import VirtualClock
from callcenter.sim.dialplans import lab_dialplan
from callcenter.sim.simulator import Simulator
from tests.adapters.sim.raw_ami import RawAmi
from tests.adapters.sim.replay import ScriptedAgiServer, agi_commands
from tests.support.eventually import free_running


@pytest.fixture
async def agi_probe(transcripts_dir: Path) -> AsyncIterator[ScriptedAgiServer]:
    """A FastAGI server issuing agi-s1's probe commands to every session."""
    server = ScriptedAgiServer(agi_commands(transcripts_dir / "agi-s1-ivr-session.log"))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def lab_sim(tmp_path: Path, agi_probe: ScriptedAgiServer) -> AsyncIterator[Simulator]:
    """The simulator configured like the lab the transcripts were captured in."""
    sim = Simulator(
        agi_port=agi_probe.port,
        recordings_dir=tmp_path / "recordings",
        clock=(clock := VirtualClock()),
        ami_users={"lab": "labsecret"},
        dialplan=lab_dialplan(f"agi://127.0.0.1:{agi_probe.port}"),
        queue_music_on_hold=False,
    )
    async with sim, free_running(clock):
        yield sim


@pytest.fixture
async def ami(lab_sim: Simulator) -> AsyncIterator[RawAmi]:
    client = await RawAmi.connect(lab_sim.ami_port)
    yield client
    await client.close()
