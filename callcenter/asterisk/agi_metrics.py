"""FastAGI timing as Prometheus metrics (process-wide; see `callcenter.bootstrap.metrics`)."""

from __future__ import annotations

from prometheus_client import Histogram

# The platform's own share of a caller's wait: from Asterisk's reply to the next command
# we send on the same channel (TTS, database lookups and decisions included).
AGI_TURNAROUND = Histogram(
    "callcenter_agi_turnaround_seconds",
    "Time from an AGI reply to the platform's next command on the same channel",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
