"""Issue 15's guarantees under faults, with the telephony role as a real process on
PostgreSQL and the PBX simulator in the test process playing Asterisk:

* kill -9 of the telephony node mid-call: after the restart, a call that ended while the
  node was dead is closed (interrupted), a call still going on is taken over and closed
  normally when it ends.
* the database drops the node's connections during load (what a PostgreSQL restart does to
  a client; the machine's shared server itself is not restarted by tests): the journal
  keeps the events, catches up, and every event the PBX sent is journaled once.

(The campaign take-over after a node is killed is in test_cluster_nodes.py.)
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from callcenter.db.engine import create_engine, create_session_factory
from callcenter.db.models import Call, TelephonyEvent
from callcenter.domain.calls import Disposition, call_id_for_linkedid
from callcenter.pbx.events import parse_frame
from callcenter.pbx.frames import AmiFrame
from callcenter.sim.ami_server import AmiSession
from callcenter.sim.callers import CallerScript, KeyPress
from callcenter.sim.parties import Operator
from callcenter.sim.simulator import CallHandle, Simulator
from tests.support.paths import REPO_ROOT
from tests.support.processes import clean_env
from tests.support.roles import TELEPHONY_READY, free_port, running, throwaway_postgres

# these tests start real processes (roles, simulators) and wait for them
pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]

SECRET = "fault-secret"


async def until(check: Callable[[], Awaitable[Any]], *, within: float, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what}: still not so after {within} s (last: {last!r})")


@pytest.fixture
async def db_url() -> AsyncIterator[str]:
    async with throwaway_postgres() as url:
        yield url


@pytest.fixture
def tap(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[str, str], ...]]:
    """Every AMI event frame the simulator writes to the platform."""
    frames: list[tuple[tuple[str, str], ...]] = []
    original = AmiSession.send_event

    def send_event(session: AmiSession, pairs: Any) -> None:
        before = session.frames_sent
        original(session, pairs)
        if session.frames_sent > before:
            frames.append(tuple((str(k), str(v)) for k, v in pairs))

    monkeypatch.setattr(AmiSession, "send_event", send_event)
    return frames


def node_env(url: str, sim: Simulator, agi_port: int, tmp: Path) -> dict[str, str]:
    return clean_env(
        CALLCENTER_DATABASE_URL=url,
        CALLCENTER_AMI_HOST="127.0.0.1",
        CALLCENTER_AMI_PORT=str(sim.ami_port),
        CALLCENTER_AMI_SECRET=SECRET,
        CALLCENTER_AGI_PORT=str(agi_port),
        CALLCENTER_RECORDINGS_DIR=str(tmp / "recordings"),
        CALLCENTER_PROMPTS_CACHE_DIR=str(REPO_ROOT / "var" / "prompts"),
        CALLCENTER_FLOWS_DIR=str(REPO_ROOT / "ivr_flows"),
        CALLCENTER_FLOWS_WATCH="false",
        CALLCENTER_NODE_NAME="tel-fault",
        CALLCENTER_LOG_LEVEL="INFO",
    )


def simulator(tmp: Path, agi_port: int, *, talk: float) -> Simulator:
    sim = Simulator(
        ami_port=0,
        agi_port=agi_port,
        recordings_dir=tmp / "recordings",
        time_scale=0.2,
        ami_users={"callcenter": SECRET},
    )
    return sim


def add_operators(sim: Simulator, count: int, talk: float) -> None:
    for i in range(count):
        sim.add_operator(
            Operator(str(101 + i), technology="PJSIP", answer_after=1.0, talk_time=talk),
            queues=["line1"],
        )


def caller(serial: int, talk: float) -> CallerScript:
    """Presses 1 then 3: put through to line 1; talks `talk` simulated seconds."""
    return CallerScript(
        number=f"+7916{serial:07d}",
        keys=[KeyPress(1.5, "1"), KeyPress(1.5, "3")],
        patience=600.0,
        talk_time=talk,
        label=f"fault{serial}",
    )


async def call_row(factory: Any, handle: CallHandle) -> Call | None:
    async with factory() as session:
        row: Call | None = await session.get(Call, call_id_for_linkedid(handle.linkedid))
        return row


async def test_a_killed_telephony_node_closes_its_calls_correctly_after_restart(
    db_url: str, tmp_path: Path
) -> None:
    agi_port = free_port()
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        async with simulator(tmp_path, agi_port, talk=3600) as sim:
            add_operators(sim, 2, talk=3600)
            env = node_env(db_url, sim, agi_port, tmp_path)
            async with running(
                ["serve", "--role", "telephony"], cwd=tmp_path, env=env, ready=TELEPHONY_READY
            ) as node:
                ends_while_dead = await sim.place_inbound_call(caller(1, 3600))
                goes_on = await sim.place_inbound_call(caller(2, 3600))

                async def both_answered() -> bool:
                    rows = [await call_row(factory, h) for h in (ends_while_dead, goes_on)]
                    return all(r is not None and r.answered_at is not None for r in rows)

                await until(both_answered, within=60, what="both calls answered and recorded")
                node.kill()
                await node.process.wait()

            # while the node is dead, the first caller hangs up
            channel = ends_while_dead.behaviour.caller_channel
            assert channel is not None
            sim.pbx.request_hangup(channel, 16)
            await ends_while_dead.wait()
            row = await call_row(factory, ends_while_dead)
            assert row is not None
            assert row.ended_at is None  # nobody saw it end

            async with running(
                ["serve", "--role", "telephony"], cwd=tmp_path, env=env, ready=TELEPHONY_READY
            ):

                async def closed_as_interrupted() -> Call | None:
                    found = await call_row(factory, ends_while_dead)
                    return found if found is not None and found.ended_at is not None else None

                closed = await until(
                    closed_as_interrupted, within=60, what="the call that ended meanwhile closed"
                )
                assert closed.disposition is Disposition.INTERRUPTED
                still = await call_row(factory, goes_on)
                assert still is not None
                assert still.ended_at is None  # taken over: Asterisk still has it

                channel = goes_on.behaviour.caller_channel
                assert channel is not None
                sim.pbx.request_hangup(channel, 16)
                await goes_on.wait()

                async def closed_normally() -> Call | None:
                    found = await call_row(factory, goes_on)
                    return found if found is not None and found.ended_at is not None else None

                ended = await until(closed_normally, within=60, what="the ongoing call closed")
                assert ended.disposition is Disposition.ANSWERED
                assert ended.answered_at is not None
    finally:
        await engine.dispose()


def _content(name: str, payload: dict[str, Any]) -> str:
    import json

    return json.dumps([name, payload], sort_keys=True, ensure_ascii=False)


async def test_the_journal_catches_up_after_the_database_drops_the_node(
    db_url: str, tmp_path: Path, tap: list[tuple[tuple[str, str], ...]]
) -> None:
    agi_port = free_port()
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        async with simulator(tmp_path, agi_port, talk=5) as sim:
            add_operators(sim, 6, talk=5)
            env = node_env(db_url, sim, agi_port, tmp_path)
            async with running(
                ["serve", "--role", "telephony"], cwd=tmp_path, env=env, ready=TELEPHONY_READY
            ):
                async with factory() as session:
                    first_id = int(
                        await session.scalar(
                            text("SELECT coalesce(max(id), 0) FROM telephony_events")
                        )
                        or 0
                    )
                tap.clear()
                handles = []
                for serial in range(16):
                    handles.append(await sim.place_inbound_call(caller(serial, 5)))
                    if serial in (5, 10):
                        # the server throws the node out (as a restart does), twice
                        async with engine.connect() as conn:
                            killed = await conn.scalar(
                                text(
                                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                    " WHERE datname = current_database()"
                                    " AND application_name LIKE 'callcenter telephony%'"
                                )
                            )
                        assert killed
                    await asyncio.sleep(0.5)  # arrivals: one call every half second
                for handle in handles:
                    await handle.wait()

                expected: Counter[str] = Counter()
                now = datetime.now(UTC)
                for pairs in list(tap):
                    frame = AmiFrame(pairs)
                    event = parse_frame(frame, now)
                    if event is not None:
                        expected[_content(event.name[:64], frame.as_dict())] += 1

                async def journal() -> Counter[str]:
                    got: Counter[str] = Counter()
                    async with factory() as session:
                        rows = await session.execute(
                            select(TelephonyEvent.name, TelephonyEvent.payload).where(
                                TelephonyEvent.id > first_id
                            )
                        )
                        for name, payload in rows:
                            got[_content(name, dict(payload))] += 1
                    return got

                async def caught_up() -> Counter[str] | None:
                    got = await journal()
                    return got if sum(got.values()) >= sum(expected.values()) else None

                got = await until(caught_up, within=90, what="the journal caught up")
                assert sum((expected - got).values()) == 0  # lost
                # duplicated: rows beyond the times their content was sent (rows of frames
                # sent just before the window are not counted)
                assert sum(max(0, got[k] - n) for k, n in expected.items()) == 0
                assert sum(expected.values()) > 16 * 20
    finally:
        await engine.dispose()
