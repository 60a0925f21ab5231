"""Recording search on a large database: p95 latency of the search API's query.

Seeds 100,000 calls with one recording each into a fresh SQLite file (and a throw-away
PostgreSQL database when one is reachable), then runs `recordings_repo.search` with a mix of
the API's filters and access scopes. Each backend's p95 is compared with a primary-key lookup
measured in the same run, so the ratio says how far from "free" a search is on this machine.

The last line is `recordings-search: rows=N p95_ms=X` (X: the slowest backend's p95).

`--with-proposed-indexes` adds PROPOSED_INDEXES (when the schema lacks them) before seeding:
queue, direction and operator searches walk calls through (attribute, started_at) indexes,
and a duration filter is checked inside a (started_at, duration_seconds) index instead of
reading every row.

    .venv/bin/python bench/recordings_search.py [--rows 100000] [--rounds 15] [--no-postgres]
        [--with-proposed-indexes]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import Appeal, Call, Operator, Queue, Recording
from callcenter.db.repositories import recordings as recordings_repo
from callcenter.domain.appeals import AppealChannel
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.recordings import RecordingState
from callcenter.ports.queries import RecordingFilter, RecordingScope

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
QUEUES = {"line1": 1, "line2": 2, "line3": 3}
OPERATORS = 60
CUSTOMERS = 30_000
CHUNK = 5_000
# indexes the search would like beyond the initial migration (see the module's docstring)
PROPOSED_INDEXES = (
    # each replaces the single-column index on its first column
    ("ix_recordings_started_at_duration_seconds", "recordings", "started_at, duration_seconds"),
    ("ix_calls_queue_name_started_at", "calls", "queue_name, started_at"),
    ("ix_calls_operator_id_started_at", "calls", "operator_id, started_at"),
    # new
    ("ix_calls_direction_started_at", "calls", "direction, started_at"),
)
POSTGRES_ADMIN_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True)
class Sample:
    """What the queries look for: values known to exist in the seeded data."""

    phone: str
    operator_id: int
    appeal_id: uuid.UUID
    recording_id: uuid.UUID


def _customer(n: int) -> str:
    return f"+7916{n:07d}"


async def seed(engine: AsyncEngine, rows: int, rng: random.Random) -> Sample:
    """Bulk-insert operators, queues, `rows` calls with a recording each, and some appeals."""
    operators = [
        {"id": i, "extension": f"{100 + i}", "full_name": f"Operator {i}",
         "support_line": 1 + i % 3, "interface": f"PJSIP/{100 + i}", "skills": {},
         "is_active": True, "created_at": NOW}
        for i in range(1, OPERATORS + 1)
    ]  # fmt: skip
    queues = [
        {"name": name, "support_line": line, "strategy": "leastrecent", "description": "",
         "wait_target_seconds": 40, "is_overflow": False}
        for name, line in QUEUES.items()
    ]  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(insert(Operator.__table__), operators)
        await conn.execute(insert(Queue.__table__), queues)
    sample: Sample | None = None
    appeal_no = 0
    for offset in range(0, rows, CHUNK):
        calls: list[dict[str, Any]] = []
        recordings: list[dict[str, Any]] = []
        appeals: list[dict[str, Any]] = []
        for n in range(offset, min(rows, offset + CHUNK)):
            call_id, rec_id = uuid.uuid4(), uuid.uuid4()
            started = NOW - YEAR * rng.random()
            roll = rng.random()
            direction = (
                Direction.INBOUND
                if roll < 0.85
                else Direction.OUTBOUND
                if roll < 0.98
                else Direction.INTERNAL
            )
            customer = _customer(rng.randrange(CUSTOMERS))
            queue = rng.choice(list(QUEUES)) if direction is Direction.INBOUND else None
            operator = rng.randrange(1, OPERATORS + 1) if rng.random() < 0.8 else None
            duration = min(3600.0, rng.expovariate(1 / 180))
            calls.append(
                {
                    "id": call_id,
                    "linkedid": f"bench-{n}",
                    "direction": direction,
                    "caller_number": customer if direction is Direction.INBOUND else "2101",
                    "dialled_number": "88001000000" if direction is Direction.INBOUND else customer,
                    "started_at": started,
                    "answered_at": started + timedelta(seconds=20),
                    "ended_at": started + timedelta(seconds=20 + duration),
                    "ivr_path": [],
                    "ivr_closed": False,
                    "queue_name": queue,
                    "operator_id": operator,
                    "disposition": Disposition.ANSWERED,
                    "transfer_count": 0,
                    "is_queued_callback": False,
                    "priority": 0,
                    "updated_at": started,
                }
            )
            appeal_id = None
            if rng.random() < 0.1:
                appeal_no += 1
                appeal_id = uuid.uuid4()
                appeals.append(
                    {
                        "id": appeal_id,
                        "number": f"B{appeal_no:09d}",
                        "call_id": call_id,
                        "channel": AppealChannel.PHONE,
                        "text": "",
                        "kind": "question",
                        "status": "registered",
                        "created_at": started,
                        "params": {},
                    }
                )
            archived = started < NOW - timedelta(days=30) and rng.random() < 0.5
            recordings.append(
                {
                    "id": rec_id,
                    "call_id": call_id,
                    # half the appeals are linked directly, half only through their call
                    "appeal_id": appeal_id if appeal_id and rng.random() < 0.5 else None,
                    "path": f"{started:%Y/%m/%d}/{call_id}.wav",
                    "state": RecordingState.ARCHIVED if archived else RecordingState.COMPLETE,
                    "started_at": started,
                    "ended_at": started + timedelta(seconds=duration),
                    "duration_seconds": round(duration, 3),
                    "size_bytes": 44 + int(duration * 16000),
                    "sha256": "0" * 64,
                    "archived_at": started + timedelta(days=30) if archived else None,
                    "delete_after": started + timedelta(days=1095),
                    "rule_name": "default",
                }
            )
            if sample is None and appeal_id is not None and operator is not None:
                sample = Sample(customer, operator, appeal_id, rec_id)
        async with engine.begin() as conn:
            await conn.execute(insert(Call.__table__), calls)
            if appeals:
                await conn.execute(insert(Appeal.__table__), appeals)
            await conn.execute(insert(Recording.__table__), recordings)
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    assert sample is not None, "too few rows to find a sample"
    return sample


def queries(sample: Sample) -> dict[str, tuple[RecordingFilter, RecordingScope]]:
    """The mix: each filter of the API alone, some combinations, and the role scopes."""
    everyone = RecordingScope.all()
    week_ago = NOW - timedelta(days=7)
    variants = (sample.phone, sample.phone[1:], "8" + sample.phone[2:], sample.phone[2:])
    return {
        "newest": (RecordingFilter(), everyone),
        "page 20": (RecordingFilter(offset=1000), everyone),
        "last day": (RecordingFilter(since=NOW - timedelta(days=1), until=NOW), everyone),
        "one month": (
            RecordingFilter(since=NOW - timedelta(days=60), until=NOW - timedelta(days=30)),
            everyone,
        ),
        "phone": (RecordingFilter(numbers=variants), everyone),
        "operator": (RecordingFilter(operator_id=sample.operator_id), everyone),
        "queue": (RecordingFilter(queue_name="line3"), everyone),
        "appeal": (RecordingFilter(appeal_id=sample.appeal_id), everyone),
        "outbound": (RecordingFilter(direction=Direction.OUTBOUND), everyone),
        "internal": (RecordingFilter(direction=Direction.INTERNAL), everyone),
        "long calls": (RecordingFilter(min_duration=1800), everyone),
        "duration band": (RecordingFilter(min_duration=60, max_duration=65), everyone),
        "queue+week+long": (
            RecordingFilter(queue_name="line2", since=week_ago, min_duration=300),
            everyone,
        ),
        "archived": (RecordingFilter(state=RecordingState.ARCHIVED), everyone),
        "operator's own": (
            RecordingFilter(),
            RecordingScope(operator_id=sample.operator_id, voicemail_line=1),
        ),
        "operator's own+phone": (
            RecordingFilter(numbers=variants),
            RecordingScope(operator_id=sample.operator_id, voicemail_line=1),
        ),
        "supervisor line 2": (
            RecordingFilter(since=week_ago),
            RecordingScope(support_line=2, voicemail_line=2),
        ),
    }


async def timed(run: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await run()
    return (time.perf_counter() - start) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


async def measure(engine: AsyncEngine, sample: Sample, rounds: int) -> tuple[float, float]:
    """(search p95 ms, primary-key lookup p95 ms), printing each query's p95."""
    sessions = create_session_factory(engine)
    mix = queries(sample)
    per_query: dict[str, list[float]] = {name: [] for name in mix}
    lookups: list[float] = []
    async with sessions() as session:
        for flt, scope in mix.values():  # warm-up: plans and caches
            await recordings_repo.search(session, flt, scope)
        for _ in range(rounds):
            for name, (flt, scope) in mix.items():
                per_query[name].append(await timed(lambda f=flt, s=scope: _search(session, f, s)))
                lookups.append(await timed(lambda: _lookup(session, sample.recording_id)))
    for name, values in per_query.items():
        print(f"  {name:<22} p95 {p95(values):8.2f} ms", file=sys.stderr)
    everything = [v for values in per_query.values() for v in values]
    return p95(everything), p95(lookups)


