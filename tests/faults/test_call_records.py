"""Fault suite, call records (SPEC §8): whatever the event stream or the database does, every
call ends up recorded once, correctly, and readable through the API.

Real sockets: the platform's AMI client reads the event frames of the real Asterisk 22
transcript s1 (an IVR call answered by an operator) from the fake AMI server.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.asterisk.ami import AmiClient
from callcenter.calls.records import CallEvents
from callcenter.db.models import Call, TelephonyEvent
from callcenter.domain.calls import CallTracker
from callcenter.domain.roles import Role
from callcenter.pbx.frames import AmiFrame
from tests.support.api import MakeUser, bearer, sign_in
from tests.support.fake_ami import FakeAmiServer, restamp, running_client
from tests.support.transcripts import timed_ami_frames

Sessions = async_sessionmaker[AsyncSession]


def s1_events(transcripts_dir: Path) -> list[AmiFrame]:
    (path,) = transcripts_dir.glob("ami-s1-*.log")
    return [f for _, f in timed_ami_frames(path) if f.event and f.event != "FullyBooted"]


@dataclass
class Rig:
    server: FakeAmiServer
    client: AmiClient
    calls: CallEvents

    async def push(self, frames: list[AmiFrame]) -> None:
        await self.server.push_events(frames)
        await self.client.drain(30)


@pytest.fixture
async def rig(session_factory: Sessions) -> AsyncIterator[Rig]:
    calls = CallEvents(
        session_factory,
        tracker=CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"}),
    )
    await calls.start()
    async with FakeAmiServer() as server, running_client(server, calls) as client:
        yield Rig(server, client, calls)
    await calls.stop()


async def _calls(session_factory: Sessions) -> list[tuple[object, ...]]:
    async with session_factory() as session:
        return [
            (c.linkedid, c.disposition, c.queue_name, c.caller_number, c.ended_at is not None)
            for c in await session.scalars(select(Call).order_by(Call.linkedid))
        ]


async def test_reordered_and_duplicated_events_give_the_same_record(
    rig: Rig, transcripts_dir: Path, session_factory: Sessions
) -> None:
    frames = s1_events(transcripts_dir)
    shuffled = list(frames)
    rng = random.Random(16)
    # neighbours swapped here and there, and one frame in five delivered twice
    for i in range(0, len(shuffled) - 1, 7):
        if rng.random() < 0.5:
            shuffled[i], shuffled[i + 1] = shuffled[i + 1], shuffled[i]
    noisy = [f for frame in shuffled for f in ([frame, frame] if rng.random() < 0.2 else [frame])]
    await rig.push(noisy)
    await rig.calls.flush()
    ((linkedid, disposition, queue, caller, ended),) = await _calls(session_factory)
    assert (disposition, queue, caller, ended) == ("answered", "line1", "+79161234567", True)
    async with session_factory() as session:
        stored = await session.scalar(select(func.count()).select_from(TelephonyEvent))
        keys = await session.scalar(select(func.count(func.distinct(TelephonyEvent.event_key))))
    assert stored == keys  # no event journaled twice
    assert linkedid


@pytest.mark.parametrize(
    "caller_id",
    [
        "'; DROP TABLE calls; --",
        "+7916\r\nEvent: Hangup\r\n",
        "+7916\x00123",
        "9" * 10_000,
    ],
    ids=["sql", "crlf", "nul", "10kb"],
)
async def test_hostile_caller_id_is_stored_harmlessly_and_shown(
    rig: Rig,
    transcripts_dir: Path,
    session_factory: Sessions,
    client: httpx.AsyncClient,
    make_user: MakeUser,
    caller_id: str,
) -> None:
    frames = [
        restamp(f, CallerIDNum=caller_id, CallerIDName=caller_id * 2)
        if f.get("CallerIDNum") == "+79161234567"
        else f
        for f in s1_events(transcripts_dir)
    ]
    await rig.push(frames)
    await rig.calls.flush()
    ((_, disposition, _, caller, ended),) = await _calls(session_factory)
    assert (disposition, ended) == ("answered", True)
    assert isinstance(caller, str)
    assert "\x00" not in caller
    assert "\n" not in caller
    assert len(caller) <= 32
    await make_user("boss", "pw", Role.SUPERVISOR)
    listed = await client.get("/api/v1/calls", headers=bearer(await sign_in(client, "boss", "pw")))
    assert listed.status_code == 200
    assert len(listed.json()["items"]) == 1
    assert rig.calls.stats().events > 0
    async with session_factory() as session:  # the table is still there
        assert await session.scalar(select(func.count()).select_from(Call)) == 1


async def test_dtmf_flood_is_journaled_and_the_call_is_recorded(
    rig: Rig, transcripts_dir: Path, session_factory: Sessions
) -> None:
    frames = s1_events(transcripts_dir)
    dtmf = next(f for f in frames if f.event == "DTMFEnd")
    at = frames.index(dtmf)
    flood = [
        restamp(dtmf, Digit=str(n % 10), DurationMs="40", Uniqueid=dtmf.get("Uniqueid"))
        for n in range(2000)
    ]
    await rig.push(frames[:at] + flood + frames[at:])
    await rig.calls.flush()
    ((_, disposition, queue, _, ended),) = await _calls(session_factory)
    assert (disposition, queue, ended) == ("answered", "line1", True)
    assert rig.client.connected


async def test_restart_mid_call_closes_the_call_as_interrupted(
    transcripts_dir: Path, session_factory: Sessions
) -> None:
    frames = s1_events(transcripts_dir)
    connect = next(i for i, f in enumerate(frames) if f.event == "AgentConnect")
    tracker = CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})
    async with FakeAmiServer() as server:
        first = CallEvents(session_factory, tracker=tracker)
        await first.start()
        async with running_client(server, first) as client:
            await server.push_events(frames[: connect + 1])
            await client.drain(10)
            await first.flush()
        await first.stop()  # the platform stops mid-call; Asterisk then loses the call too
        stopped = datetime.now(UTC)
        again = CallEvents(
            session_factory,
            tracker=CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"}),
        )
        await again.start()
        async with running_client(server, again):
            await again.flush()
        await again.stop()
    ((_, disposition, queue, _, ended),) = await _calls(session_factory)
    assert (disposition, queue, ended) == ("interrupted", "line1", True)
    async with session_factory() as session:
        (call,) = await session.scalars(select(Call))
    # it ended (as far as anyone can know) when the platform stopped, not when it came back
    assert call.ended_at is not None
    assert call.ended_at <= stopped


def _pg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _wait_for_a_blocked_writer(watcher: asyncpg.Connection) -> None:
    """Poll the server until one of our sessions waits on the lock (the writer is stuck)."""
    for _ in range(600):
        waiting = await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    pytest.fail("the call-record writer never reached the locked table")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_database_stalled_during_an_event_burst_loses_nothing(
    rig: Rig, transcripts_dir: Path, session_factory: Sessions, database_url: str
) -> None:
    frames = s1_events(transcripts_dir)
    blocker = await asyncpg.connect(_pg_dsn(database_url))
    watcher = await asyncpg.connect(_pg_dsn(database_url))
    try:
        # the database stops answering writes: an exclusive lock held by another session
        blocking = blocker.transaction()
        await blocking.start()
        await blocker.execute("LOCK TABLE telephony_events IN ACCESS EXCLUSIVE MODE")
        await rig.push(frames[:20])
        await _wait_for_a_blocked_writer(watcher)
        await rig.push(frames[20:])  # the burst goes on meanwhile: the AMI link keeps up
        assert rig.client.connected
        await blocking.rollback()  # the database comes back
    finally:
        await blocker.close()
        await watcher.close()
    await rig.calls.flush()
    ((_, disposition, queue, _, ended),) = await _calls(session_factory)
    assert (disposition, queue, ended) == ("answered", "line1", True)
    async with session_factory() as session:
        stored = await session.scalar(select(func.count()).select_from(TelephonyEvent))
    assert stored == rig.calls.stats().events  # every event that arrived is in the journal
