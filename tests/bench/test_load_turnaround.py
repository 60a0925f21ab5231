"""bench-load reads the AGI p99 from the telephony role's own histogram: the window between two
scrapes and the quantile within a bucket, as PromQL's histogram_quantile reads them."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bench.load import Turnaround

EDGES = (0.001, 0.005, 0.02, 0.1)


def scrape(samples: list[float]) -> Turnaround:
    registry = CollectorRegistry()
    histogram = Histogram(
        "callcenter_agi_turnaround_seconds", "turnaround", buckets=EDGES, registry=registry
    )
    for value in samples:
        histogram.observe(value)
    return Turnaround.parse(generate_latest(registry).decode())


def test_the_p99_lies_in_its_bucket_interpolated() -> None:
    # 98 fast commands, 2 between 5 and 20 ms: rank 99 is the first of those two
    window = scrape([0.0005] * 98 + [0.010, 0.015])
    assert window.count == 100
    assert window.quantile(0.99) == pytest.approx(0.005 + (0.020 - 0.005) * 0.5)
    assert window.quantile(0.50) == pytest.approx(0.001 * 50 / 98)


def test_a_window_is_the_difference_of_two_scrapes() -> None:
    before = scrape([0.0005] * 50)
    after = scrape([0.0005] * 50 + [0.050] * 10)
    window = after - before
    assert window.count == 10
    assert 0.02 < window.quantile(0.99) <= 0.1


def test_beyond_the_last_edge_reads_as_that_edge_and_nothing_as_nan() -> None:
    assert scrape([3.0] * 5).quantile(0.99) == 0.1  # a lower bound, not a figure
    assert math.isnan(scrape([]).quantile(0.99))
