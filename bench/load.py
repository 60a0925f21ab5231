"""Load benchmark: many concurrent inbound calls through the IVR into a queue of operators,
with the platform's process roles as separate processes on PostgreSQL.

* The load generator (this process, on uvloop) runs the PBX simulator: it speaks AMI and
  FastAGI like Asterisk and places the calls. It is one event loop: see the `generator:` line.
* `callcenter serve --role telephony` (a child process) connects to the simulator's AMI,
  serves its FastAGI callers, journals every AMI event in PostgreSQL, runs the ACD.
* `callcenter serve --role api` (another child) serves HTTP; in the middle of the run a
  bounded login storm (`--storm` wrong-password logins, `--storm-concurrency` at once) hits it.

The database is a throw-away one created on the machine's PostgreSQL
(`CALLCENTER_BENCH_POSTGRES_URL`, default postgresql+asyncpg://postgres@127.0.0.1:5432/test
for the server; a new database is created next to it and dropped at the end), migrated and
seeded with the demo data. Callers arrive at `--rate` calls per second (real time) for
`--duration` seconds, never more than `--sessions` at once; each presses 1 (outages) then 3
(power quality), is put through to queue line1 and talks to a simulated PJSIP operator.

Measured:

* agi_p99_ms: the telephony role's own FastAGI turnaround, from receiving Asterisk's reply to
  sending its next command on the channel, read from its `callcenter_agi_turnaround_seconds`
  histogram (scraped from `CALLCENTER_METRICS_PORT` when the calls start and after they
  end; p99 interpolated within a bucket as PromQL's histogram_quantile does). Measured in
  the platform, so the load generator's own lag is not in it.
* storm_p99_ratio: that p99 over the commands sent during the login storm (scrapes just
  before and just after it) over the p99 of those before it.
* calls_per_s: the rate the generator achieved; a `generator:` line says whether it kept up
  with `--rate` (the figures are for the rate placed, not the rate asked, when it did not).
* events_per_s: AMI events journaled in PostgreSQL per second, from the first call until the
  journal caught up with the last event (or the bench stopped waiting: `--catch-up`).
* cpu_ms_per_call: CPU time (user + system) of the telephony process over the same window,
  per call placed.
* lost / dup: every AMI event frame the simulator wrote to the telephony role is recorded;
  those the platform's parser keeps for the journal are the expected rows; after the journal
  caught up they are compared as multisets of content (event name + payload) with the rows
  written during the run.

The last line is

    load: sessions=N calls_per_s=R agi_p99_ms=X events_per_s=E lost=L dup=D \
        cpu_ms_per_call=C storm_p99_ratio=S

(one line; wrapped here).
N: the peak of concurrent FastAGI (IVR) sessions; R: calls placed per second, achieved.
Nothing is asserted: the figures are for reading.

    .venv/bin/python -m bench.load [--rate 50] [--duration 180] [--sessions 1000]
        [--time-scale 0.2] [--operators N] [--storm 60] [--storm-concurrency 30]
        [--catch-up 600] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/load.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import ClusterNode, TelephonyEvent
from callcenter.db.seed import seed_demo
from callcenter.pbx.events import parse_frame
from callcenter.pbx.frames import AmiFrame
from callcenter.sim import agi_client
from callcenter.sim.ami_server import AmiSession
from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallHandle, CallOutcome, Simulator

REPO = Path(__file__).resolve().parent.parent
QUEUE = "line1"
UVICORN_PORT = re.compile(rb"Uvicorn running on http://[^:]+:(\d+)")
TELEPHONY_READY = re.compile(rb"telephony node \S+ \(site \S+\) running")


# --- instrumentation (bench only) -----------------------------------------------------------


@dataclass
class SessionCounter:
    """Concurrent FastAGI sessions on the simulator's side (a counter, nothing per command)."""

    active: int = 0
    peak: int = 0
    sessions: int = 0

    def install(self) -> Callable[[], None]:
        original_run = agi_client.AgiSession.run
        counter = self

        async def run(session: agi_client.AgiSession, target: Any) -> None:
            counter.active += 1
            counter.sessions += 1
            counter.peak = max(counter.peak, counter.active)
            try:
                await original_run(session, target)
            finally:
                counter.active -= 1

        setattr(agi_client.AgiSession, "run", run)  # noqa: B010

        def uninstall() -> None:
            setattr(agi_client.AgiSession, "run", original_run)  # noqa: B010

        return uninstall


