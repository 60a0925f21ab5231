"""Real AMI traffic over a real socket → AMI client → journal → call records → HTTP API.

The fake AMI server replays the event frames of the real Asterisk 22 transcripts; the
platform's own client, parser, tracker, writer and API turn them into call records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.asterisk.ami import AmiClient
from callcenter.calls.records import CallEvents
from callcenter.db.models import Call, TelephonyEvent
from callcenter.domain.calls import CallTracker
from callcenter.domain.roles import Role
from callcenter.pbx.frames import AmiFrame
from tests.support.api import MakeUser, bearer, sign_in
from tests.support.fake_ami import FakeAmiServer, running_client
from tests.support.transcripts import timed_ami_frames

BASE = datetime(2026, 11, 23, 11, 0, 0, tzinfo=UTC)
TimedFrames = list[tuple[float, AmiFrame]]


def events_of(transcripts_dir: Path, scenario: str) -> TimedFrames:
    """The transcript's event frames with their offsets on the wire."""
    (path,) = transcripts_dir.glob(f"ami-{scenario}-*.log")
    return [(t, f) for t, f in timed_ami_frames(path) if f.event and f.event != "FullyBooted"]


class ManualClock:
    """The AMI client's receive clock, set to each frame's transcript time during a replay."""

    def __init__(self) -> None:
        self.now = BASE

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    server: FakeAmiServer
    client: AmiClient
    calls: CallEvents
    clock: ManualClock

    async def replay(self, frames: TimedFrames, offset: float = 0.0) -> None:
        """Send the frames in groups of equal transcript time, each received at that time."""
        for seconds, group in groupby(frames, key=lambda item: item[0]):
            self.clock.now = BASE + timedelta(seconds=offset + seconds)
            await self.server.push_events([frame for _, frame in group])
            await self.client.drain(10)
        await self.calls.flush()


def tracker() -> CallTracker:
    return CallTracker(inbound_numbers={"88001000000"}, inbound_contexts={"ivr"})


