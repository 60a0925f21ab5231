"""SIP benchmark: SIPp callers at a set rate through a real Asterisk 22 and the platform.

Asterisk runs the rendered `asterisk_conf/` (plus the test trunk of tests/support/real_asterisk.py);
the platform is built from Settings as `callcenter serve` builds it, on a throw-away PostgreSQL
database (migrated, demo data seeded), with its real AMI client and FastAGI server. One SIPp
process places `--calls` calls at `--rate` calls per second on the trunk; every caller hears
the greeting and the recording notice, presses 4 (other questions) then 1 (contacts) with
RFC 4733 DTMF, hears the offices' hours and hangs up.

Measured:

* calls: the calls SIPp placed; rate: calls per second achieved (SIPp's own count over the
  time from the first to the last call placed);
* records: call records the platform wrote for them (ended, dialled to the 8-800 number),
  after the journal is flushed; lost: placed calls without a record;
* agi_p99_ms: the platform's own time from reading Asterisk's reply to one AGI command to
  writing its next command (the transport's `next_line` and `send` are timed in this process
  only), 99th percentile over every such gap of every session.

The last line is

    sip: calls=N rate=R records=M lost=L agi_p99_ms=X

Needs `asterisk` (with chan_pjsip), `sipp` and PostgreSQL (CALLCENTER_TEST_POSTGRES_URL,
default postgresql+asyncpg://postgres@127.0.0.1:5432/test); without them it says why and
exits 0. Run it under `flock /tmp/asterisk.lock` (one Asterisk per machine):

    .venv/bin/python -m bench.sip [--calls 300] [--rate 5]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # `python bench/sip.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from callcenter.asterisk.agi_transport import HANGUP_LINE, AgiTransport
from callcenter.bootstrap import build_platform
from callcenter.config import load_settings
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import Call
from callcenter.db.seed import seed_demo
from tests.support.paths import REPO_ROOT
from tests.support.real_asterisk import (
    CALLER_IP,
    SIPP,
    Keys,
    Pause,
    RealAsterisk,
    Speak,
    caller_scenario,
    free_port,
    missing_for_sip,
    start_asterisk,
)

POSTGRES_ADMIN_URL = os.environ.get(
    "CALLCENTER_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
INTRO = 10.0  # greeting + recording notice, said in full
CALLER_STEPS = [Speak(), Pause(INTRO + 2), Keys("4"), Pause(2), Keys("1")]
HEAR_ANSWER = 6.0  # seconds of the answer heard before hanging up

gaps_ms: list[float] = []


def _instrument_agi() -> None:
    """Time the platform between a reply read and the next command written (this process)."""
    next_line = AgiTransport.next_line
    send = AgiTransport.send
    replied: dict[int, float] = {}

    async def timed_next_line(self: AgiTransport) -> str | None:
        line = await next_line(self)
        if line is not None and line != HANGUP_LINE:
            replied[id(self)] = time.perf_counter()
        return line

    async def timed_send(self: AgiTransport, data: bytes) -> None:
        at = replied.pop(id(self), None)
        if at is not None:
            gaps_ms.append((time.perf_counter() - at) * 1000)
        await send(self, data)

    AgiTransport.next_line = timed_next_line  # type: ignore[method-assign]
    AgiTransport.send = timed_send  # type: ignore[method-assign]


async def _pg_admin(sql: str) -> None:
    dsn = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _seconds(elapsed: str) -> float:
    """SIPp's `HH:MM:SS:uuuuuu` (or `HH:MM:SS`) as seconds."""
    parts = elapsed.strip().split(":")
    seconds = int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])
    return seconds + (float(f"0.{parts[3]}") if len(parts) > 3 else 0.0)


def _sipp_stats(path: Path) -> tuple[int, int, float]:
    """(calls created, successful, seconds until the last call was created) from SIPp's
    periodic statistics (-trace_stat, one row a second)."""
    with path.open(newline="") as stats:
        rows = list(csv.DictReader(stats, delimiter=";"))
    last = rows[-1]
    created = int(last["TotalCallCreated"])
    placing = next(
        _seconds(row["ElapsedTime(C)"]) for row in rows if int(row["TotalCallCreated"]) >= created
    )
    return created, int(last["SuccessfulCall(C)"]), placing


