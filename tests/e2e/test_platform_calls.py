"""The whole platform as `callcenter serve` builds it, against the built-in PBX simulator.

The transcript scenarios, end to end: the simulator speaks AMI and FastAGI to the platform
built by `build_platform` (call records, IVR, ACD, recordings), and the results are read
back through the HTTP API a supervisor uses: call records, operator states, recordings.

- s1: a caller goes through the IVR to line 1 and an operator answers;
- s2: the only operator never answers and the caller gives up (abandoned);
- s3: the caller hangs up in the IVR;
- s9: a pulse phone sends no digits and still reaches an operator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform, build_platform
from callcenter.config import load_settings
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import User
from callcenter.db.seed import seed_demo
from callcenter.domain.roles import Role
from callcenter.outbound.dialer import InMemoryOperatorPool
from callcenter.passwords import hash_password
from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.clock import VirtualClock
from callcenter.sim.link import SimulatorLink
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallHandle, Simulator
from tests.support.eventually import eventually, finished
from tests.support.paths import REPO_ROOT

INTRO = 16.0  # the greeting and the recording notice cannot be interrupted


@dataclass
class Rig:
    platform: Platform
    sim: Simulator
    http: httpx.AsyncClient
    headers: dict[str, str]
    time: VirtualClock

    async def call(self, script: CallerScript, within: float = 600.0) -> CallHandle:
        """Place a call and let simulated time pass until it is over."""
        handle = await self.sim.place_inbound_call(script)
        await finished(self.time, handle.wait(), within=within)
        return handle

    async def until(self, check: Any, within: float = 600.0) -> Any:
        """Let simulated time pass until `check()` (sync or async) gives something."""
        return await eventually(check, clock=self.time, within=within)

    async def record(self, handle: CallHandle) -> dict[str, Any]:
        """The call's record, from the API, once its end is written."""
        assert self.platform.calls is not None
        calls = self.platform.calls

        async def ended() -> dict[str, Any] | None:
            await calls.flush()
            page = (await self.http.get("/api/v1/calls", headers=self.headers)).json()
            for item in page["items"]:
                if item["linkedid"] == handle.linkedid and item["ended_at"]:
                    return dict(item)
            return None

        return await eventually(ended, what="the call's record")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    settings = load_settings(
        database_url=url,
        recordings_dir=tmp_path / "recordings",
        flows_dir=REPO_ROOT / "ivr_flows",
        prompts_cache_dir=REPO_ROOT / "var" / "prompts",
        agi_port=0,
        demo_traffic=False,
        flows_watch=False,
    )
    time = VirtualClock()
    platform = build_platform(settings, simulator_clock=time)
    # the demo data's operators 101-103 (line 1) on PJSIP phones, as the simulator's
    await seed_demo(platform.session_factory, now=datetime.now(UTC), if_empty=True)
    async with platform.session_factory.begin() as session:
        session.add(
            User(
                username="chief",
                password_hash=hash_password("pw"),
                role=Role.SUPERVISOR,
                full_name="Chief",
            )
        )
    await platform.start()
    assert isinstance(platform.pbx, SimulatorLink)
    sim = platform.pbx.simulator
    assert sim is not None
    await platform.pbx.client.wait_connected(10)
    time.add_settler(platform.pbx.client.drain)
    app = create_app(platform, manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        token = await http.post("/api/v1/auth/token", data={"username": "chief", "password": "pw"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        try:
            yield Rig(platform, sim, http, headers, time)
        finally:
            await platform.stop()


def operator(extension: str, **kwargs: Any) -> Operator:
    return Operator(extension, technology="PJSIP", **kwargs)


async def test_s1_ivr_then_operator_answers_with_a_playable_recording(rig: Rig) -> None:
    rig.sim.add_operator(operator("101", answer_after=2.0, talk_time=20.0), queues=["line1"])
    handle = await rig.call(
        CallerScript(keys=[KeyPress(INTRO, "1"), KeyPress(4, "1")], talk_time=15.0)
    )
    call = await rig.record(handle)
    assert call["disposition"] == "answered"
    assert call["queue_name"] == "line1"
    assert call["ivr_path"][:1] == ["1"]
    assert call["operator_id"] is not None
    assert call["recording_notice_version"]
    # the platform's AMI client reads the simulator's clock: simulated seconds
    assert call["talk_seconds"] == pytest.approx(15.0, abs=1.0)

    # the recording, found from the call record, plays
    async def complete() -> list[dict[str, Any]]:
        found = (
            await rig.http.get(
                "/api/v1/recordings", params={"call_id": call["id"]}, headers=rig.headers
            )
        ).json()
        return [r for r in found["items"] if r["state"] == "complete"]

    items = await eventually(complete, what="a complete recording")
    audio = await rig.http.get(f"/api/v1/recordings/{items[0]['id']}/audio", headers=rig.headers)
    assert audio.status_code == 200
    assert audio.content[:4] == b"RIFF"
    assert len(audio.content) > 44  # bridged: real audio after the header
    assert items[0]["duration_seconds"] > 5


async def test_s2_operator_never_answers_and_the_caller_abandons(rig: Rig) -> None:
    rig.sim.add_operator(operator("102", answer_after=None), queues=["line1"])
    handle = await rig.call(CallerScript(pulse=True, patience=20.0))
    call = await rig.record(handle)
    assert call["disposition"] == "abandoned"
    assert call["queue_name"] == "line1"
    assert call["wait_seconds"] == pytest.approx(20.0, abs=1.0)
    assert call["operator_id"] is None
    # operator 102's phone rang in vain: the call is in their missed-call history
    signed = await rig.http.post(
        "/api/v1/auth/token", data={"username": "operator102", "password": "operator"}
    )
    me = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    missed = await rig.http.get("/api/v1/me/calls", params={"kind": "missed"}, headers=me)
    assert missed.status_code == 200, missed.text
    assert call["id"] in str(missed.json())


async def test_s3_hang_up_in_the_ivr(rig: Rig) -> None:
    handle = await rig.call(CallerScript(keys=[KeyPress(INTRO, "1")], hangup_after=INTRO + 2))
    call = await rig.record(handle)
    assert call["disposition"] == "hung_up_in_ivr"
    assert call["queue_name"] is None


async def test_s9_pulse_phone_reaches_an_operator_and_states_follow(rig: Rig) -> None:
    rig.sim.add_operator(operator("103", answer_after=1.0, talk_time=30.0), queues=["line1"])
    handle = await rig.sim.place_inbound_call(CallerScript(pulse=True, talk_time=20.0))

    # while the operator talks, the live view shows them on a call
    async def on_call() -> bool:
        view = (await rig.http.get("/api/v1/queues", headers=rig.headers)).json()
        line1 = next(q for q in view["queues"] if q["name"] == "line1")
        return bool(line1["operators"]["on_call"] == 1)

    await rig.until(on_call)
    await finished(rig.time, handle.wait())
    call = await rig.record(handle)
    assert call["disposition"] == "answered"
    assert call["ivr_path"] == []
    assert call["queue_name"] == "line1"


async def test_the_dialer_sees_the_operators_the_acd_follows(rig: Rig) -> None:
    assert rig.platform.dialer is not None
    pool = rig.platform.dialer.pool
    assert isinstance(pool, InMemoryOperatorPool)
    rig.sim.add_operator(operator("101"), queues=["line1"])
    rig.sim.add_operator(operator("102"), queues=["line1"])
    # the pool is fed from the ACD's changes
    await eventually(lambda: pool.load("line1", datetime.now(UTC)).ready >= 2)
