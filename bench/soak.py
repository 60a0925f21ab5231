"""Soak run: the platform on PostgreSQL under steady simulated traffic for a set time.

`make soak` (`python -m bench.soak`) creates a throw-away PostgreSQL database on the server at
SOAK_POSTGRES_URL (default: CALLCENTER_TEST_POSTGRES_URL, else the machine's local server),
migrates and seeds it, then starts two processes:

* the load generator (`python -m bench.soak generate`, its own process): the PBX simulator
  speaking AMI and FastAGI, with PJSIP operators in line1, placing inbound calls at a steady
  SOAK_RATE per second (real time) for SOAK_MINUTES; each caller goes through the IVR (keys
  1, 3) to line1 and talks to an operator (the callers of `bench.load`, unique numbers);
* the platform: `callcenter serve` (SOAK_SERVE_ARGS, default `serve`: on PostgreSQL the
  telephony and API roles as two supervised processes) with CALLCENTER_AMI_HOST pointing at
  the generator, so the built-in simulator and its demo traffic are not started at all. The
  soak reads the telephony role's own /metrics (CALLCENTER_METRICS_PORT) to see its
  AMI link come up and to count events.

Every SOAK_SAMPLE_SECONDS (default 5) it samples the resident memory (/proc/PID/status VmRSS)
and open file descriptors (/proc/PID/fd) of the whole process tree of the serve process (the
serve process and every descendant: with several roles each role's process is counted), and
reports their sums. After the traffic it waits for the calls to end and for their records
(rows of `calls` with an end time, matched by linkedid) to be written, then stops the
platform and drops the database.

Warm-up is the first SOAK_WARMUP_MINUTES (default 10) of the run, at most half of it: the
de-duplication caches remember keys for 5 minutes (README "What the memory holds"), so they
are full, and memory should be flat, some 5-6 minutes after the traffic starts. The last line
is

    soak: minutes=M calls=N lost=L rss_start_mb=A rss_end_mb=B
        rss_growth_after_warmup_pct=G fds_growth=F

(one line; wrapped here).

N: calls placed; L: placed calls with no ended record in the database; A: RSS once the
platform is connected, before traffic; B: RSS at the end of the traffic (before the platform
is stopped); G: growth of RSS from the end of warm-up to the end, in percent of the warm-up
value; F: open descriptors at the end minus at the end of warm-up. Nothing is asserted.

Settings (environment): SOAK_MINUTES (60), SOAK_RATE (2 calls/s), SOAK_TIME_SCALE (0.25 real
seconds per simulated second: prompts, key presses and talk run four times faster),
SOAK_OPERATORS (40), SOAK_SAMPLE_SECONDS (5), SOAK_WARMUP_MINUTES (10), SOAK_CONNECT_SECONDS
(300: how long the platform may take to start and log in to the generator's AMI),
SOAK_SERVE_ARGS (`serve`), SOAK_POSTGRES_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

if __package__ in (None, ""):  # `python bench/soak.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
QUEUE = "line1"
AMI_USER = "callcenter"
AMI_SECRET = "soak-secret"


# --- processes and their resources ------------------------------------------------------------


def _children_index() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process on the machine (from /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after the last ")"
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (a role's worker processes included)."""
    children = _children_index()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


@dataclass
class Sample:
    at: float  # seconds since the traffic started (negative: before)
    rss_kb: int
    fds: int
    pids: int


@dataclass
class Sampler:
    """Samples the summed RSS and descriptors of the processes `pids()` names."""

    pids: Callable[[], list[int]]
    samples: list[Sample] = field(default_factory=list)

    def sample(self, at: float) -> Sample:
        pids = self.pids()
        sample = Sample(at, sum(rss_kb(p) for p in pids), sum(open_fds(p) for p in pids), len(pids))
        self.samples.append(sample)
        return sample

    def at_or_after(self, at: float) -> Sample:
        for sample in self.samples:
            if sample.at >= at:
                return sample
        return self.samples[-1]


