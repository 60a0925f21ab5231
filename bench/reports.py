"""Reports over a month of one million call records on PostgreSQL: p95 of the summary.

Seeds a throw-away PostgreSQL database with one million calls over October 2026 (a daily
profile, 5 % outbound, about half of the inbound calls closed or dropped in the IVR, the rest
queued on lines 1-3) and the matching operator states (ready, on a call, wrap-up: each
answered call is taken by the line's operator who is free first, so waits, abandons and
occupancy come from a queue, not from a formula). Then it builds the report roll-ups once
(timed and printed apart) and runs, through `ReportService` on the reports' own engine as the
API does, the summary of the month grouped by 15-minute interval and grouped by operator,
alternating, `--rounds` times each. Every run includes the incremental roll-up check. The
baseline is the same 15-minute grouping summed straight from the calls table in the same run.

Last line: `reports: rows=N p95_ms=X` (N call records, X the p95 over both groupings).

    .venv/bin/python -m bench.reports [--calls 1000000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from callcenter.bootstrap.reports import build_reports
from callcenter.config import load_settings
from callcenter.db.migrate import upgrade_to_head
from callcenter.domain.report_metrics import Dimension, Interval

POSTGRES_ADMIN_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
ZONE = ZoneInfo("Europe/Moscow")
MONTH_START = datetime(2026, 10, 1, tzinfo=ZONE)
MONTH_END = datetime(2026, 11, 1, tzinfo=ZONE)
# share of a day's calls in each local hour
HOURLY = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 7, 7, 7, 7, 6, 5, 4, 3, 3, 2, 2, 1]
LINES = {"line1": (1, 65, 0.6), "line2": (2, 34, 0.3), "line3": (3, 13, 0.1)}


def _pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def generate(
    count: int, rng: random.Random
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, list[int]]]:
    """Call rows and operator-state rows for the `calls` and `operator_state_history` COPY."""
    days = (MONTH_END - MONTH_START).days
    hours = rng.choices(range(24), weights=HOURLY, k=count)
    starts = sorted(
        MONTH_START.timestamp() + rng.randrange(days) * 86400 + h * 3600 + rng.random() * 3600
        for h in hours
    )
    operators: dict[str, list[int]] = {}
    next_id = 1
    for queue, (_line, staff, _share) in LINES.items():
        operators[queue] = list(range(next_id, next_id + staff))
        next_id += staff
    free = {q: [(MONTH_START.timestamp(), op) for op in ops] for q, ops in operators.items()}
    for heap in free.values():
        heapq.heapify(heap)
    last_end = {op: MONTH_START.timestamp() for ops in operators.values() for op in ops}
    states: list[tuple[object, ...]] = []
    calls: list[tuple[object, ...]] = []
    queues, shares = list(LINES), [share for _l, _s, share in LINES.values()]
    for n, started in enumerate(starts):
        kind = rng.random()
        ivr = rng.uniform(20, 90)
        row: dict[str, object] = {
            "direction": "inbound",
            "queue_name": None,
            "operator_id": None,
            "wait": None,
            "talk": None,
            "answered": None,
            "ivr_seconds": ivr,
            "ivr_path": ["1", str(rng.randint(1, 4))],
            "transfers": 0,
        }
        if kind < 0.05:
            talk = rng.uniform(15, 60)
            row |= {"direction": "outbound", "ivr_seconds": None, "ivr_path": [], "talk": talk}
            row |= {"answered": started + 5, "disposition": "answered", "end": started + 5 + talk}
        elif kind < 0.45:
            row |= {"disposition": "closed_by_ivr", "end": started + ivr}
        elif kind < 0.50:
            row |= {"disposition": "hung_up_in_ivr", "end": started + ivr}
        else:
            queue = rng.choices(queues, weights=shares)[0]
            joined = started + ivr
            patience = rng.expovariate(1 / 150)
            free_at, op = free[queue][0]
            wait = max(0.0, free_at - joined)
            row["queue_name"] = queue
            if wait > patience:
                row |= {"disposition": "abandoned", "wait": patience, "end": joined + patience}
            else:
                heapq.heappop(free[queue])
                answered = joined + wait
                talk = rng.lognormvariate(math.log(150), 0.5)
                wrap = rng.uniform(20, 90)
                end = answered + talk
                heapq.heappush(free[queue], (end + wrap, op))
                if answered > last_end[op]:
                    states.append((op, "ready", _ts(last_end[op]), _ts(answered)))
                states.append((op, "on_call", _ts(answered), _ts(end)))
                states.append((op, "wrap_up", _ts(end), _ts(end + wrap)))
                last_end[op] = end + wrap
                row |= {"disposition": "answered", "operator_id": op, "wait": wait,
                        "talk": talk, "answered": answered, "end": end,
                        "transfers": 1 if rng.random() < 0.05 else 0}  # fmt: skip
        calls.append(
            (
                uuid.UUID(int=n + 1),
                f"bench.{n}",
                row["direction"],
                f"+7916{n:07d}",
                _ts(started),
                _ts(row["answered"]) if row["answered"] is not None else None,
                _ts(row["end"]),
                json.dumps(row["ivr_path"]),
                row["ivr_seconds"],
                row["disposition"] == "closed_by_ivr",
                row["queue_name"],
                row["operator_id"],
                row["wait"],
                row["talk"],
                row["disposition"],
                row["transfers"],
                False,
                0,
                # the record's last write: when the call ended
                _ts(row["end"]),
            )
        )
    return calls, states, operators


def _ts(seconds: object) -> datetime:
    assert isinstance(seconds, float | int)
    return datetime.fromtimestamp(seconds, UTC)


CALL_COLUMNS = [
    "id", "linkedid", "direction", "caller_number", "started_at", "answered_at", "ended_at",
    "ivr_path", "ivr_seconds", "ivr_closed", "queue_name", "operator_id", "wait_seconds",
    "talk_seconds", "disposition", "transfer_count", "is_queued_callback", "priority",
    "updated_at",
]  # fmt: skip


async def seed(dsn: str, count: int, rng: random.Random) -> None:
    calls, states, operators = generate(count, rng)
    conn = await asyncpg.connect(dsn)
    try:
        # COPY is binary: the json type's binary form is its UTF-8 text
        await conn.set_type_codec(
            "json",
            encoder=str.encode,
            decoder=bytes.decode,
            schema="pg_catalog",
            format="binary",
        )
        for queue, (line, _staff, _share) in LINES.items():
            await conn.execute(
                "INSERT INTO queues (name, support_line, strategy, description, "
                "wait_target_seconds, is_overflow) VALUES ($1, $2, 'leastrecent', '', 40, false)",
                queue,
                line,
            )
            for op in operators[queue]:
                await conn.execute(
                    "INSERT INTO operators (id, extension, full_name, support_line, interface, "
                    "skills, is_active, created_at) VALUES ($1, $2, $3, $4, $5, '{}', true, $6)",
                    op, str(100 + op), f"Оператор {op}", line, f"PJSIP/{100 + op}",
                    datetime.now(UTC),
                )  # fmt: skip
        await conn.copy_records_to_table("calls", records=calls, columns=CALL_COLUMNS)
        await conn.copy_records_to_table(
            "operator_state_history",
            records=states,
            columns=["operator_id", "state", "started_at", "ended_at"],
        )
        await conn.execute("VACUUM ANALYZE calls")
        await conn.execute("VACUUM ANALYZE operator_state_history")
        print(f"  {len(calls)} calls, {len(states)} operator states", file=sys.stderr)
    finally:
        await conn.close()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


async def run(url: str, count: int, rounds: int, seed_value: int) -> None:
    started = time.perf_counter()
    await seed(_pg_dsn(url), count, random.Random(seed_value))
    print(f"  seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    settings = load_settings(database_url=url, local_timezone="Europe/Moscow")
    reports = build_reports(settings)
    service = reports.service
    try:
        started = time.perf_counter()
        await service.summary(MONTH_START, MONTH_END)  # the first refresh builds the roll-ups
        build = time.perf_counter() - started
        print(f"  roll-ups built in {build:.1f} s (once, then incremental)", file=sys.stderr)
        timings: dict[str, list[float]] = {"interval-15m": [], "operator": []}
        cpu: dict[str, list[float]] = {"interval-15m": [], "operator": []}
        rows: dict[str, int] = {}
        for _ in range(rounds):
            for name, group in (
                ("interval-15m", Dimension.INTERVAL),
                ("operator", Dimension.OPERATOR),
            ):
                t0, c0 = time.perf_counter(), time.process_time()
                table = await service.summary(
                    MONTH_START, MONTH_END, group_by=(group,), interval=Interval.MIN15
                )
                timings[name].append((time.perf_counter() - t0) * 1000)
                cpu[name].append((time.process_time() - c0) * 1000)
                rows[name] = len(table.rows)
        assert reports.engine is not None
        baseline: list[float] = []
        async with reports.engine.connect() as conn:
            for _ in range(3):
                t0 = time.perf_counter()
                await conn.execute(
                    text(
                        "SELECT floor(extract(epoch FROM started_at) / 900), count(*), "
                        "count(*) FILTER (WHERE disposition = 'answered'), "
                        "count(*) FILTER (WHERE disposition = 'abandoned'), "
                        "sum(wait_seconds) FILTER (WHERE disposition = 'answered'), "
                        "sum(talk_seconds) FROM calls WHERE started_at >= :a AND started_at < :b "
                        "GROUP BY 1"
                    ),
                    {"a": MONTH_START, "b": MONTH_END},
                )
                baseline.append((time.perf_counter() - t0) * 1000)
        table = await service.summary(MONTH_START, MONTH_END)
        total = table.rows[0]
        print(
            f"  month: calls={total['calls']} offered={total['offered']} "
            f"answered={total['answered']} SL={total['service_level']} "
            f"ASA={total['asa_seconds']} s AHT={total['aht_seconds']} s "
            f"occupancy={total['occupancy']}",
            file=sys.stderr,
        )
        everything: list[float] = []
        for name, values in timings.items():
            everything += values
            print(
                f"reports[{name}]: groups={rows[name]} p50_ms={statistics.median(values):.1f} "
                f"p95_ms={p95(values):.1f} "
                f"python_cpu_p50_ms={statistics.median(cpu[name]):.1f}"
            )
        print(
            f"reports[baseline: raw calls scan by 15 min]: p50_ms={statistics.median(baseline):.1f}"
            f" ratio_p95_to_baseline={p95(everything) / statistics.median(baseline):.2f}"
        )
        print(f"  load average during the run: {os.getloadavg()[0]:.1f}", file=sys.stderr)
        print(f"reports: rows={count} p95_ms={p95(everything):.1f}")
    finally:
        await reports.stop()


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_pg_dsn(POSTGRES_ADMIN_URL), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261001)
    args = parser.parse_args()
    name = f"cc_bench_reports_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        await asyncio.to_thread(upgrade_to_head, url)
        await run(url, args.calls, args.rounds, args.seed)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
