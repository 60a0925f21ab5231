"""Load benchmark: many concurrent inbound calls through the IVR into a queue of operators.

The whole platform is built from Settings (`build_platform`) on a throw-away SQLite database
(migrated, demo data seeded) with the built-in PBX simulator, the real FastAGI server on a free
port and the real AMI client, all in this one process and event loop (as `callcenter serve`
runs in demo mode). Callers arrive at `--rate` calls per second (real time) until `--calls`
calls were placed, never more than `--sessions` at once; each presses 1 (outages) then 3
(power quality), is put through to queue line1 and talks to a simulated PJSIP operator.

Measured (all in real seconds unless said otherwise):

* AGI round trip: on the simulator's side of every FastAGI session, the time from writing
  the reply to one command to receiving the platform's next command (the simulator's
  `AgiSession.handle` is wrapped here, in the bench only; nothing else changes). It covers
  the loopback hop both ways plus everything the platform's IVR does between two commands,
  under the load of the whole process. The first command of a session (after the
  environment) and commands after a hangup are not counted.
* Baseline: a bare asyncio TCP echo server and client on 127.0.0.1 in the same process, after
  the load, exchanging lines of the median AGI command size; ratios are AGI / echo.
* AMI events/s: events the platform's call-event listener (CallEvents.stats().events)
  processed during the run, over the wall time from the first call to the journal being
  flushed.
* CPU s/call: process CPU time (every thread: event loop and SQLite workers) over the same
  window, divided by the calls placed.
* Lost / duplicated events: every AMI event frame the simulator wrote to the platform's AMI
  session during the run is recorded; those the platform's parser keeps for the journal
  (`parse_frame` is not None: untracked VarSet and action replies are dropped by design) are
  the expected rows. After `platform.calls.flush()` the journal rows written during the run
  are compared with them as multisets of content (event name + the journal payload, i.e. the
  first value of each header): lost = expected rows missing from the journal, dup = journal
  rows beyond the number of times their content was sent.

The last line is

    load: sessions=N calls_per_s=R agi_p99_ms=X events_per_s=Y lost=L dup=D baseline_ratio=Z

N: the peak of concurrent FastAGI (IVR) sessions reached; R: calls placed per second, achieved;
Z: agi_p99 / echo_p99. Nothing is asserted: the figures are for reading.

    .venv/bin/python -m bench.load [--calls 300] [--sessions 200] [--rate 20]
        [--time-scale 0.2] [--operators N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/load.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from callcenter.bootstrap import Platform, build_platform
from callcenter.config import Settings
from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.migrate import upgrade_to_head
from callcenter.db.models import TelephonyEvent
from callcenter.db.seed import seed_demo
from callcenter.pbx.events import parse_frame
from callcenter.pbx.frames import AmiFrame
from callcenter.recordings.call_hooks import CallRecordingHooks
from callcenter.sim import agi_client
from callcenter.sim.ami_server import AmiSession
from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallHandle, CallOutcome, Simulator

REPO = Path(__file__).resolve().parent.parent
QUEUE = "line1"


# --- instrumentation (bench only) -----------------------------------------------------------


@dataclass
class AgiProbe:
    """Round trips seen from the simulator's FastAGI client (see the module doc)."""

    round_trips: list[float] = field(default_factory=list)
    command_sizes: list[int] = field(default_factory=list)
    commands: int = 0
    _replied_at: dict[int, float] = field(default_factory=dict)

    def install(self) -> Callable[[], None]:
        original = agi_client.AgiSession.handle
        probe = self

        async def handle(session: agi_client.AgiSession, line: str) -> None:
            now = time.perf_counter()
            replied = probe._replied_at.pop(id(session), None)
            if replied is not None and not session.dead:
                probe.round_trips.append(now - replied)
            probe.commands += 1
            probe.command_sizes.append(len(line.encode("utf-8")) + 1)
            try:
                await original(session, line)
            finally:
                probe._replied_at[id(session)] = time.perf_counter()

        setattr(agi_client.AgiSession, "handle", handle)  # noqa: B010

        def uninstall() -> None:
            setattr(agi_client.AgiSession, "handle", original)  # noqa: B010

        return uninstall


@dataclass
class AmiTap:
    """Every event frame the simulator writes to an AMI client while `on`."""

    frames: list[tuple[tuple[str, str], ...]] = field(default_factory=list)
    on: bool = False

    def install(self) -> Callable[[], None]:
        original = AmiSession.send_event
        tap = self

        def send_event(session: AmiSession, pairs: Any) -> None:
            before = session.frames_sent
            original(session, pairs)
            if tap.on and session.frames_sent > before:
                tap.frames.append(tuple((str(k), str(v)) for k, v in pairs))

        setattr(AmiSession, "send_event", send_event)  # noqa: B010

        def uninstall() -> None:
            setattr(AmiSession, "send_event", original)  # noqa: B010

        return uninstall