# --- the database -----------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def ended_records(url: str, linkedids: list[str]) -> int:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        value = await conn.fetchval(
            "SELECT count(*) FROM calls WHERE linkedid = ANY($1::text[]) AND ended_at IS NOT NULL",
            linkedids,
        )
    finally:
        await conn.close()
    return int(value or 0)


@contextlib.contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    name = f"cc_soak_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- the load generator (its own process) -----------------------------------------------------


async def generate(args: argparse.Namespace) -> int:
    """Simulator + steady callers; protocol on stdio: prints `ami-port N`, waits for `go`,
    places calls for `--seconds`, waits for them to end, writes the linkedids to `--out`."""
    import logging

    from bench.load import caller
    from callcenter.sim.parties import Operator
    from callcenter.sim.simulator import CallHandle, Simulator

    logging.basicConfig(level=logging.ERROR, format="generator %(levelname)s %(name)s: %(message)s")
    async with Simulator(
        ami_host="127.0.0.1",
        ami_port=0,
        agi_host="127.0.0.1",
        agi_port=args.agi_port,
        recordings_dir=Path(args.recordings),
        time_scale=args.time_scale,
        seed=1,
        ami_users={AMI_USER: AMI_SECRET},
    ) as sim:
        for i in range(args.operators):
            sim.add_operator(
                Operator(str(2000 + i), technology="PJSIP", answer_after=1.0, talk_time=5.0),
                queues=[QUEUE],
            )
        print(f"ami-port {sim.ami_port}", flush=True)
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line.strip() != "go":
            return 1
        handles: list[CallHandle] = []
        waits: list[asyncio.Task[object]] = []
        started = time.perf_counter()
        gap = 1.0 / args.rate
        serial = 0
        while (due := started + serial * gap) < started + args.seconds:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            handle = await sim.place_inbound_call(caller(serial))
            handles.append(handle)
            waits.append(asyncio.create_task(handle.wait()))
            serial += 1
        placed_s = time.perf_counter() - started
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.finish_within):
                await asyncio.gather(*waits, return_exceptions=True)
        unfinished = sum(1 for task in waits if not task.done())
        Path(args.out).write_text(json.dumps([h.linkedid for h in handles]))  # noqa: ASYNC240
        print(
            f"placed {len(handles)} in {placed_s:.0f} s; {unfinished} not ended by the simulator",
            flush=True,
        )
        for task in waits:
            task.cancel()
    return 0


# --- the run ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def metric_value(text: str, name: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


