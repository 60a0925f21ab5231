"""The composition root: what it builds from Settings agrees with the shipped dialplan."""

from __future__ import annotations

from pathlib import Path

from callcenter.asterisk.link import AmiPbxLink
from callcenter.bootstrap import build_platform
from callcenter.config import load_settings
from callcenter.sim.link import SimulatorLink
from tests.adapters.asterisk.test_asterisk_conf import AGI_SCRIPTS


async def test_the_fastagi_server_answers_every_script_the_dialplan_calls(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    platform = build_platform(settings)
    try:
        assert platform.agi is not None
        assert platform.agi.scripts == AGI_SCRIPTS
    finally:
        await platform.engine.dispose()


async def test_the_pbx_link_follows_the_ami_host_setting(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"
    simulated = build_platform(load_settings(database_url=url))
    real = build_platform(load_settings(database_url=url, ami_host="10.1.2.3"))
    try:
        assert isinstance(simulated.pbx, SimulatorLink)
        assert isinstance(real.pbx, AmiPbxLink)
        assert real.pbx.status().target == "asterisk 10.1.2.3:5038"
        assert real.pbx.status().state == "connecting"
    finally:
        await simulated.engine.dispose()
        await real.engine.dispose()
