"""Prometheus metrics of one platform process (`/metrics`).

State (calls in progress, queues, operators, service level, dialer figures, the database
pool, link states) is read when Prometheus scrapes, from the objects that already keep it:
nothing is added to the caller's path for it. Events that happen between scrapes (FastAGI
turnaround, HTTP requests) are counted where they happen by prometheus-client metrics on the
process's default registry (`callcenter.asterisk.agi_metrics`, `callcenter.api.metrics`).

Each role process answers for itself (its own registry, its own `/metrics`), which is how
several processes stay correct without prometheus-client's multiprocess files: the API role
serves `/metrics` on its HTTP port, the telephony role on `CALLCENTER_METRICS_PORT`
(`callcenter.bootstrap.metrics_http`).
No label carries a call id or a phone number: labels are queues, lines, states, campaigns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from callcenter.acd.service import AcdService
    from callcenter.bootstrap import Platform
    from callcenter.cluster.remote import RemoteAcd


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


@dataclass(frozen=True, slots=True)
class _Today:
    offered: int
    answered: int
    service_level: float | None
    abandon_rate: float | None


@dataclass(frozen=True, slots=True)
class _AcdPicture:
    """The ACD figures /metrics shows, from the in-process ACD or the published pictures."""

    queues: list[tuple[str, str, int, float]]  # name, line, waiting, longest wait
    operators: Counter[tuple[str, str]]  # (state, line) -> operators
    emergency: int
    today: list[tuple[str, _Today]]  # line label ("all", "1"...) -> today's figures


def _line_label(line: object) -> str:
    return "all" if line is None else str(line)


def _local_picture(acd: AcdService) -> _AcdPicture:
    snapshot = acd.snapshot(None)
    today = [
        (
            _line_label(item.line),
            _Today(
                item.today.offered,
                item.today.answered,
                item.today.service_level,
                item.today.abandon_rate,
            ),
        )
        for item in acd.metrics(datetime.now(UTC), [None, 1, 2, 3])
    ]
    return _AcdPicture(
        queues=[
            (q.name, str(q.support_line or ""), q.waiting, q.longest_wait_seconds)
            for q in snapshot.queues
        ],
        operators=Counter((str(op.state), str(op.support_line)) for op in snapshot.operators),
        emergency=int(bool(getattr(snapshot.emergency, "active", False))),
        today=today,
    )


def _remote_picture(acd: RemoteAcd) -> _AcdPicture:
    merged = acd.snapshot(None)
    today = []
    for row in merged["metrics"]:
        figures = row["today"]
        today.append(
            (
                _line_label(row["line"]),
                _Today(
                    int(figures.get("offered") or 0),
                    int(figures.get("answered") or 0),
                    figures.get("service_level"),
                    figures.get("abandon_rate"),
                ),
            )
        )
    return _AcdPicture(
        queues=[
            (
                str(q["name"]),
                str(q.get("support_line") or ""),
                int(q.get("waiting") or 0),
                float(q.get("longest_wait_seconds") or 0.0),
            )
            for q in merged["queues"]
        ],
        operators=Counter(
            (str(op.get("state")), str(op.get("support_line"))) for op in merged["operators"]
        ),
        emergency=int(bool(getattr(merged["emergency"], "active", False))),
        today=today,
    )


class PlatformCollector(Collector):
    """Reads the platform's live state at scrape time."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def collect(self) -> Iterable[Metric]:
        yield from self._calls()
        yield from self._ivr()
        yield from self._recordings()
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

    def _ivr(self) -> Iterator[Metric]:
        ivr = self.platform.ivr
        if ivr is None:
            return
        yield GaugeMetricFamily(
            "callcenter_ivr_sessions_active",
            "Callers in the IVR now (FastAGI sessions of the ivr script)",
            value=ivr.sessions_active,
        )
        yield CounterMetricFamily(
            "callcenter_ivr_sessions", "IVR sessions started", value=ivr.sessions_total
        )

    def _recordings(self) -> Iterator[Metric]:
        from callcenter.domain.recordings import RecordingState

        counts = self.platform.recording_counts
        if not counts:
            return
        yield GaugeMetricFamily(
            "callcenter_recordings_pending",
            "Recordings not yet complete: being recorded, or waiting for their file to close",
            value=counts.get(RecordingState.RECORDING, 0),
        )
        yield GaugeMetricFamily(
            "callcenter_recordings_missing",
            "Recordings whose file never appeared or vanished (in the whole store)",
            value=counts.get(RecordingState.MISSING, 0),
        )

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
        yield CounterMetricFamily(
            "callcenter_ami_events_skipped",
            "AMI events read and skipped unparsed (VarSet of variables the platform ignores)",
            value=stats.skipped_events,
        )

    def _acd(self) -> Iterator[Metric]:
        from callcenter.acd.service import AcdService
        from callcenter.cluster.remote import RemoteAcd

        acd = self.platform.acd
        if isinstance(acd, AcdService):
            picture = _local_picture(acd)
        elif isinstance(acd, RemoteAcd):
            # an API node: the live pictures the telephony nodes publish in PostgreSQL, merged
            picture = _remote_picture(acd)
        else:
            return
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
        for name, line, count, wait in picture.queues:
            waiting.add_metric([name, line], count)
            longest.add_metric([name, line], wait)
        yield waiting
        yield longest
        operators = GaugeMetricFamily(
            "callcenter_operators", "Operators by state and support line", labels=["state", "line"]
        )
        for (state, line), count in sorted(picture.operators.items()):
            operators.add_metric([state, line], count)
        yield operators
        yield GaugeMetricFamily(
            "callcenter_emergency_mode", "1 while emergency mode is on", value=picture.emergency
        )
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
        for label, today in picture.today:
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