async def run(calls: int, rate: float, work: Path, db_url: str) -> str:
    await asyncio.to_thread(upgrade_to_head, db_url)
    ami_secret = secrets.token_urlsafe(18)
    agi_port, ami_port = free_port(), free_port()
    asterisk = await asyncio.to_thread(
        start_asterisk,
        work / "asterisk",
        agi_port=agi_port,
        ami_port=ami_port,
        ami_secret=ami_secret,
        recordings_dir=work / "recordings",
    )
    try:
        settings = load_settings(
            database_url=db_url,
            recordings_dir=work / "recordings",
            flows_dir=REPO_ROOT / "ivr_flows",
            ami_host="127.0.0.1",
            ami_port=ami_port,
            ami_secret=ami_secret,
            agi_port=agi_port,
            demo_traffic=False,
            flows_watch=False,
            log_level="WARNING",
        )
        platform = build_platform(settings)
        await seed_demo(platform.session_factory, now=datetime.now(UTC), if_empty=True)
        await platform.start()
        try:
            await platform.pbx.client.wait_connected(20)
            started_at = datetime.now(UTC)
            placed, succeeded, elapsed = await _place_calls(asterisk, work, calls, rate)
            assert platform.calls is not None
            async with asyncio.timeout(60):
                while True:
                    await platform.calls.flush()
                    async with platform.session_factory() as session:
                        records = await session.scalar(
                            select(func.count())
                            .select_from(Call)
                            .where(
                                Call.started_at >= started_at,
                                Call.dialled_number == settings.inbound_number,
                                Call.ended_at.is_not(None),
                            )
                        )
                    if (records or 0) >= placed:
                        break
                    await asyncio.sleep(0.5)
        except TimeoutError:
            pass  # some records never came: counted as lost below
        finally:
            await platform.stop()
    finally:
        await asyncio.to_thread(asterisk.stop)
    records = records or 0
    achieved = placed / elapsed if elapsed > 0 else 0.0
    p99 = statistics.quantiles(gaps_ms, n=100)[98] if len(gaps_ms) >= 2 else 0.0
    print(
        f"sipp: {succeeded} of {placed} calls completed their scenario; "
        f"{len(gaps_ms)} AGI gaps measured",
        file=sys.stderr,
    )
    return (
        f"sip: calls={placed} rate={achieved:.2f} records={records} "
        f"lost={max(0, placed - records)} agi_p99_ms={p99:.1f}"
    )


async def _place_calls(
    asterisk: RealAsterisk, work: Path, calls: int, rate: float
) -> tuple[int, int, float]:
    assert SIPP is not None
    scenario = work / "callers.xml"
    scenario.write_text(
        caller_scenario(
            "+7916[call_number]", CALLER_STEPS, hang_up_after=HEAR_ANSWER, work=work, name="caller"
        ),
        encoding="utf-8",
    )
    stats = work / "callers-stats.csv"
    process = await asyncio.create_subprocess_exec(
        SIPP,
        "-sf",
        str(scenario),
        "-i",
        CALLER_IP,
        "-p",
        str(free_port(socket.SOCK_DGRAM, CALLER_IP)),
        "-mi",
        CALLER_IP,
        "-s",
        asterisk.values.inbound_number,
        "-r",
        str(rate),
        "-m",
        str(calls),
        "-l",
        str(max(10, int(rate * 60))),
        "-nostdin",
        "-trace_stat",
        "-stf",
        str(stats),
        "-fd",
        "1",
        "-trace_err",
        "-error_file",
        str(work / "callers-errors.log"),
        "-timeout",
        f"{int(calls / rate + 180)}s",
        f"127.0.0.1:{asterisk.sip_port}",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    if not stats.exists():
        raise RuntimeError(f"SIPp wrote no statistics: {stderr.decode(errors='replace')[-500:]}")
    return _sipp_stats(stats)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    missing = missing_for_sip()
    if missing is not None:
        print(f"sip: skipped ({missing})")
        return 0
    name = f"cc_bench_sip_{uuid.uuid4().hex[:12]}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"sip: skipped (PostgreSQL not reachable: {exc})")
        return 0
    _instrument_agi()
    try:
        url = make_url(POSTGRES_ADMIN_URL).set(database=name)
        with tempfile.TemporaryDirectory(prefix="bench-sip-") as tmp:
            line = await run(
                args.calls, args.rate, Path(tmp), url.render_as_string(hide_password=False)
            )
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
