"""Five minutes of `make run`'s demo traffic, on simulated time (issue 16, row 15).

The platform as `callcenter serve` builds it in demo mode (the built-in simulator and its demo
scenario: a call every 15 s or so, operators 101-103 on line 1 and 106-107 on line 2), watched
through the API a supervisor uses. The issue saw every operator sit in a 5-minute wrap-up
after each call, callers pile up and overflow into `branch-overflow` where nobody is signed
in, and the emergency mode stay off while line 1 was swamped for minutes. Here:

- operators keep answering: no wrap-up longer than the demo's (15 s, plus the ACD's tick);
- no caller is ever put into `branch-overflow`, where nobody is signed in;
- callers' waits stay bounded;
- the automatic emergency rule fires when its condition holds: afterwards every line-1
  operator is kept on a long call while callers wait, and within the rule's 3 minutes (plus
  a sample) the mode is on, which the gentle demo alone never asked for.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from callcenter.api.app import create_app
from callcenter.bootstrap import Platform, build_platform
from callcenter.config import load_settings
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.seed import seed_demo
from callcenter.sim.callers import CallerScript
from callcenter.sim.clock import VirtualClock
from callcenter.sim.link import SimulatorLink
from callcenter.sim.simulator import Simulator
from tests.support.eventually import eventually, pass_time
from tests.support.paths import REPO_ROOT

DEMO_SECONDS = 300.0
SAMPLE_EVERY = 5.0  # simulated seconds between two looks at the supervisor's screens
WRAP_UP = 15.0  # CALLCENTER_DEMO_WRAP_UP_SECONDS' default
ALL_BUSY_LIMIT = 180.0  # CALLCENTER_ACD_OVERFLOW_ALL_BUSY_SECONDS' default: the rule's 3 min
MAX_WAIT = 180.0  # the standard's limit in emergency mode; the demo stays well under it

pytestmark = pytest.mark.slow


@dataclass
class Watch:
    """What the supervisor saw, sample by sample."""

    longest_wrap_up: float = 0.0
    longest_queue_wait: float = 0.0
    overflow_waiting: int = 0
    answered: set[str] = field(default_factory=set)
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Demo:
    platform: Platform
    sim: Simulator
    http: httpx.AsyncClient
    time: VirtualClock
    watch: Watch = field(default_factory=Watch)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time.epoch(), UTC)

    async def look(self) -> dict[str, Any]:
        """One look at the queues, the operators and the emergency switch."""
        view = (await self.http.get("/api/v1/queues")).json()
        board = (await self.http.get("/api/v1/operators/states")).json()
        queues = {q["name"]: q for q in view["queues"]}
        now = self.now()
        for op in board["operators"]:
            if op["state"] == "wrap_up" and op["since"]:
                since = datetime.fromisoformat(op["since"])
                took = (now - since).total_seconds()
                self.watch.longest_wrap_up = max(self.watch.longest_wrap_up, took)
        for q in queues.values():
            self.watch.longest_queue_wait = max(
                self.watch.longest_queue_wait, q["longest_wait_seconds"]
            )
        self.watch.overflow_waiting += queues["branch-overflow"]["waiting"]
        sample = {
            "at": now,
            "emergency": view["emergency"]["active"],
            "line1_all_busy": queues["line1"]["all_busy_seconds"],
            "line1_waiting": queues["line1"]["waiting"],
        }
        self.watch.samples.append(sample)
        return sample

    async def run(self, seconds: float) -> None:
        end = self.time.now() + seconds
        while self.time.now() < end:
            await pass_time(self.time, SAMPLE_EVERY, step=0.5)
            await self.look()

    async def calls(self) -> list[dict[str, Any]]:
        assert self.platform.calls is not None
        await self.platform.calls.flush()
        page = (await self.http.get("/api/v1/calls", params={"limit": 500})).json()
        return list(page["items"])


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    # as `make run` sets it up: demo traffic on, every other setting at its default
    settings = load_settings(
        database_url=url,
        recordings_dir=tmp_path / "recordings",
        flows_dir=REPO_ROOT / "ivr_flows",
        prompts_cache_dir=REPO_ROOT / "var" / "prompts",
        agi_port=0,
        demo_traffic=True,
        flows_watch=False,
    )
    time = VirtualClock()
    platform = build_platform(settings, simulator_clock=time)
    await seed_demo(platform.session_factory, now=datetime.now(UTC), if_empty=True)
    await platform.start()
    assert isinstance(platform.pbx, SimulatorLink)
    sim = platform.pbx.simulator
    assert sim is not None
    await platform.pbx.client.wait_connected(10)
    time.add_settler(platform.pbx.client.drain)
    # the ACD's own timer (wrap-up ends, the emergency rule) runs every half real second;
    # simulated time runs faster than that here, so it also runs after each step of it
    assert platform.acd is not None
    time.add_settler(platform.acd.tick)
    app = create_app(platform, manage_lifecycle=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        token = await http.post(
            "/api/v1/auth/token", data={"username": "supervisor", "password": "supervisor"}
        )
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        try:
            yield Demo(platform, sim, http, time)
        finally:
            await platform.stop()


def _condition_held(sample: dict[str, Any]) -> bool:
    busy = sample["line1_all_busy"]
    return busy is not None and busy >= ALL_BUSY_LIMIT and sample["line1_waiting"] > 0


async def test_five_minutes_of_demo_traffic_keep_answering(demo: Demo) -> None:
    # the demo's operators sign in by themselves
    async def signed_in() -> bool:
        return len(demo.sim.operators) == 5 and (await demo.look())["emergency"] is False

    await eventually(signed_in, clock=demo.time, within=30)
    await demo.run(DEMO_SECONDS)

    watch = demo.watch
    calls = await demo.calls()
    taken = [c for c in calls if c["operator_id"] is not None]
    per_operator = Counter(c["operator_id"] for c in taken)
    # a call every 15-20 s, most of them for an operator: they kept taking calls, one after
    # another (with the 5-minute wrap-up each could take one call in these five minutes)
    assert len(taken) >= 6, [(c["disposition"], c["queue_name"]) for c in calls]
    assert max(per_operator.values()) >= 2, per_operator
    # after-call work as the demo sets it, never the 5-minute limit (one sample of slack)
    assert watch.longest_wrap_up <= WRAP_UP + SAMPLE_EVERY + 1, watch.longest_wrap_up
    # nobody was sent to the branches' queue, where nobody is signed in
    assert watch.overflow_waiting == 0
    assert not [c for c in calls if c["queue_name"] == "branch-overflow"]
    # waits stayed bounded
    assert watch.longest_queue_wait < MAX_WAIT, watch.longest_queue_wait
    waits = [c["wait_seconds"] for c in calls if c["wait_seconds"] is not None]
    assert waits
    assert max(waits) < MAX_WAIT, waits
    # the emergency rule is on exactly when its condition held (checked every sample)
    for before, after in zip(watch.samples, watch.samples[1:], strict=False):
        if _condition_held(before):
            assert after["emergency"], before

    # now line 1 is swamped: every operator's next call is a long one, callers keep coming
    for operator in demo.sim.operators.values():
        operator.talk_time = 1800.0
    for n in range(8):
        await demo.sim.place_inbound_call(
            CallerScript(number=f"+7916555{n:04d}", pulse=True, patience=1800.0)
        )
    await demo.run(30)

    async def emergency_on() -> dict[str, Any] | None:
        sample = await demo.look()
        return sample if sample["emergency"] else None

    switched = await eventually(emergency_on, clock=demo.time, step=SAMPLE_EVERY, within=400)
    # it fired because the rule's condition held: line 1 all busy for 3 minutes, callers waiting
    held = [s for s in demo.watch.samples if _condition_held(s)]
    assert held, demo.watch.samples[-10:]
    assert held[0]["at"] <= switched["at"]
    emergency = (await demo.http.get("/api/v1/emergency")).json()
    assert emergency["active"] is True
    assert emergency["source"] == "automatic"
