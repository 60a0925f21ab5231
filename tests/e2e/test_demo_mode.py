"""`callcenter serve` with no Asterisk configured: the built-in simulator and demo traffic.

What a newcomer sees after `make run`: the PBX link is up (to the simulator) and call
records appear on their own, through the same AMI and FastAGI code paths as in production.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.eventually import eventually
from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env, serving

# a real `callcenter serve` in a subprocess: its demo traffic runs on real time
pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        CALLCENTER_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        CALLCENTER_RECORDINGS_DIR=str(tmp_path / "recordings"),
        CALLCENTER_FLOWS_DIR=str(REPO_ROOT / "ivr_flows"),
        CALLCENTER_PROMPTS_CACHE_DIR=str(REPO_ROOT / "var" / "prompts"),
        CALLCENTER_AGI_PORT="0",
        **extra,
    )


def _prepare(tmp_path: Path, env: dict[str, str]) -> None:
    for args in (["migrate"], ["seed-demo", "--if-empty"]):
        subprocess.run(
            [sys.executable, "-m", "callcenter", *args],
            cwd=tmp_path,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )


async def _token(http: httpx.AsyncClient) -> dict[str, str]:
    reply = await http.post(
        "/api/v1/auth/token", data={"username": "supervisor", "password": "supervisor"}
    )
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


async def test_demo_traffic_produces_call_records(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _prepare(tmp_path, env)
    async with (
        serving(tmp_path, env) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=10) as http,
    ):
        health = (await http.get("/health")).json()
        assert health["pbx"]["target"].startswith("simulator")
        headers = await _token(http)

        async def ended_calls() -> list[dict[str, object]]:
            page = (await http.get("/api/v1/calls", headers=headers)).json()
            return [c for c in page["items"] if c["ended_at"] is not None]

        # polling the API like a supervisor's screen
        ended = await eventually(ended_calls, within=240, poll=1.0, what="an ended demo call")
        assert (await http.get("/health")).json()["status"] == "ok"
    call = ended[0]
    assert call["direction"] == "inbound"
    assert call["dialled_number"] == "+78001000000" or call["queue_name"] or call["ivr_path"]
    log = b"".join(served.log).decode()
    assert "built-in PBX simulator" in log
    assert "ended:" in log


async def test_demo_traffic_can_be_switched_off(tmp_path: Path) -> None:
    env = _env(tmp_path, CALLCENTER_DEMO_TRAFFIC="false")
    _prepare(tmp_path, env)
    async with (
        serving(tmp_path, env) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=10) as http,
    ):

        async def connected() -> dict[str, str] | None:
            pbx: dict[str, str] = (await http.get("/health")).json()["pbx"]
            return pbx if pbx["state"] == "connected" else None

        # polling /health like a monitor does
        pbx = await eventually(connected, within=30, poll=0.2, what="the PBX link")
    assert pbx["detail"] == "demo traffic off"
