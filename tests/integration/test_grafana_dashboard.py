"""The Grafana dashboard (`ops/grafana/callcenter.json`) charts only metrics the platform
exports: every metric name in its queries appears in a real `/metrics` scrape of a running
platform (built by `build_platform` with the simulator, as `make run` does)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from callcenter.api.app import create_app
from callcenter.bootstrap import build_platform
from callcenter.config import load_settings
from callcenter.db.migrate import upgrade_to_head
from tests.support.paths import REPO_ROOT

DASHBOARD = REPO_ROOT / "ops" / "grafana" / "callcenter.json"

# PromQL words that are not metric names
_PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "by", "without", "on", "ignoring", "group_left",
    "group_right", "and", "or", "unless", "bool", "offset", "rate", "irate", "increase",
    "delta", "histogram_quantile", "label_values", "topk", "bottomk", "clamp_min", "clamp_max",
    "abs", "time", "vector", "scalar", "avg_over_time", "max_over_time", "min_over_time",
    "le", "inf", "nan",
}  # fmt: skip


def _walk_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _walk_panels(panel.get("panels", []))


def expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [
        target["expr"]
        for panel in _walk_panels(dashboard["panels"])
        for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if variable["type"] == "query":
            exprs.append(query["query"] if isinstance(query, dict) else query)
    return exprs


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (label matchers, groupings, strings, ranges and
    Grafana variables removed first)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\$\w+", "", text)  # Grafana variables
    text = re.sub(r"label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)", r"\1", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)\s*(\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in _PROMQL_WORDS:
            continue
        names.add(word)
    return names


def test_metric_names_are_found_in_expressions() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le, route) (rate(callcenter_http_request_duration"
        '_seconds_bucket{instance=~"$instance"}[$__rate_interval]))) * 60'
    )
    assert metric_names(expr) == {"callcenter_http_request_duration_seconds_bucket"}
    assert metric_names("label_values(callcenter_calls_in_progress, instance)") == {
        "callcenter_calls_in_progress"
    }


def test_the_dashboard_is_a_grafana_model_on_a_prometheus_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in _walk_panels(dashboard["panels"])]
    assert len(ids) == len(set(ids))
    for panel in _walk_panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert metric_names(target["expr"]), (panel["title"], target["expr"])


async def _scraped_names(tmp_path: Path) -> set[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    settings = load_settings(
        database_url=url,
        recordings_dir=tmp_path / "recordings",
        flows_dir=REPO_ROOT / "ivr_flows",
        prompts_cache_dir=REPO_ROOT / "var" / "prompts",
        agi_port=0,
        http_port=0,
        demo_traffic=False,
        flows_watch=False,
        notify_worker=False,
    )
    platform = build_platform(settings)
    await platform.start()
    try:
        await platform.pbx.client.wait_connected(30)  # type: ignore[attr-defined]
        app = create_app(platform, manage_lifecycle=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            await http.get("/health")  # so the HTTP metrics have samples too
            text = (await http.get("/metrics")).text
    finally:
        await platform.stop()
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_count", "_sum"))
    return names


@pytest.mark.slow
async def test_every_metric_on_the_dashboard_is_exported(tmp_path: Path) -> None:
    exported = await _scraped_names(tmp_path)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used = set().union(*(metric_names(expr) for expr in expressions(dashboard)))
    assert used - exported == set()
    # the list: each of these families is charted
    for family in (
        "callcenter_calls_in_progress",
        "callcenter_ivr_sessions_active",
        "callcenter_recordings_pending",
        "callcenter_recordings_missing",
        "callcenter_agi_turnaround_seconds_bucket",
        "callcenter_agi_sessions_refused_total",
        "callcenter_ami_connected",
        "callcenter_ami_events_total",
        "callcenter_journal_lag_seconds",
        "callcenter_queue_callers_waiting",
        "callcenter_queue_longest_wait_seconds",
        "callcenter_operators",
        "callcenter_service_level_ratio",
        "callcenter_abandon_ratio",
        "callcenter_dialer_abandon_ratio",
        "callcenter_db_pool_connections_in_use",
        "callcenter_http_requests_total",
        "callcenter_http_request_duration_seconds_bucket",
    ):
        assert family in used, family
