"""FastAGI timing as Prometheus metrics (process-wide; see `callcenter.bootstrap.metrics`)."""

from __future__ import annotations

from prometheus_client import Histogram

# The platform's own share of a caller's wait: from Asterisk's reply to the next command
# we send on the same channel (TTS, database lookups and decisions included).
AGI_TURNAROUND = Histogram(
    "callcenter_agi_turnaround_seconds",
    "Time from an AGI reply to the platform's next command on the same channel",
    # edges at 5 ms and 20 ms (the turnaround targets) and close enough around them that a
    # p99 interpolated within one bucket is within a few ms
    buckets=(
        0.0005,
        0.001,
        0.002,
        0.003,
        0.005,
        0.0075,
        0.01,
        0.015,
        0.02,
        0.03,
        0.05,
        0.1,
        0.25,
        0.5,
        1.0,
        2.5,
        5.0,
        10.0,
    ),
)
