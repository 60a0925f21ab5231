"""Searching recordings: every filter, paging, and each role's reach (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callcenter.db.models import CallLeg
from callcenter.db.repositories import appeals as appeals_repo
from callcenter.domain.appeals import AppealChannel
from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import Direction
from tests.api.recordings_support import Env, make_env


@pytest.fixture
async def env(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
) -> AsyncIterator[Env]:
    env, _ = await make_env(engine, session_factory, database_url, tmp_path / "rec")
    async with env.client:
        yield env


async def ids(env: Env, who: str = "admin", **params: object) -> set[str]:
    reply = await env.client.get("/api/v1/recordings", params=params, headers=env.headers(who))
    assert reply.status_code == 200, reply.text
    return {item["id"] for item in reply.json()["items"]}


async def test_each_filter_narrows_the_search(env: Env) -> None:
    w = env.world
    base = env.clock.now - timedelta(days=3)
    _, early = await env.recorded_call(1.0, started_at=base, operator_id=w.op_a)
    _, mid = await env.recorded_call(
        4.0,
        started_at=base + timedelta(days=1),
        caller="+79161234567",
        queue=w.queue2,
        operator_id=w.op_c,
    )
    _, outbound = await env.recorded_call(
        2.5,
        started_at=base + timedelta(days=2),
        direction=Direction.OUTBOUND,
        caller="2101",
        dialled="+79161234567",
        queue=None,
        operator_id=w.op_b,
    )
    everything = {str(early), str(mid), str(outbound)}
    assert await ids(env) == everything

    start = base + timedelta(hours=12)
    assert await ids(env, **{"from": start.isoformat()}) == {str(mid), str(outbound)}
    assert await ids(env, to=start.isoformat()) == {str(early)}
    # the customer's number in any spelling, as caller (inbound) or as dialled (outbound)
    for spelling in ("8 (916) 123-45-67", "+7 916 123 45 67", "79161234567"):
        assert await ids(env, phone=spelling) == {str(mid), str(outbound)}
    assert await ids(env, operator_id=w.op_a) == {str(early)}
    assert await ids(env, queue=w.queue2) == {str(mid)}
    assert await ids(env, direction="outbound") == {str(outbound)}
    assert await ids(env, min_duration=2) == {str(mid), str(outbound)}
    assert await ids(env, max_duration=3) == {str(early), str(outbound)}
    assert await ids(env, min_duration=2, max_duration=3) == {str(outbound)}
    assert await ids(env, state="complete") == everything
    assert await ids(env, state="archived") == set()


async def test_items_carry_the_call_they_belong_to(env: Env) -> None:
    call_id, rec_id = await env.recorded_call(1.5, operator_id=env.world.op_a)
    reply = await env.client.get(
        "/api/v1/recordings", params={"call_id": str(call_id)}, headers=env.headers("admin")
    )
    (item,) = reply.json()["items"]
    assert item["id"] == str(rec_id)
    assert item["call_id"] == str(call_id)
    assert item["duration_seconds"] == pytest.approx(1.5)
    assert item["started_at"]
    assert item["caller_number"] == "+79260001122"
    assert item["operator_id"] == env.world.op_a
    assert item["queue_name"] == "line1"
    assert item["state"] == "complete"
    assert item["audio_url"] == f"/api/v1/recordings/{rec_id}/audio"


async def test_appeal_filter_finds_recordings_linked_directly_or_through_the_call(
    env: Env,
) -> None:
    call_linked, rec_linked = await env.recorded_call(1.0)
    call_via, rec_via = await env.recorded_call(1.0)
    await env.recorded_call(1.0)
    async with env.sessions.begin() as session:
        appeal = await appeals_repo.create(
            session,
            number="20250101-0001",
            channel=AppealChannel.PHONE,
            created_at=env.clock.now,
            call_id=call_via,
        )
        # the operator registered the appeal during the first call too: linked explicitly
        await env.core.link_appeal(session, call_linked, appeal.id)
    assert await ids(env, appeal_id=str(appeal.id)) == {str(rec_linked), str(rec_via)}


async def test_pages_say_whether_more_follow(env: Env) -> None:
    for n in range(5):
        await env.recorded_call(1.0, started_at=env.clock.now - timedelta(hours=n + 1))
    seen: list[str] = []
    for offset in (0, 2, 4):
        reply = await env.client.get(
            "/api/v1/recordings",
            params={"limit": 2, "offset": offset},
            headers=env.headers("admin"),
        )
        page = reply.json()
        seen += [i["id"] for i in page["items"]]
        assert page["has_more"] is (offset < 4)
    assert len(set(seen)) == 5
    # newest first
    starts = [
        i["started_at"]
        for i in (await env.client.get("/api/v1/recordings", headers=env.headers("admin"))).json()[
            "items"
        ]
    ]
    assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"phone": "not a number"}, "номер"),
        ({"from": "2025-03-02T00:00:00Z", "to": "2025-03-01T00:00:00Z"}, "before"),
        ({"min_duration": 10, "max_duration": 5}, "max_duration"),
    ],
)
async def test_nonsense_filters_are_refused_with_a_reason(
    env: Env, params: dict[str, object], fragment: str
) -> None:
    reply = await env.client.get("/api/v1/recordings", params=params, headers=env.headers("admin"))
    assert reply.status_code == 422
    assert fragment in reply.text


async def test_each_role_sees_only_the_recordings_it_may_reach(env: Env) -> None:
    w = env.world
    _, own_a = await env.recorded_call(1.0, operator_id=w.op_a)
    _, own_b = await env.recorded_call(1.0, operator_id=w.op_b)
    _, line2 = await env.recorded_call(1.0, queue=w.queue2, operator_id=w.op_c)
    # taken by C (line 2) through line 1's queue, then transferred to A: both keep it
    transferred_call, transferred = await env.recorded_call(1.0, queue=w.queue1, operator_id=w.op_c)
    async with env.sessions.begin() as session:
        session.add(
            CallLeg(
                call_id=transferred_call,
                uniqueid=str(uuid.uuid4()),
                channel="PJSIP/101-00000001",
                role=LegRole.OPERATOR,
                started_at=env.clock.now,
                operator_id=w.op_a,
            )
        )
    everything = {str(own_a), str(own_b), str(line2), str(transferred)}
    assert await ids(env, "admin") == everything
    assert await ids(env, "chief") == everything  # a supervisor tied to no line: all lines
    assert await ids(env, "super2") == {str(line2), str(transferred)}  # line 2's operator
    assert await ids(env, "op_a") == {str(own_a), str(transferred)}
    assert await ids(env, "op_b") == {str(own_b)}
    assert await ids(env, "op_c") == {str(line2), str(transferred)}
    assert await ids(env, "nobody") == set()
    # a filter cannot widen the reach
    assert await ids(env, "op_b", operator_id=w.op_a) == set()


async def test_search_needs_a_signed_in_user(env: Env) -> None:
    assert (await env.client.get("/api/v1/recordings")).status_code == 401
