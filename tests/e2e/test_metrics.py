"""`GET /metrics` on a running platform (simulator and demo traffic, as after `make run`):
the main figures are there and move with the traffic."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env, serving

# a real `callcenter serve` in a subprocess whose demo traffic runs on real time: the wait
# for its first calls below (up to 240 s) needs the slow tests' timeout, not the default 60 s
pytestmark = pytest.mark.slow


def _env(tmp_path: Path) -> dict[str, str]:
    return clean_env(
        CALLCENTER_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}",
        CALLCENTER_RECORDINGS_DIR=str(tmp_path / "recordings"),
        CALLCENTER_FLOWS_DIR=str(REPO_ROOT / "ivr_flows"),
        CALLCENTER_PROMPTS_CACHE_DIR=str(REPO_ROOT / "var" / "prompts"),
        CALLCENTER_AGI_PORT="0",
    )


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    return sum(value for (n, _), value in samples.items() if n == name)


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


async def test_metrics_move_with_demo_traffic(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _prepare(tmp_path, env)
    async with (
        serving(tmp_path, env) as served,
        httpx.AsyncClient(base_url=served.base_url, timeout=10) as http,
    ):
        first = _samples((await http.get("/metrics")).text)
        names = {name for name, _ in first}
        for expected in (
            "callcenter_calls_in_progress",
            "callcenter_agi_sessions_active",
            "callcenter_ami_connected",
            "callcenter_journal_pending_events",
            "callcenter_journal_lag_seconds",
            "callcenter_queue_callers_waiting",
            "callcenter_operators",
            "callcenter_calls_offered_today",
            "callcenter_ivr_sessions_active",
            "callcenter_recordings_pending",
            "callcenter_recordings_missing",
        ):
            assert expected in names, expected
        # no call id or phone number ever becomes a label
        for name, labels in first:
            if not name.startswith("callcenter_"):
                continue  # the process collectors of prometheus-client
            for key, _value in labels:
                assert key in {
                    "state",
                    "line",
                    "queue",
                    "event",
                    "campaign",
                    "route",
                    "method",
                    "status",
                    "le",
                }, key
        later = first
        async with asyncio.timeout(240):
            while not (
                _total(later, "callcenter_ami_connected") == 1
                and _total(later, "callcenter_agi_turnaround_seconds_count")
                > _total(first, "callcenter_agi_turnaround_seconds_count")
                and _total(later, "callcenter_ami_events_total")
                > _total(first, "callcenter_ami_events_total")
                and _total(later, "callcenter_journal_batches_total")
                > _total(first, "callcenter_journal_batches_total")
                and _total(later, "callcenter_ivr_sessions_total")
                > _total(first, "callcenter_ivr_sessions_total")
            ):
                await asyncio.sleep(1)  # scraping like Prometheus does
                later = _samples((await http.get("/metrics")).text)
        routes = {
            dict(labels).get("route")
            for name, labels in later
            if name == "callcenter_http_requests_total"
        }
        assert "/metrics" in routes