def _content(name: str, payload: dict[str, Any]) -> str:
    return json.dumps([name, payload], sort_keys=True, ensure_ascii=False)


def expected_journal(frames: list[tuple[tuple[str, str], ...]]) -> Counter[str]:
    """What the journal should hold for these frames, by content (see the module doc)."""
    expected: Counter[str] = Counter()
    now = datetime.now(UTC)
    for pairs in frames:
        frame = AmiFrame(pairs)
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


def caller(serial: int) -> CallerScript:
    return CallerScript(
        number=f"+7916{serial:07d}",
        keys=[KeyPress(1.5, "1"), KeyPress(1.5, "3")],
        patience=300.0,
        talk_time=5.0,
        label=f"load{serial}",
    )


async def prepare_database(url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, url)
    engine = create_engine(url)
    try:
        await seed_demo(create_session_factory(engine), now=datetime.now(UTC), if_empty=True)
    finally:
        await engine.dispose()


async def journal_rows(platform: Platform, after_id: int) -> Counter[str]:
    got: Counter[str] = Counter()
    async with platform.session_factory() as session:
        rows = await session.execute(
            select(TelephonyEvent.name, TelephonyEvent.payload).where(TelephonyEvent.id > after_id)
        )
        for name, payload in rows:
            got[_content(name, dict(payload))] += 1
    return got


async def max_journal_id(platform: Platform) -> int:
    async with platform.session_factory() as session:
        value = await session.scalar(select(func.max(TelephonyEvent.id)))
    return int(value or 0)


async def finish_recordings(platform: Platform, max_wait: float = 30.0) -> None:
    """Let the recording completions started by hang-ups end (outside the measured window).

    Platform.stop() does not wait for them, so they would run on after the database is gone.
    """
    assert platform.calls is not None
    for hook in platform.calls._commit_hooks:
        hooks = getattr(hook, "__self__", None)
        if isinstance(hooks, CallRecordingHooks):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max_wait):
                    await hooks.drain()


@dataclass
class Peak:
    agi: int = 0
    calls: int = 0


async def sample_peaks(platform: Platform, in_flight: Callable[[], int], peak: Peak) -> None:
    assert platform.agi is not None
    while True:
        peak.agi = max(peak.agi, platform.agi.stats.active)
        peak.calls = max(peak.calls, in_flight())
        await asyncio.sleep(0.05)


async def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    probe, tap = AgiProbe(), AmiTap()
    uninstall = [probe.install(), tap.install()]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/load.sqlite3"
        await prepare_database(url)
        settings = Settings(
            database_url=url,
            ami_host="",
            agi_port=0,
            agi_max_sessions=max(1000, args.sessions),
            recordings_dir=Path(tmp) / "recordings",
            flows_dir=REPO / "ivr_flows",
            prompts_cache_dir=REPO / "var" / "prompts",
            demo_traffic=False,
            log_level="ERROR",
        )
        platform = build_platform(settings)
        platform.pbx._time_scale = args.time_scale  # type: ignore[attr-defined]
        await platform.start()
        try:
            report = await drive(platform, args, probe, tap)
        finally:
            await platform.stop()
            for undo in uninstall:
                undo()
    # the baseline runs on the then idle loop, once the platform is stopped
    line_bytes = round(statistics.median(probe.command_sizes)) if probe.command_sizes else 64
    report(line_bytes, await echo_baseline(line_bytes, args.echo_round_trips))
    return 0