@pytest.fixture
async def rig(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[Rig]:
    calls = CallEvents(session_factory, tracker=tracker())
    clock = ManualClock()
    await calls.start()
    async with FakeAmiServer() as server, running_client(server, calls, clock=clock) as client:
        yield Rig(server, client, calls, clock)
    await calls.stop()


async def supervisor_token(client: httpx.AsyncClient, make_user: MakeUser) -> str:
    await make_user("chief", role=Role.SUPERVISOR)
    return await sign_in(client, "chief")


async def test_replayed_scenarios_become_correct_call_records(
    rig: Rig, transcripts_dir: Path, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    for n, scenario in enumerate(("s1", "s2", "s3", "s9")):
        await rig.replay(events_of(transcripts_dir, scenario), offset=n * 100)
    token = await supervisor_token(client, make_user)

    page = (await client.get("/api/v1/calls", headers=bearer(token))).json()
    inbound = {c["linkedid"]: c for c in page["items"] if c["direction"] == "inbound"}
    by_disposition = sorted(c["disposition"] for c in inbound.values())
    assert by_disposition == ["abandoned", "answered", "answered", "hung_up_in_ivr"]

    s1 = next(c for c in inbound.values() if c["ivr_path"] == ["1", "2"] and c["talk_seconds"])
    assert s1["queue_name"] == "line1"
    assert s1["caller_number"] == "+79161234567"
    assert s1["talk_seconds"] == pytest.approx(3.0, abs=0.5)

    abandoned = (
        await client.get(
            "/api/v1/calls", params={"disposition": "abandoned"}, headers=bearer(token)
        )
    ).json()
    assert abandoned["total"] == 1
    assert abandoned["items"][0]["wait_seconds"] == pytest.approx(9.0, abs=1.0)

    detail = await client.get(f"/api/v1/calls/{s1['id']}", headers=bearer(token))
    assert detail.status_code == 200
    assert detail.json()["transfers"] == []


async def test_originate_outcomes_keep_their_reason(
    rig: Rig, transcripts_dir: Path, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await rig.replay(events_of(transcripts_dir, "s6"))
    token = await supervisor_token(client, make_user)
    page = (
        await client.get("/api/v1/calls", params={"direction": "outbound"}, headers=bearer(token))
    ).json()
    assert page["total"] == 6
    dispositions = sorted(c["disposition"] for c in page["items"])
    assert dispositions.count("answered") == 2  # human and machine both answered (reason 4)
    assert dispositions.count("failed") == 4  # busy, no answer, congestion, bad channel


async def test_a_transfer_is_stored_with_the_call(
    rig: Rig, transcripts_dir: Path, client: httpx.AsyncClient, make_user: MakeUser
) -> None:
    await rig.replay(events_of(transcripts_dir, "s10"))
    token = await supervisor_token(client, make_user)
    page = (await client.get("/api/v1/calls", headers=bearer(token))).json()
    transferred = [c for c in page["items"] if c["transfer_count"] == 1]
    assert len(transferred) == 1
    detail = (
        await client.get(f"/api/v1/calls/{transferred[0]['id']}", headers=bearer(token))
    ).json()
    assert [t["kind"] for t in detail["transfers"]] == ["blind"]


async def test_duplicated_delivery_creates_no_duplicate_records(
    rig: Rig, transcripts_dir: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    frames = events_of(transcripts_dir, "s1")
    await rig.replay(frames)
    async with session_factory() as session:
        first = [
            (c.linkedid, c.disposition, c.talk_seconds)
            for c in await session.scalars(select(Call).order_by(Call.linkedid))
        ]
    # the same frames again, as a reconnecting link might deliver them
    await rig.replay(frames)
    async with session_factory() as session:
        again = [
            (c.linkedid, c.disposition, c.talk_seconds)
            for c in await session.scalars(select(Call).order_by(Call.linkedid))
        ]
    assert again == first


async def test_every_event_is_journaled_once(
    rig: Rig, transcripts_dir: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    frames = events_of(transcripts_dir, "s2")
    await rig.replay(frames)
    async with session_factory() as session:
        stored = await session.scalar(select(func.count()).select_from(TelephonyEvent))
        keys = await session.scalar(select(func.count(func.distinct(TelephonyEvent.event_key))))
    assert stored == rig.calls.stats().events
    assert stored == keys
    assert stored is not None
    assert stored > 50


async def test_calls_open_when_asterisk_restarts_are_closed_as_interrupted(
    rig: Rig, transcripts_dir: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    frames = events_of(transcripts_dir, "s1")
    # the call is in the queue talking to the operator when Asterisk goes away
    connect = next(i for i, (_, f) in enumerate(frames) if f.event == "AgentConnect")
    await rig.replay(frames[: connect + 1])
    connections = rig.client.stats().connections
    rig.server.restart()
    await rig.server.wait_for(lambda: rig.client.stats().connections > connections, within=10)
    await rig.client.wait_connected(10)
    await rig.calls.flush()
    async with session_factory() as session:
        (call,) = list(await session.scalars(select(Call)))
    assert call.disposition == "interrupted"
    assert call.ended_at is not None
    assert call.queue_name == "line1"


async def test_our_own_restart_closes_calls_asterisk_no_longer_has(
    transcripts_dir: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    frames = events_of(transcripts_dir, "s2")
    join = next(i for i, (_, f) in enumerate(frames) if f.event == "QueueCallerJoin")
    async with FakeAmiServer() as server:
        first = CallEvents(session_factory, tracker=tracker())
        await first.start()
        async with running_client(server, first) as client:
            await server.push_events([f for _, f in frames[: join + 1]])
            await client.drain(10)
            await first.flush()
        await first.stop()
        # the platform restarts; Asterisk meanwhile lost the call
        second = CallEvents(session_factory, tracker=tracker())
        await second.start()
        async with running_client(server, second):
            await second.flush()
        await second.stop()
    async with session_factory() as session:
        (call,) = list(await session.scalars(select(Call)))
    assert call.disposition == "interrupted"
    assert second.stats().reconciled_interrupted == 1