def platform_figures(text: str, calls: int) -> str:
    """A few of the platform's own counters, to read beside the memory figures."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + float(sample.value)

    def get(name: str) -> float:
        return totals.get(name, 0.0)

    events = get("callcenter_ami_events_total")
    return (
        f"platform: {events:.0f} AMI events ({events / max(1, calls):.0f} per call),"
        f" {get('callcenter_ami_events_dropped_total'):.0f} dropped,"
        f" {get('callcenter_agi_sessions_total'):.0f} FastAGI sessions"
        f" ({get('callcenter_agi_sessions_refused_total'):.0f} refused,"
        f" {get('callcenter_agi_errors_total'):.0f} errors),"
        f" AMI logins {get('callcenter_ami_connections_total'):.0f},"
        f" journal write failures {get('callcenter_journal_write_failures_total'):.0f}"
    )


def journal_backlog(http: httpx.Client) -> tuple[float, float]:
    """The telephony role's journal: events waiting to be written, and the oldest one's age."""
    with contextlib.suppress(httpx.HTTPError):
        text = http.get("/metrics").text
        return (
            metric_value(text, "callcenter_journal_pending_events") or 0.0,
            metric_value(text, "callcenter_journal_lag_seconds") or 0.0,
        )
    return 0.0, 0.0


def wait_connected(http: httpx.Client, serve: subprocess.Popen[bytes], within: float) -> None:
    """Until the platform answers /metrics with its AMI link up."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise SystemExit(f"soak: callcenter serve exited with {serve.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            reply = http.get("/metrics")
            if reply.status_code == 200 and metric_value(reply.text, "callcenter_ami_connected"):
                return
        time.sleep(0.5)
    raise SystemExit("soak: the platform did not connect to the simulator's AMI in time")


def stop(proc: subprocess.Popen[Any], within: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(within)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(minutes: float) -> int:
    rate = _env_float("SOAK_RATE", 2.0)
    time_scale = _env_float("SOAK_TIME_SCALE", 0.25)
    operators = int(_env_float("SOAK_OPERATORS", 40))
    every = _env_float("SOAK_SAMPLE_SECONDS", 5.0)
    serve_args = shlex.split(os.environ.get("SOAK_SERVE_ARGS", "serve"))
    admin_url = os.environ.get("SOAK_POSTGRES_URL") or os.environ.get(
        "CALLCENTER_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    seconds = minutes * 60.0
    warmup = min(_env_float("SOAK_WARMUP_MINUTES", 10.0) * 60.0, seconds / 2)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp, throwaway_database(admin_url) as url:
        agi_port, http_port, node_port = free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
        env.update(
            CALLCENTER_DATABASE_URL=url,
            CALLCENTER_AMI_HOST="127.0.0.1",
            CALLCENTER_AMI_USERNAME=AMI_USER,
            CALLCENTER_AMI_SECRET=AMI_SECRET,
            CALLCENTER_AGI_HOST="127.0.0.1",
            CALLCENTER_AGI_PORT=str(agi_port),
            CALLCENTER_HTTP_HOST="127.0.0.1",
            CALLCENTER_HTTP_PORT=str(http_port),
            CALLCENTER_METRICS_PORT=str(node_port),
            CALLCENTER_RECORDINGS_DIR=str(Path(tmp) / "recordings"),
            CALLCENTER_FLOWS_DIR=str(REPO / "ivr_flows"),
            CALLCENTER_PROMPTS_CACHE_DIR=str(REPO / "var" / "prompts"),
            CALLCENTER_LOG_LEVEL="WARNING",
            CALLCENTER_NOTIFY_WORKER="false",
        )
        for step in (["migrate"], ["seed-demo", "--if-empty"]):
            subprocess.run(
                [python, "-m", "callcenter", *step],
                env=env,
                cwd=tmp,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        linkedids_file = Path(tmp) / "linkedids.json"
        generator = subprocess.Popen(
            [
                python, "-m", "bench.soak", "generate",
                "--agi-port", str(agi_port),
                "--recordings", str(Path(tmp) / "recordings"),
                "--rate", str(rate),
                "--seconds", str(seconds),
                "--time-scale", str(time_scale),
                "--operators", str(operators),
                "--out", str(linkedids_file),
            ],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert generator.stdin is not None
        assert generator.stdout is not None
        first = generator.stdout.readline().split()
        if first[:1] != ["ami-port"]:
            stop(generator)
            raise SystemExit("soak: the load generator did not start")
        env["CALLCENTER_AMI_PORT"] = first[1]
        serve_log: IO[bytes] = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115
        serve = subprocess.Popen(
            [python, "-m", "callcenter", *serve_args],
            env=env,
            cwd=tmp,
            stdout=serve_log,
            stderr=subprocess.STDOUT,
        )
        sampler = Sampler(lambda: process_tree(serve.pid))
        try:
            # the telephony role's own listener: its /metrics has the AMI link and events
            with httpx.Client(base_url=f"http://127.0.0.1:{node_port}", timeout=10) as http:
                try:
                    wait_connected(http, serve, within=_env_float("SOAK_CONNECT_SECONDS", 300.0))
                except SystemExit:
                    serve_log.flush()
                    tail = (Path(tmp) / "serve.log").read_text(errors="replace").splitlines()
                    print("\n".join(["serve log (last lines):", *tail[-20:]]), flush=True)
                    raise
                start = sampler.sample(-0.0)
                print(
                    f"soak: platform pid {serve.pid} connected; {start.pids} process(es),"
                    f" rss {start.rss_kb / 1024:.1f} MB, {start.fds} fds;"
                    f" {rate:g} calls/s for {minutes:g} min (warm-up {warmup:.0f} s)",
                    flush=True,
                )
                generator.stdin.write("go\n")
                generator.stdin.flush()
                t0 = time.monotonic()
                next_report = 60.0
                backlog_max = 0.0
                while (elapsed := time.monotonic() - t0) < seconds:
                    time.sleep(min(every, max(0.0, seconds - elapsed)))
                    sample = sampler.sample(time.monotonic() - t0)
                    if serve.poll() is not None:
                        raise SystemExit(f"soak: callcenter serve exited with {serve.returncode}")
                    if sample.at >= next_report:
                        next_report += 60.0
                        pending, lag = journal_backlog(http)
                        backlog_max = max(backlog_max, pending)
                        print(
                            f"  {sample.at / 60:5.1f} min: rss {sample.rss_kb / 1024:.1f} MB,"
                            f" fds {sample.fds}, processes {sample.pids},"
                            f" journal backlog {pending:.0f} events ({lag:.0f} s)",
                            flush=True,
                        )
                end = sampler.sample(time.monotonic() - t0)
                after_warmup = sampler.at_or_after(warmup)
                # the second half alone: growth there is a leak, not a cache still filling
                half = sampler.at_or_after(seconds / 2)
                # the callers still in a call finish; then their records must be written
                summary = generator.stdout.readline().strip()
                generator.wait(60)
                print(f"generator: {summary}", flush=True)
                linkedids: list[str] = json.loads(linkedids_file.read_text())
                recorded = 0
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    recorded = asyncio.run(ended_records(url, linkedids))
                    if recorded >= len(linkedids):
                        break
                    time.sleep(2)
                print(platform_figures(http.get("/metrics").text, len(linkedids)), flush=True)
        finally:
            stop(serve)
            stop(generator)
            serve_log.close()
            errors = [
                line
                for line in (Path(tmp) / "serve.log").read_text(errors="replace").splitlines()
                if " ERROR " in line or "Traceback" in line
            ]
            if errors:
                print(f"serve log: {len(errors)} error lines, first: {errors[0][:200]}")
    growth = (end.rss_kb - after_warmup.rss_kb) / after_warmup.rss_kb * 100.0
    # events waiting for the journal hold their frames: a database slower than the traffic
    # (a shared machine) shows up as memory growth that is not a leak
    print(f"journal backlog at most {backlog_max:.0f} events (per-minute samples)")
    print(
        f"rss growth in the second half (from {half.at / 60:.0f} min):"
        f" {(end.rss_kb - half.rss_kb) / half.rss_kb * 100.0:.1f} %"
    )
    print(
        f"soak: minutes={minutes:g} calls={len(linkedids)} lost={len(linkedids) - recorded}"
        f" rss_start_mb={start.rss_kb / 1024:.1f} rss_end_mb={end.rss_kb / 1024:.1f}"
        f" rss_growth_after_warmup_pct={growth:.1f} fds_growth={end.fds - after_warmup.fds}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["generate"]:
        parser = argparse.ArgumentParser(prog="python -m bench.soak generate")
        parser.add_argument("--agi-port", type=int, required=True)
        parser.add_argument("--recordings", required=True)
        parser.add_argument("--rate", type=float, required=True)
        parser.add_argument("--seconds", type=float, required=True)
        parser.add_argument("--time-scale", type=float, required=True)
        parser.add_argument("--operators", type=int, required=True)
        parser.add_argument("--out", required=True)
        parser.add_argument("--finish-within", type=float, default=300.0)
        return asyncio.run(generate(parser.parse_args(argv[1:])))
    minutes = _env_float("SOAK_MINUTES", 60.0)
    if minutes <= 0:
        raise SystemExit("SOAK_MINUTES must be positive")
    return run(minutes)


if __name__ == "__main__":
    sys.exit(main())
