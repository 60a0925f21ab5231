"""The telephony role has no HTTP API, yet Prometheus scrapes it: `CALLCENTER_METRICS_PORT`
serves `GET /metrics` on a plain socket (the platform's own exposition, here the process's
default registry with the FastAGI turnaround histogram); any other request gets a 404."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from callcenter.asterisk.agi_metrics import AGI_TURNAROUND
from callcenter.bootstrap.metrics_http import MetricsServer


async def test_metrics_are_served_and_other_paths_are_not() -> None:
    AGI_TURNAROUND.observe(0.004)
    server = MetricsServer(lambda: generate_latest(REGISTRY), "127.0.0.1", 0)
    await server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            scrape = await client.get("/metrics")
            missing = await client.get("/")
    finally:
        await server.stop()
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
    turnaround = families["callcenter_agi_turnaround_seconds"]
    edges = {s.labels["le"] for s in turnaround.samples if s.name.endswith("_bucket")}
    assert {"0.005", "0.02"} <= edges  # the targets' edges, for a p99 read within a bucket
    assert missing.status_code == 404


async def test_a_client_that_sends_nothing_is_dropped() -> None:
    server = MetricsServer(lambda: b"", "127.0.0.1", 0, read_timeout=0.2)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /metrics HTTP/1.0\r\n")  # never ends its headers
        await writer.drain()
        async with asyncio.timeout(10):
            assert await reader.read() == b""
        writer.close()
    finally:
        await server.stop()