async def drive(
    platform: Platform, args: argparse.Namespace, probe: AgiProbe, tap: AmiTap
) -> Callable[[int, list[float]], None]:
    """Run the calls; returns the printer of the results, which takes the echo baseline."""
    assert platform.calls is not None
    assert platform.agi is not None
    sim: Simulator = platform.pbx.simulator  # type: ignore[attr-defined]
    client = platform.pbx.client  # type: ignore[attr-defined]
    await client.wait_connected(30)
    operators = args.operators or max(20, args.sessions // 2)
    for i in range(operators):
        sim.add_operator(
            Operator(str(2000 + i), technology="PJSIP", answer_after=1.0, talk_time=5.0),
            queues=[QUEUE],
        )
    await client.drain()
    await platform.calls.flush()
    first_id = await max_journal_id(platform)
    events_before = platform.calls.stats().events
    emitted_before = sim.events_emitted

    slots = asyncio.Semaphore(args.sessions)
    handles: list[CallHandle] = []
    waits: list[asyncio.Task[Any]] = []
    in_flight = 0
    peak = Peak()

    async def one_call(handle: CallHandle) -> Any:
        nonlocal in_flight
        try:
            return await handle.wait()
        finally:
            in_flight -= 1
            slots.release()

    tap.on = True
    sampler = asyncio.create_task(sample_peaks(platform, lambda: in_flight, peak))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    gap = 1.0 / args.rate
    for serial in range(args.calls):
        due = wall0 + serial * gap
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await slots.acquire()
        in_flight += 1
        handle = await sim.place_inbound_call(caller(serial))
        handles.append(handle)
        waits.append(asyncio.create_task(one_call(handle)))
    arrivals_s = time.perf_counter() - wall0
    results = await asyncio.gather(*waits)
    calls_done_s = time.perf_counter() - wall0
    await client.drain(30)
    await platform.calls.flush(60)
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    tap.on = False
    await finish_recordings(platform)
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampler

    events = platform.calls.stats().events - events_before
    emitted = sim.events_emitted - emitted_before
    expected = expected_journal(tap.frames)
    got = await journal_rows(platform, first_id)
    lost = sum((expected - got).values())
    dup = sum((got - expected).values())
    outcomes = Counter(r.outcome for r in results)
    agi_stats = platform.agi.stats
    ami_stats = client.stats()

    agi_p50, agi_p99 = percentile(probe.round_trips, 50), percentile(probe.round_trips, 99)
    rate = args.calls / arrivals_s if arrivals_s > 0 else float("inf")

    def report(line_bytes: int, echo: list[float]) -> None:
        echo_p50, echo_p99 = percentile(echo, 50), percentile(echo, 99)
        print(
            f"calls: {args.calls} placed in {arrivals_s:.1f} s"
            f" ({rate:.1f}/s, target {args.rate:g}/s),"
            f" all ended after {calls_done_s:.1f} s, journal flushed after {wall:.1f} s;"
            f" time_scale {args.time_scale:g}, {operators} operators"
        )
        print(
            "outcomes: "
            + ", ".join(
                f"{o.value}={outcomes.get(o, 0)}" for o in CallOutcome if outcomes.get(o, 0)
            )
        )
        print(
            f"concurrency: peak {peak.agi} IVR (FastAGI) sessions,"
            f" peak {peak.calls} calls in progress"
            f" (cap --sessions {args.sessions})"
        )
        print(
            f"agi: {agi_stats.sessions} sessions, {probe.commands} commands,"
            f" {len(probe.round_trips)} round trips: p50 {agi_p50 * 1e3:.2f} ms,"
            f" p99 {agi_p99 * 1e3:.2f} ms, max {max(probe.round_trips, default=0) * 1e3:.1f} ms;"
            f" errors {agi_stats.errors}, timeouts {agi_stats.timeouts},"
            f" failovers {agi_stats.failovers}, rejected {agi_stats.rejected}"
        )
        print(
            f"echo baseline: {len(echo)} round trips of {line_bytes} B lines:"
            f" p50 {echo_p50 * 1e3:.3f} ms, p99 {echo_p99 * 1e3:.3f} ms;"
            f" ratios agi/echo p50 {agi_p50 / echo_p50:.1f}, p99 {agi_p99 / echo_p99:.1f}"
        )
        print(
            f"ami: simulator emitted {emitted} events, wrote {len(tap.frames)} to the platform,"
            f" {sum(expected.values())} journal-worthy; platform processed {events}"
            f" ({events / wall:.0f}/s over {wall:.1f} s), journaled {sum(got.values())};"
            f" client dropped {ami_stats.dropped_events}, listener errors"
            f" {ami_stats.listener_errors}; lost {lost}, dup {dup}"
        )
        print(f"cpu: {cpu:.1f} s process CPU, {cpu / args.calls * 1e3:.1f} ms per call")
        print(
            f"load: sessions={peak.agi} calls_per_s={rate:.1f} agi_p99_ms={agi_p99 * 1e3:.2f}"
            f" events_per_s={events / wall:.0f} lost={lost} dup={dup}"
            f" baseline_ratio={agi_p99 / echo_p99:.1f}"
        )

    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--calls", type=int, default=300, help="calls to place (default 300)")
    parser.add_argument(
        "--sessions", type=int, default=200, help="most calls in progress at once (default 200)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="new calls per second")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=0.2,
        help="real seconds per simulated second (prompts, key presses, talk time)",
    )
    parser.add_argument(
        "--operators", type=int, default=0, help="PJSIP operators in line1 (default sessions/2)"
    )
    parser.add_argument("--echo-round-trips", type=int, default=5000)
    args = parser.parse_args(argv)
    if args.calls < 1 or args.sessions < 1 or args.rate <= 0 or args.time_scale <= 0:
        parser.error("--calls, --sessions, --rate and --time-scale must be positive")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
