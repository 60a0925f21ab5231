"""The operator's own calls over HTTP: history by kind, missed calls with their address-book
entries and add-to-book, today's statistics (Moscow day)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest

from callcenter.db.repositories import address_book as book_repo
from callcenter.db.repositories import calls as calls_repo
from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import Direction, Disposition
from tests.api.workstation.support import START, Sessions, Staff, audit_entries

M = timedelta(minutes=1)


@dataclass
class Calls:
    answered: uuid.UUID
    missed_then_boris: uuid.UUID
    abandoned: uuid.UUID
    outbound_ok: uuid.UUID
    outbound_failed: uuid.UUID
    early_today: uuid.UUID
    yesterday: uuid.UUID
    ringing_now: uuid.UUID
    borises: uuid.UUID


@pytest.fixture
async def calls(session_factory: Sessions, staff: Staff) -> Calls:
    anna, boris = staff["anna"].operator_id, staff["boris"].operator_id
    assert anna is not None
    assert boris is not None
    ids: dict[str, uuid.UUID] = {}

    async def inbound(
        name: str,
        at: datetime,
        caller: str,
        *,
        operator_id: int | None,
        disposition: Disposition,
        rings: list[tuple[int, bool, bool]],  # (operator, answered, ended)
        talk: float | None = None,
        wait: float | None = None,
    ) -> None:
        async with session_factory.begin() as session:
            call = await calls_repo.upsert(
                session,
                f"linked-{name}",
                direction=Direction.INBOUND,
                caller_number=caller,
                started_at=at,
                answered_at=at,  # the IVR answers every call at once
                ended_at=at + 5 * M if disposition is not Disposition.IN_PROGRESS else None,
                dialled_number="88001000000",
                queue_name="line1",
                operator_id=operator_id,
                disposition=disposition,
                talk_seconds=talk,
                wait_seconds=wait,
            )
            for n, (op, answered, ended) in enumerate(rings):
                leg = await calls_repo.add_leg(
                    session,
                    call.id,
                    uniqueid=f"{name}.{n}",
                    channel=f"PJSIP/{op}-0000{n}",
                    role=LegRole.OPERATOR,
                    started_at=at + M,
                    operator_id=op,
                )
                leg.answered_at = at + 2 * M if answered else None
                leg.ended_at = at + 3 * M if ended else None
            ids[name] = call.id

    async def outbound(name: str, at: datetime, number: str, disposition: Disposition) -> None:
        async with session_factory.begin() as session:
            call = await calls_repo.upsert(
                session,
                f"linked-{name}",
                direction=Direction.OUTBOUND,
                caller_number="101",
                dialled_number=number,
                started_at=at,
                ended_at=at + M,
                operator_id=anna,
                disposition=disposition,
                talk_seconds=30.0 if disposition is Disposition.ANSWERED else None,
            )
            ids[name] = call.id

    await inbound(
        "answered",
        START - 60 * M,
        "+79157001122",
        operator_id=anna,
        disposition=Disposition.ANSWERED,
        rings=[(anna, True, True)],
        talk=120.0,
        wait=20.0,
    )
    await inbound(
        "missed_then_boris",
        START - 50 * M,
        "+79160000002",
        operator_id=boris,
        disposition=Disposition.ANSWERED,
        rings=[(anna, False, True), (boris, True, True)],
        talk=60.0,
    )
    await inbound(
        "abandoned",
        START - 40 * M,
        "501",
        operator_id=None,
        disposition=Disposition.ABANDONED,
        rings=[(anna, False, True)],
    )
    await outbound("outbound_ok", START - 30 * M, "+74822345610", Disposition.ANSWERED)
    await outbound("outbound_failed", START - 20 * M, "+74822345699", Disposition.FAILED)
    # 01:00 Moscow time today and 23:00 yesterday
    await inbound(
        "early_today",
        datetime.fromisoformat("2025-03-13T22:00:00+00:00"),
        "+79160000003",
        operator_id=anna,
        disposition=Disposition.ANSWERED,
        rings=[(anna, True, True)],
        talk=30.0,
        wait=40.0,
    )
    await inbound(
        "yesterday",
        datetime.fromisoformat("2025-03-13T20:00:00+00:00"),
        "+79160000004",
        operator_id=anna,
        disposition=Disposition.ANSWERED,
        rings=[(anna, True, True)],
        talk=999.0,
    )
    await inbound(
        "ringing_now",
        START - M,
        "+79160000005",
        operator_id=None,
        disposition=Disposition.IN_PROGRESS,
        rings=[(anna, False, False)],
    )
    await inbound(
        "borises",
        START - 10 * M,
        "+79160000006",
        operator_id=boris,
        disposition=Disposition.ANSWERED,
        rings=[(boris, True, True)],
        talk=10.0,
    )
    return Calls(**ids)


async def history(client: httpx.AsyncClient, staff: Staff, who: str, **params: str) -> list[dict]:
    reply = await client.get("/api/v1/me/calls", params=params, headers=staff.h(who))
    assert reply.status_code == 200, reply.text
    result: list[dict] = reply.json()
    return result


async def test_history_by_kind(client: httpx.AsyncClient, staff: Staff, calls: Calls) -> None:
    def ids(rows: list[dict]) -> list[str]:
        return [r["id"] for r in rows]

    assert ids(await history(client, staff, "anna", kind="inbound")) == [
        str(calls.answered),
        str(calls.early_today),
        str(calls.yesterday),
    ]
    assert ids(await history(client, staff, "anna", kind="missed")) == [
        str(calls.abandoned),
        str(calls.missed_then_boris),
    ]
    assert ids(await history(client, staff, "anna", kind="outbound")) == [
        str(calls.outbound_failed),
        str(calls.outbound_ok),
    ]
    assert ids(await history(client, staff, "anna", kind="unanswered")) == [
        str(calls.outbound_failed)
    ]
    everything = await history(client, staff, "anna")
    assert [(r["id"], r["kind"]) for r in everything] == [
        (str(calls.outbound_failed), "unanswered"),
        (str(calls.outbound_ok), "outbound"),
        (str(calls.abandoned), "missed"),
        (str(calls.missed_then_boris), "missed"),
        (str(calls.answered), "inbound"),
        (str(calls.early_today), "inbound"),
        (str(calls.yesterday), "inbound"),
    ]
    assert everything[0]["number"] == "+74822345699"  # whom to call back
    # Boris answered the call Anna missed: for him it is an inbound call, not a missed one
    assert ids(await history(client, staff, "boris", kind="inbound")) == [
        str(calls.borises),
        str(calls.missed_then_boris),
    ]
    assert await history(client, staff, "boris", kind="missed") == []


async def test_history_period_and_paging(
    client: httpx.AsyncClient, staff: Staff, calls: Calls
) -> None:
    since = (START - 45 * M).isoformat()
    rows = await history(client, staff, "anna", since=since)
    assert [r["kind"] for r in rows] == ["unanswered", "outbound", "missed"]
    page = await history(client, staff, "anna", limit="2", offset="1")
    assert [r["id"] for r in page] == [str(calls.outbound_ok), str(calls.abandoned)]


async def test_missed_calls_say_whether_the_number_is_in_a_book(
    client: httpx.AsyncClient, staff: Staff, calls: Calls, session_factory: Sessions
) -> None:
    async with session_factory.begin() as session:
        await book_repo.personal_create(
            session,
            user_id=staff["anna"].user_id,
            name="Сосед по участку",
            phone="+79160000002",
            created_at=START,
        )
        await book_repo.corporate_create(session, name="Дежурный диспетчер", extension="501")
    reply = await client.get("/api/v1/me/missed", headers=staff.h("anna"))
    missed = reply.json()
    assert [(m["call_id"], m["number"], m["in_address_book"]) for m in missed] == [
        (str(calls.abandoned), "501", True),
        (str(calls.missed_then_boris), "+79160000002", True),
    ]
    assert missed[0]["contact"]["book"] == "corporate"
    assert missed[1]["contact"]["name"] == "Сосед по участку"


async def test_missed_number_goes_into_my_book_but_not_someone_elses_call(
    client: httpx.AsyncClient, staff: Staff, calls: Calls, session_factory: Sessions
) -> None:
    url = "/api/v1/address-book/personal/from-call"
    added = await client.post(
        url,
        json={"call_id": str(calls.missed_then_boris), "name": "Незнакомец"},
        headers=staff.h("anna"),
    )
    assert added.status_code == 201, added.text
    assert added.json()["phone"] == "+79160000002"
    missed = (await client.get("/api/v1/me/missed", headers=staff.h("anna"))).json()
    assert missed[1]["contact"]["name"] == "Незнакомец"

    stolen = await client.post(
        url, json={"call_id": str(calls.abandoned), "name": "x"}, headers=staff.h("vera")
    )
    assert stolen.status_code == 404
    (refused,) = await audit_entries(
        session_factory, "access_denied", user_id=staff["vera"].user_id
    )
    assert refused.details["action"] == "personal_contact.from_call"


async def test_stats_count_todays_received_calls_in_moscow_time(
    client: httpx.AsyncClient, staff: Staff, calls: Calls
) -> None:
    stats = (await client.get("/api/v1/me/stats", headers=staff.h("anna"))).json()
    assert stats == {
        "day": "2025-03-14",
        "received": 4,  # answered, early_today, and the two missed; not yesterday's
        "answered": 2,
        "missed": 2,
        "total_talk_seconds": 150.0,
        "average_talk_seconds": 75.0,
        "average_wait_seconds": 30.0,
    }


async def test_accounts_without_an_operator_have_no_call_history(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    for path in ("/api/v1/me/calls", "/api/v1/me/missed", "/api/v1/me/stats"):
        reply = await client.get(path, headers=staff.h("sveta"))
        assert reply.status_code == 422
        assert "не привязана к оператору" in reply.json()["detail"]