async def _search(session: AsyncSession, flt: RecordingFilter, scope: RecordingScope) -> None:
    await recordings_repo.search(session, flt, scope)
    session.expunge_all()


async def _lookup(session: AsyncSession, recording_id: uuid.UUID) -> None:
    await recordings_repo.item(session, recording_id)


async def run_backend(
    url: str, rows: int, rounds: int, seed_value: int, proposed_indexes: bool
) -> tuple[float, float]:
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        if proposed_indexes:
            async with engine.begin() as conn:
                for name, table, columns in PROPOSED_INDEXES:
                    await conn.execute(
                        text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
                    )
        started = time.perf_counter()
        sample = await seed(engine, rows, random.Random(seed_value))
        print(f"  seeded {rows} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return await measure(engine, sample, rounds)
    finally:
        await engine.dispose()


async def _pg_admin(sql: str) -> None:
    dsn = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20250601)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--with-proposed-indexes", action="store_true")
    args = parser.parse_args()

    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-recordings-") as tmp:
        print("sqlite:", file=sys.stderr)
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
        results["sqlite"] = await run_backend(
            url, args.rows, args.rounds, args.seed, args.with_proposed_indexes
        )
    if not args.no_postgres:
        name = f"cc_bench_{uuid.uuid4().hex[:12]}"
        try:
            await _pg_admin(f'CREATE DATABASE "{name}"')
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            print(f"postgresql: skipped (not reachable: {exc})", file=sys.stderr)
        else:
            try:
                print("postgresql:", file=sys.stderr)
                url = make_url(POSTGRES_ADMIN_URL).set(database=name)
                results["postgresql"] = await run_backend(
                    url.render_as_string(hide_password=False),
                    args.rows,
                    args.rounds,
                    args.seed,
                    args.with_proposed_indexes,
                )
            finally:
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for backend, (search_p95, lookup_p95) in results.items():
        print(
            f"recordings-search[{backend}]: rows={args.rows} p95_ms={search_p95:.2f} "
            f"baseline_pk_lookup_p95_ms={lookup_p95:.2f} ratio={search_p95 / lookup_p95:.1f}"
        )
    worst = max(search for search, _ in results.values())
    print(f"recordings-search: rows={args.rows} p95_ms={worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
