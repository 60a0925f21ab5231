"""Prometheus metrics of one platform process (`/metrics`).

State (calls in progress, queues, operators, service level, dialer figures, the database
pool, link states) is read when Prometheus scrapes, from the objects that already keep it:
nothing is added to the caller's path for it. Events that happen between scrapes (FastAGI
turnaround, HTTP requests) are counted where they happen by prometheus-client metrics on the
process's default registry (`callcenter.asterisk.agi_metrics`, `callcenter.api.metrics`).

Each role process answers for itself (its own registry, its own `/metrics`), which is how
several processes stay correct without prometheus-client's multiprocess files: the API role
serves `/metrics` on its HTTP port, the telephony role on its own small listener
(`CALLCENTER_TELEPHONY_HTTP_PORT`, `callcenter.api.node_app`).
No label carries a call id or a phone number: labels are queues, lines, states, campaigns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from callcenter.bootstrap import Platform


def _calls_by_state(platform: Platform) -> Counter[str]:
    states: Counter[str] = Counter()
    if platform.calls is None:
        return states
    for call in platform.calls.tracker.open_calls():
        if call.answered_at is not None:
            states["talking"] += 1
        elif call.queue_name is not None:
            states["queued"] += 1
        elif not call.ivr_closed and call.ivr_path:
            states["ivr"] += 1
        else:
            states["ringing"] += 1
    return states


class PlatformCollector(Collector):
    """Reads the platform's live state at scrape time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Iterable[Metric]:
        yield from self._calls()
        yield from self._agi()
        yield from self._ami()
        yield from self._acd()
        yield from self._dialer()
        yield from self._database()

    def _calls(self) -> Iterator[Metric]:
        platform = self.platform
        calls = GaugeMetricFamily(
            "callcenter_calls_in_progress", "Calls in progress by state", labels=["state"]
        )
        by_state = _calls_by_state(platform)
        for state in ("ivr", "queued", "ringing", "talking"):
            calls.add_metric([state], by_state[state])
        yield calls
        if platform.calls is None:
            return
        stats = platform.calls.stats()
        yield GaugeMetricFamily(
            "callcenter_journal_pending_events",
            "AMI events received but not yet written to the journal",
            value=stats.journal_pending,
        )
        yield GaugeMetricFamily(
            "callcenter_journal_lag_seconds",
            "Age of the oldest AMI event not yet written to the journal",
            value=platform.calls.journal_lag_seconds(datetime.now(UTC)),
        )
        yield CounterMetricFamily(
            "callcenter_journal_batches", "Journal batches written", value=stats.batches_written
        )
        yield CounterMetricFamily(
            "callcenter_journal_write_failures",
            "Journal batches that failed and were retried",
            value=stats.write_failures,
        )
        yield CounterMetricFamily(
            "callcenter_journal_dropped_events",
            "AMI events dropped from a full journal buffer",
            value=stats.journal_dropped,
        )
        events = CounterMetricFamily(
            "callcenter_ami_events", "AMI events received, by event name", labels=["event"]
        )
        for name, count in sorted(platform.calls.events_by_name().items()):
            events.add_metric([name], count)
        yield events

    def _agi(self) -> Iterator[Metric]:
        if self.platform.agi is None:
            return
        stats = self.platform.agi.stats
        yield GaugeMetricFamily(
            "callcenter_agi_sessions_active",
            "FastAGI sessions running now (IVR, ACD and dialer scripts)",
            value=stats.active,
        )
        for name, value, text in (
            ("sessions", stats.sessions, "FastAGI sessions accepted"),
            ("sessions_refused", stats.rejected, "FastAGI connections refused (address, full)"),
            ("failovers", stats.failovers, "Callers sent to the fail-over queue"),
            ("errors", stats.errors, "FastAGI handler errors and malformed input"),
            ("timeouts", stats.timeouts, "FastAGI sessions or replies that timed out"),
            ("hangups", stats.hangups, "FastAGI sessions ended by the caller hanging up"),
        ):
            yield CounterMetricFamily(f"callcenter_agi_{name}", text, value=value)

    def _ami(self) -> Iterator[Metric]:
        client = self.platform.ami_client()
        if client is None:
            return
        stats = client.stats()
        yield GaugeMetricFamily(
            "callcenter_ami_connected", "1 when the AMI link is up", value=int(stats.connected)
        )
        yield CounterMetricFamily(
            "callcenter_ami_connections", "AMI logins that succeeded", value=stats.connections
        )
        yield CounterMetricFamily(
            "callcenter_ami_connect_attempts",
            "AMI connection attempts (reconnects included)",
            value=stats.connect_attempts,
        )
        yield CounterMetricFamily(
            "callcenter_ami_events_dropped",
            "AMI events dropped because processing fell behind",
            value=stats.dropped_events,
        )

    def _acd(self) -> Iterator[Metric]:
        from callcenter.acd.service import AcdService

        acd = self.platform.acd
        # an API node's ACD is the telephony nodes' (their own /metrics report it)
        if not isinstance(acd, AcdService):
            return
        snapshot = acd.snapshot(None)
        waiting = GaugeMetricFamily(
            "callcenter_queue_callers_waiting",
            "Callers waiting per queue",
            labels=["queue", "line"],
        )
        longest = GaugeMetricFamily(
            "callcenter_queue_longest_wait_seconds",
            "Longest wait of a caller in the queue now",
            labels=["queue", "line"],
        )
        for queue in snapshot.queues:
            line = str(queue.support_line or "")
            waiting.add_metric([queue.name, line], queue.waiting)
            longest.add_metric([queue.name, line], queue.longest_wait_seconds)
        yield waiting
        yield longest
        operators = GaugeMetricFamily(
            "callcenter_operators", "Operators by state and support line", labels=["state", "line"]
        )
        counted: Counter[tuple[str, str]] = Counter(
            (str(op.state), str(op.support_line)) for op in snapshot.operators
        )
        for (state, line), count in sorted(counted.items()):
            operators.add_metric([state, line], count)
        yield operators
        yield GaugeMetricFamily(
            "callcenter_emergency_mode",
            "1 while emergency mode is on",
            value=int(bool(getattr(snapshot.emergency, "active", False))),
        )
        now = datetime.now(UTC)
        level = GaugeMetricFamily(
            "callcenter_service_level_ratio",
            "Share of today's answered calls answered within the target (40 s)",
            labels=["line"],
        )
        abandon = GaugeMetricFamily(
            "callcenter_abandon_ratio", "Share of today's offered calls abandoned", labels=["line"]
        )
        offered = GaugeMetricFamily(
            "callcenter_calls_offered_today", "Calls offered to the queues today", labels=["line"]
        )
        answered = GaugeMetricFamily(
            "callcenter_calls_answered_today", "Queue calls answered today", labels=["line"]
        )
        for item in acd.metrics(now, [None, 1, 2, 3]):
            label = "all" if item.line is None else str(item.line)
            today = item.today
            offered.add_metric([label], today.offered)
            answered.add_metric([label], today.answered)
            if today.service_level is not None:
                level.add_metric([label], today.service_level)
            if today.abandon_rate is not None:
                abandon.add_metric([label], today.abandon_rate)
        yield from (level, abandon, offered, answered)

    def _dialer(self) -> Iterator[Metric]:
        dialer = self.platform.dialer
        if dialer is None:
            return
        labels = ["campaign"]
        dialling = GaugeMetricFamily(
            "callcenter_dialer_calls_ringing", "Calls ringing", labels=labels
        )
        session = GaugeMetricFamily(
            "callcenter_dialer_calls_in_session",
            "Answered campaign calls being served",
            labels=labels,
        )
        abandon = GaugeMetricFamily(
            "callcenter_dialer_abandon_ratio",
            "Abandoned share of live answers over the rolling window",
            labels=labels,
        )
        answer = GaugeMetricFamily(
            "callcenter_dialer_answer_ratio", "Estimated live-answer rate", labels=labels
        )
        placed = CounterMetricFamily(
            "callcenter_dialer_calls_placed", "Calls placed by this process", labels=labels
        )
        for campaign_id, live in sorted(dialer.live_all().items()):
            key = [str(campaign_id)]
            dialling.add_metric(key, live.dialling)
            session.add_metric(key, live.in_session)
            abandon.add_metric(key, live.abandon_rate)
            answer.add_metric(key, live.answer_rate)
            placed.add_metric(key, live.placed)
        yield from (dialling, session, abandon, answer, placed)

    def _database(self) -> Iterator[Metric]:
        pool = self.platform.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        size = getattr(pool, "size", None)
        if callable(checked_out):
            yield GaugeMetricFamily(
                "callcenter_db_pool_connections_in_use",
                "Database connections checked out of the pool",
                value=checked_out(),
            )
        if callable(size):
            yield GaugeMetricFamily("callcenter_db_pool_size", "Database pool size", value=size())


def metrics_registry(platform: Platform) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector(platform))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The text format: the process-wide event metrics, then the platform's state."""
    return generate_latest(REGISTRY) + generate_latest(registry)