TURNAROUND = "callcenter_agi_turnaround_seconds"
_BUCKET = re.compile(rf'^{TURNAROUND}_bucket{{le="([^"]+)"}} (\S+)$', re.MULTILINE)
_COUNT = re.compile(rf"^{TURNAROUND}_count (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Turnaround:
    """The telephony role's own FastAGI turnaround histogram (cumulative, as scraped)."""

    buckets: tuple[tuple[float, float], ...]  # (upper edge, cumulative count), +Inf last
    count: float

    @classmethod
    def parse(cls, text: str) -> Turnaround:
        buckets = tuple(sorted((float(le), float(n)) for le, n in _BUCKET.findall(text)))
        found = _COUNT.search(text)
        return cls(buckets, float(found.group(1)) if found else 0.0)

    def __sub__(self, earlier: Turnaround) -> Turnaround:
        before = dict(earlier.buckets)
        return Turnaround(
            tuple((le, n - before.get(le, 0.0)) for le, n in self.buckets),
            self.count - earlier.count,
        )

    def quantile(self, q: float) -> float:
        """Like PromQL's histogram_quantile: linear within the bucket holding rank q*count;
        in the +Inf bucket, the largest finite edge (a lower bound)."""
        if self.count <= 0:
            return float("nan")
        rank = q * self.count
        lower, below = 0.0, 0.0
        for edge, cumulative in self.buckets:
            if cumulative >= rank:
                if edge == float("inf"):
                    return lower
                share = (rank - below) / (cumulative - below) if cumulative > below else 1.0
                return lower + (edge - lower) * share
            lower, below = edge, cumulative
        return lower


async def scrape_gauge(url: str, name: str) -> float:
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.get(url)
        reply.raise_for_status()
    found = re.search(rf"^{name} (\S+)$", reply.text, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


async def scrape_turnaround(url: str) -> Turnaround:
    async with httpx.AsyncClient(timeout=30) as client:
        reply = await client.get(url)
        reply.raise_for_status()
    return Turnaround.parse(reply.text)


@dataclass
class AmiTap:
    """Every event frame the simulator writes to an AMI client while `on`."""

    frames: list[Any] = field(default_factory=list)  # the simulator's pairs, as sent
    on: bool = False

    def install(self) -> Callable[[], None]:
        original = AmiSession.send_event
        tap = self

        def send_event(session: AmiSession, pairs: Any) -> None:
            before = session.frames_sent
            original(session, pairs)
            if tap.on and session.frames_sent > before:
                # the simulator builds a fresh list per event: keep it, convert after the run
                tap.frames.append(pairs)

        setattr(AmiSession, "send_event", send_event)  # noqa: B010

        def uninstall() -> None:
            setattr(AmiSession, "send_event", original)  # noqa: B010

        return uninstall


def _content(name: str, payload: dict[str, Any]) -> str:
    return json.dumps([name, payload], sort_keys=True, ensure_ascii=False)


def expected_journal(frames: list[Any]) -> Counter[str]:
    """What the journal should hold for these frames, by content (see the module doc)."""
    expected: Counter[str] = Counter()
    now = datetime.now(UTC)
    for pairs in frames:
        frame = AmiFrame(tuple((str(k), str(v)) for k, v in pairs))
        event = parse_frame(frame, now)
        if event is None:
            continue
        expected[_content(event.name[:64], frame.as_dict())] += 1
    return expected


# --- baseline -------------------------------------------------------------------------------


async def echo_baseline(line_bytes: int, round_trips: int) -> list[float]:
    """Round trips of one line over a loopback asyncio echo server (same process)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                writer.write(line)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = b"X" * max(1, line_bytes - 1) + b"\n"
    samples: list[float] = []
    for _ in range(round_trips):
        start = time.perf_counter()
        writer.write(payload)
        await writer.drain()
        await reader.readline()
        samples.append(time.perf_counter() - start)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return samples


def percentile(samples: list[float], pct: float) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=1000, method="inclusive")[round(pct * 10) - 1]


# --- the run --------------------------------------------------------------------------------

POSTGRES_SERVER_URL = os.environ.get(
    "CALLCENTER_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def caller(serial: int) -> CallerScript:
    return CallerScript(
        number=f"+7916{serial:07d}",
        keys=[KeyPress(1.5, "1"), KeyPress(1.5, "3")],
        patience=300.0,
        talk_time=5.0,
        label=f"load{serial}",
    )


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def throwaway_database() -> AsyncIterator[str]:
    admin = make_url(POSTGRES_SERVER_URL).set(drivername="postgresql")
    name = f"cc_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def prepare_database(url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        await seed_demo(create_session_factory(engine), now=datetime.now(UTC), if_empty=True)
    finally:
        await engine.dispose()


async def journal_rows(factory: Any, after_id: int) -> Counter[str]:
    got: Counter[str] = Counter()
    async with factory() as session:
        rows = await session.execute(
            select(TelephonyEvent.name, TelephonyEvent.payload).where(TelephonyEvent.id > after_id)
        )
        for name, payload in rows:
            got[_content(name, dict(payload))] += 1
    return got


async def journal_count(factory: Any, after_id: int) -> int:
    async with factory() as session:
        value = await session.scalar(
            select(func.count()).select_from(TelephonyEvent).where(TelephonyEvent.id > after_id)
        )
    return int(value or 0)


async def max_journal_id(factory: Any) -> int:
    async with factory() as session:
        value = await session.scalar(select(func.max(TelephonyEvent.id)))
    return int(value or 0)


async def node_connected(factory: Any) -> bool:
    async with factory() as session:
        rows = await session.execute(select(ClusterNode.snapshot))
        return any(bool((snap or {}).get("pbx_connected")) for (snap,) in rows)


@contextlib.asynccontextmanager
async def role_process(
    role: str, env: dict[str, str], ready: re.Pattern[bytes], within: float = 120.0
) -> AsyncIterator[tuple[asyncio.subprocess.Process, re.Match[bytes]]]:
    profile = env.get("BENCH_PROFILE") if role == "telephony" else None
    prefix = ["-m", "cProfile", "-o", profile] if profile else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *prefix,
        "-m",
        "callcenter",
        "serve",
        "--role",
        role,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    log: list[bytes] = []
    try:
        async with asyncio.timeout(within):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"the {role} role exited:\n" + b"".join(log).decode())
                log.append(line)
                found = ready.search(line)
                if found:
                    break

        async def drain() -> None:
            assert proc.stdout is not None
            while line := await proc.stdout.readline():
                log.append(line)
                if b"ERROR" in line or b"Traceback" in line:
                    sys.stderr.write(f"[{role}] " + line.decode(errors="replace"))

        drainer = asyncio.create_task(drain())
        yield proc, found
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(60):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        with contextlib.suppress(NameError):
            drainer.cancel()


async def login_storm(base_url: str, total: int, concurrency: int) -> tuple[float, float, int]:
    """`total` wrong-password logins, `concurrency` at a time; (start, end, refused)."""
    slots = asyncio.Semaphore(concurrency)
    refused = 0

    async def one(client: httpx.AsyncClient, i: int) -> None:
        nonlocal refused
        async with slots:
            reply = await client.post(
                "/api/v1/auth/token",
                data={"username": f"operator10{i % 5 + 1}", "password": f"wrong{i}"},
            )
            if reply.status_code in (401, 429):  # wrong password, or throttled
                refused += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        start = time.perf_counter()
        await asyncio.gather(*(one(client, i) for i in range(total)))
        end = time.perf_counter()
    return start, end, refused


async def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    probe, tap = SessionCounter(), AmiTap()
    uninstall = [probe.install(), tap.install()]
    try:
        async with throwaway_database() as url:
            await prepare_database(url)
            with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
                report = await with_roles(url, Path(tmp), args, probe, tap)
    finally:
        for undo in uninstall:
            undo()
    line_bytes = 32  # a typical AGI command (`STREAM FILE ivr/menu-main ""`) or reply line
    report(line_bytes, await echo_baseline(line_bytes, args.echo_round_trips))
    return 0


async def with_roles(
    url: str, tmp: Path, args: argparse.Namespace, probe: SessionCounter, tap: AmiTap
) -> Callable[[int, list[float]], None]:
    agi_port, metrics_port = free_port(), free_port()
    secret = "bench-secret"
    operators = args.operators or max(20, min(args.sessions, int(args.rate * 8)) // 2)
    async with Simulator(
        ami_port=0,
        agi_port=agi_port,
        recordings_dir=tmp / "recordings",
        time_scale=args.time_scale,
        ami_users={"callcenter": secret},
    ) as sim:
        for i in range(operators):
            sim.add_operator(
                Operator(str(2000 + i), technology="PJSIP", answer_after=1.0, talk_time=5.0),
                queues=[QUEUE],
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
        env.update(
            CALLCENTER_DATABASE_URL=url,
            CALLCENTER_AMI_HOST="127.0.0.1",
            CALLCENTER_AMI_PORT=str(sim.ami_port),
            CALLCENTER_AMI_SECRET=secret,
            CALLCENTER_AGI_PORT=str(agi_port),
            CALLCENTER_AGI_MAX_SESSIONS=str(max(1000, args.sessions)),
            CALLCENTER_RECORDINGS_DIR=str(tmp / "recordings"),
            CALLCENTER_FLOWS_DIR=str(REPO / "ivr_flows"),
            CALLCENTER_PROMPTS_CACHE_DIR=str(REPO / "var" / "prompts"),
            CALLCENTER_FLOWS_WATCH="false",
            CALLCENTER_LOG_LEVEL="WARNING",
            CALLCENTER_HTTP_PORT="0",
        )
        if args.profile:
            env["BENCH_PROFILE"] = args.profile
        telephony_env = {
            **env,
            "CALLCENTER_LOG_LEVEL": "INFO",
            "CALLCENTER_METRICS_PORT": str(metrics_port),
        }
        async with (
            role_process("telephony", telephony_env, TELEPHONY_READY) as (telephony, _m),
            role_process("api", {**env, "CALLCENTER_LOG_LEVEL": "INFO"}, UVICORN_PORT) as (
                _api,
                api_port,
            ),
        ):
            engine = create_engine(url)
            factory = create_session_factory(engine)
            try:
                async with asyncio.timeout(60):
                    while not await node_connected(factory):  # noqa: ASYNC110 (another process)
                        await asyncio.sleep(0.2)
                await telephony_ready(f"http://127.0.0.1:{metrics_port}/health/ready")
                return await drive(
                    factory,
                    sim,
                    telephony.pid,
                    f"http://127.0.0.1:{metrics_port}/metrics",
                    f"http://127.0.0.1:{int(api_port.group(1))}",
                    args,
                    probe,
                    tap,
                    operators,
                )
            finally:
                await engine.dispose()


async def telephony_ready(url: str, within: float = 30.0) -> None:
    """Measure only a node that serves the IVR: without its flow (espeak-ng missing, say)
    every caller skips the menu and the figures would be for another, cheaper call."""
    reasons: list[str] = []
    async with httpx.AsyncClient(timeout=5.0) as client:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            reply = await client.get(url)
            if reply.status_code == 200:
                return
            reasons = reply.json().get("reasons", [])
            await asyncio.sleep(0.5)
    raise SystemExit("the telephony role is not ready: " + "; ".join(reasons))


async def drive(
    factory: Any,
    sim: Simulator,
    telephony_pid: int,
    metrics_url: str,
    api_url: str,
    args: argparse.Namespace,
    probe: SessionCounter,
    tap: AmiTap,
    operators: int,
) -> Callable[[int, list[float]], None]:
    """Run the calls; returns the printer of the results, which takes the echo baseline."""
    first_id = await max_journal_id(factory)
    total_calls = max(1, round(args.rate * args.duration))
    slots = asyncio.Semaphore(args.sessions)
    waits: list[asyncio.Task[Any]] = []
    in_flight = 0
    peak_calls = 0
    refused_slots = 0

    async def one_call(handle: CallHandle) -> Any:
        nonlocal in_flight
        try:
            return await handle.wait()
        finally:
            in_flight -= 1
            slots.release()

    async def storm_window() -> tuple[Turnaround, Turnaround, tuple[float, float, int]]:
        # the platform's histogram just before and just after the storm: the "during" window
        before = await scrape_turnaround(metrics_url)
        result = await login_storm(api_url, args.storm, args.storm_concurrency)
        return before, await scrape_turnaround(metrics_url), result

    storm: asyncio.Task[tuple[Turnaround, Turnaround, tuple[float, float, int]]] | None = None
    turnaround0 = await scrape_turnaround(metrics_url)
    tap.on = True
    cpu0, wall0 = process_cpu(telephony_pid), time.perf_counter()
    load_before = os.getloadavg()[0]
    gap = 1.0 / args.rate
    most_late = 0.0
    for serial in range(total_calls):
        due = wall0 + serial * gap
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            most_late = max(most_late, -delay)
        if storm is None and serial >= total_calls // 2 and args.storm > 0:
            storm = asyncio.create_task(storm_window())
        if slots.locked():
            refused_slots += 1
        await slots.acquire()
        in_flight += 1
        peak_calls = max(peak_calls, in_flight)
        handle = await sim.place_inbound_call(caller(serial))
        waits.append(asyncio.create_task(one_call(handle)))
    arrivals_s = time.perf_counter() - wall0
    results = await asyncio.gather(*waits)
    calls_done_s = time.perf_counter() - wall0
    if storm is not None:
        storm_from, storm_to, (storm_start, storm_end, storm_refused) = await storm
    else:
        storm_from = storm_to = turnaround0
        storm_start = storm_end = 0.0
        storm_refused = 0
    tap.on = False
    expected = expected_journal(tap.frames)
    want = sum(expected.values())
    # The journal has caught up when it holds as many rows as were sent, or when the telephony
    # role has nothing pending any more (then what is missing was lost). A role still working
    # through its backlog is waited for while it makes progress (rows or pending change), at
    # most `--catch-up` seconds in all: a long call-record transaction can hold the next
    # journal batch back for many seconds on a starved machine.
    deadline = time.perf_counter() + args.catch_up
    last: tuple[int, float] = (-1, -1.0)
    still = 0.0
    while time.perf_counter() < deadline:
        have = await journal_count(factory, first_id)
        if have >= want:
            break
        pending = await scrape_gauge(metrics_url, "callcenter_journal_pending_events")
        if (have, pending) == last:
            still += 0.5
            if still >= (5.0 if pending == 0 else 60.0):
                break
        else:
            last, still = (have, pending), 0.0
        await asyncio.sleep(0.5)
    wall = time.perf_counter() - wall0
    still_pending = await scrape_gauge(metrics_url, "callcenter_journal_pending_events")
    # what would explain lost or duplicated events: the AMI link dropped (a Pong not read in
    # time on a starved loop), frames shed by a full event buffer, a journal backlog trimmed
    logins = await scrape_gauge(metrics_url, "callcenter_ami_connections_total")
    shed = await scrape_gauge(metrics_url, "callcenter_ami_events_dropped_total")
    trimmed = await scrape_gauge(metrics_url, "callcenter_journal_dropped_events_total")
    cpu = process_cpu(telephony_pid) - cpu0
    load_after = os.getloadavg()[0]
    got = await journal_rows(factory, first_id)
    lost = sum((expected - got).values())
    dup = sum((got - expected).values())
    journaled = sum(got.values())
    outcomes = Counter(r.outcome for r in results)

    trips = await scrape_turnaround(metrics_url) - turnaround0
    agi_p50, agi_p99 = trips.quantile(0.50), trips.quantile(0.99)
    before, during = storm_from - turnaround0, storm_to - storm_from
    before_p99, during_p99 = before.quantile(0.99), during.quantile(0.99)
    storm_ratio = during_p99 / before_p99 if before.count and during.count else float("nan")
    rate = total_calls / arrivals_s if arrivals_s > 0 else float("inf")
    # the generator kept up if it placed the calls at (nearly) the asked rate
    behind = rate < args.rate * 0.97
    cpu_ms = cpu / total_calls * 1e3

    def report(line_bytes: int, echo: list[float]) -> None:
        echo_p50, echo_p99 = percentile(echo, 50), percentile(echo, 99)
        print(
            f"calls: {total_calls} placed in {arrivals_s:.1f} s"
            f" ({rate:.1f}/s, target {args.rate:g}/s), all ended after {calls_done_s:.1f} s,"
            f" the journal waited for until {wall:.1f} s; time_scale {args.time_scale:g},"
            f" {operators} operators; the cap of {args.sessions} calls held back"
            f" {refused_slots} arrivals"
        )
        print(
            "outcomes: "
            + ", ".join(
                f"{o.value}={outcomes.get(o, 0)}" for o in CallOutcome if outcomes.get(o, 0)
            )
        )
        print(
            f"concurrency: peak {probe.peak} IVR (FastAGI) sessions,"
            f" peak {peak_calls} calls in progress"
        )
        print(
            f"generator: asked {args.rate:g} calls/s, placed {rate:.1f}/s; the latest call was"
            f" placed {most_late:.1f} s after its time: "
            + (
                "FELL BEHIND (the figures are for the rate placed, not the rate asked)"
                if behind
                else "kept up"
            )
        )
        past_ivr = total_calls - probe.sessions
        print(
            f"ivr: {probe.sessions} of {total_calls} calls reached the IVR; {past_ivr} did not"
            " (FastAGI not connected within the simulator's 5 s: its dialplan sent the caller"
            " straight to the queue, as Asterisk's fail-over does)"
        )
        print(
            f"agi: {probe.sessions} sessions; the telephony role's own turnaround (its"
            f" {TURNAROUND} histogram, reply to next command) over {trips.count:.0f}"
            f" commands: p50 {agi_p50 * 1e3:.2f} ms, p99 {agi_p99 * 1e3:.2f} ms"
        )
        print(
            f"storm: {args.storm} wrong-password logins ({args.storm_concurrency} at once) to"
            f" the api role took {storm_end - storm_start:.1f} s, {storm_refused} refused;"
            f" AGI turnaround p99 before {before_p99 * 1e3:.2f} ms ({before.count:.0f}),"
            f" during {during_p99 * 1e3:.2f} ms ({during.count:.0f})"
        )
        print(
            f"echo baseline: {len(echo)} round trips of {line_bytes} B lines:"
            f" p50 {echo_p50 * 1e3:.3f} ms, p99 {echo_p99 * 1e3:.3f} ms;"
            f" ratios agi/echo p50 {agi_p50 / echo_p50:.1f}, p99 {agi_p99 / echo_p99:.1f}"
        )
        print(
            f"ami: the simulator wrote {len(tap.frames)} event frames to the telephony role,"
            f" {want} journal-worthy; journaled {journaled}"
            f" ({journaled / wall:.0f}/s over {wall:.1f} s); lost {lost}, dup {dup};"
            f" {still_pending:.0f} still pending in the telephony role when the bench stopped"
            " waiting (counted as lost); the AMI link logged in"
            f" {logins:.0f} time(s) (more than once: it dropped and reconnected), {shed:.0f}"
            f" frames shed by the event buffer, {trimmed:.0f} trimmed from the journal backlog"
        )
        print(
            f"machine: {os.cpu_count()} cores, load average {load_before:.1f} when the calls"
            f" started, {load_after:.1f} after the journal caught up (everything else on the"
            " machine competes with the roles and the generator for those cores)"
        )
        print(
            f"cpu: telephony role {cpu:.1f} s over {wall:.1f} s"
            f" ({cpu / wall * 100:.0f} % of one core), {cpu_ms:.1f} ms per call"
        )
        print(
            f"load: sessions={probe.peak} calls_per_s={rate:.1f} agi_p99_ms={agi_p99 * 1e3:.2f}"
            f" events_per_s={journaled / wall:.0f} lost={lost} dup={dup}"
            f" cpu_ms_per_call={cpu_ms:.1f} storm_p99_ratio={storm_ratio:.2f}"
        )

    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rate", type=float, default=50.0, help="new calls per second")
    parser.add_argument(
        "--duration", type=float, default=180.0, help="seconds of arrivals (default 180)"
    )
    parser.add_argument("--sessions", type=int, default=1000, help="most calls in progress at once")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=0.2,
        help="real seconds per simulated second (prompts, key presses, talk time)",
    )
    parser.add_argument(
        "--operators", type=int, default=0, help="PJSIP operators in line1 (default rate*4)"
    )
    parser.add_argument("--storm", type=int, default=60, help="wrong-password logins")
    parser.add_argument("--storm-concurrency", type=int, default=30)
    parser.add_argument("--echo-round-trips", type=int, default=5000)
    parser.add_argument(
        "--catch-up",
        type=float,
        default=600.0,
        help="longest wait (s) for the journal after the last call ended (default 600)",
    )
    parser.add_argument(
        "--profile", default="", help="write a cProfile of the telephony role to this file"
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.sessions < 1 or args.rate <= 0 or args.time_scale <= 0:
        parser.error("--duration, --sessions, --rate and --time-scale must be positive")
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    with contextlib.suppress(ImportError):  # the generator's loop too: its lag is not wanted
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
