"""The report against an independent count: a simulated morning of 8-800 traffic, counted by
the simulator itself (who joined a queue, who was answered and after how long, who gave up),
must give the same offered, answered and abandoned calls, service level and average speed of
answer as the report built from the platform's call records.

The platform side is the real chain: the simulator speaks AMI over a socket to the AMI
client, whose events become call records (CallEvents), rolled up and summed by the reports.
No FastAGI server is listening, so the dialplan's fail-over sends every caller straight to
queue line1 (the IVR is not what is counted here).

Time: the simulator runs `TIME_SCALE` real seconds per simulated second, starting at 08:00 in
Moscow on 23.11.2026, and the AMI client reads the simulated clock, so the call records carry
simulated times and waits. Their waits may differ from the simulator's by what AMI transport
and event handling take (a few real milliseconds, divided by the time scale): `SLACK`
simulated seconds. Counts must agree exactly; a call whose wait is within `SLACK` of the 40 s
threshold may fall on either side, and the test says how many there were.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.asterisk.ami import AmiClient
from callcenter.asterisk.ami_backoff import Backoff
from callcenter.calls.records import CallEvents
from callcenter.db.base import Base
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.models.calls import Call
from callcenter.db.reports import SqlReportStore
from callcenter.domain.calls import CallTracker
from callcenter.reports.service import ReportService
from callcenter.sim.scenarios import parse_scenario
from callcenter.sim.simulator import CallOutcome, Simulator

TIME_SCALE = 0.04  # 25 simulated seconds per real second
SLACK = 4.0  # simulated seconds (160 real milliseconds on a loaded machine)
MORNING = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
THRESHOLD = 40.0

SCENARIO = """
name: report morning
seed: 23
duration: 1200
arrivals: {process: poisson, per_minute: 1.8}
callers:
  - {name: waits, weight: 5, patience: {mean: 35, spread: 20}, talk_time: {mean: 50, spread: 30}}
  - {name: impatient, weight: 1, patience: 4, talk_time: 20}
operators:
  - {queue: line1, count: 2, first_extension: 101, answer_after: 1, talk_time: 300}
"""

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(migrated_sqlite_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(migrated_sqlite_url)
    try:
        yield create_session_factory(engine)
    finally:
        async with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(sa.delete(table))
        await engine.dispose()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.slow
async def test_the_report_agrees_with_the_simulators_own_count(
    sessions: Sessions, tmp_path: Path
) -> None:
    sim = Simulator(
        recordings_dir=tmp_path / "sim",
        time_scale=TIME_SCALE,
        agi_port=closed_port(),  # nobody listens: the dialplan's fail-over to line1
        epoch=MORNING.timestamp(),
        seed=5,
        record_audio=False,
    )
    calls = CallEvents(
        sessions,
        tracker=CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"}),
    )
    async with sim:

        def clock() -> datetime:
            return datetime.fromtimestamp(sim.clock.epoch(), UTC)

        client = AmiClient(
            "127.0.0.1",
            sim.ami_port,
            "callcenter",
            "callcenter",
            calls,
            action_timeout=5.0,
            backoff=Backoff(base=0.01, factor=2.0, max_delay=0.05, jitter=0.0),
            clock=clock,
        )
        await calls.start()
        await client.start()
        try:
            await client.wait_connected(10)
            summary = await sim.run_scenario(parse_scenario(SCENARIO))
            await client.drain(10)
            linkedids = {r.linkedid for r in summary.results}
            async with asyncio.timeout(30):
                while True:
                    await calls.flush()
                    async with sessions() as session:
                        ended = await session.scalar(
                            sa.select(sa.func.count()).where(
                                Call.linkedid.in_(linkedids), Call.ended_at.is_not(None)
                            )
                        )
                    if ended == len(linkedids):
                        break
                    await asyncio.sleep(0.05)
        finally:
            await client.close()
            await calls.stop()

    # the simulator's own tally
    results = summary.results
    queued = [
        r
        for r in results
        if r.outcome in (CallOutcome.ANSWERED, CallOutcome.ABANDONED, CallOutcome.UNANSWERED)
    ]
    answered = [r for r in results if r.outcome is CallOutcome.ANSWERED]
    abandoned = [r for r in results if r.outcome is CallOutcome.ABANDONED]
    waits = [r.wait_seconds or 0.0 for r in answered]
    within = sum(1 for w in waits if w <= THRESHOLD)
    near = sum(1 for w in waits if abs(w - THRESHOLD) <= SLACK)
    assert len(results) >= 30
    assert answered
    assert abandoned  # the scenario is busy enough for both outcomes

    reports = ReportService(
        SqlReportStore(sessions, utc_offset_seconds=3 * 3600),
        timezone="Europe/Moscow",
        clock=lambda: MORNING + timedelta(hours=6),
        refresh_every=0.0,
    )
    day_start = MORNING - timedelta(hours=8)
    (row,) = (await reports.summary(day_start, day_start + timedelta(days=1))).rows

    assert row["calls"] == len(results)
    assert row["offered"] == len(queued)
    assert row["answered"] == len(answered)
    assert row["abandoned"] == len(abandoned)
    assert abs(int(str(row["answered_within_sla"])) - within) <= near
    if near == 0:
        assert row["service_level"] == pytest.approx(within / len(queued), abs=1e-4)
    assert row["asa_seconds"] == pytest.approx(sum(waits) / len(waits), abs=SLACK)
    assert row["abandon_rate"] == pytest.approx(len(abandoned) / len(queued), abs=1e-4)
