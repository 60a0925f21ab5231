"""Appeals over HTTP: registration with deadlines and reminders, status machine with history,
line-scoped access, the overdue list, the topic classifier."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from callcenter.db.repositories import appeals as appeals_repo
from callcenter.db.repositories import customers as customers_repo
from callcenter.domain.customers import CustomerCategory
from tests.api.workstation.support import START, FakeClock, Sessions, Staff, audit_entries

DAY = timedelta(days=1)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def customer_id(session_factory: Sessions) -> int:
    async with session_factory.begin() as session:
        await appeals_repo.add_topic(session, code="outages", name="Отключения")
        await appeals_repo.add_topic(
            session, code="complaint.service", name="Жалоба на обслуживание", is_complaint=True
        )
        customer = await customers_repo.create(
            session,
            account_number="6901000017",
            full_name="Иванов Сергей Петрович",
            category=CustomerCategory.INDIVIDUAL,
            phones=["+79157001122"],
        )
        return customer.id


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    body.setdefault("text", "Нет света с 8 утра")
    reply = await client.post("/api/v1/appeals", json=body, headers=headers)
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def test_registration_links_customer_topic_params_and_sets_deadlines(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    appeal = await register(
        client,
        staff.h("anna"),
        customer_id=customer_id,
        topic_code="outages",
        params={"outage_since": "08:00"},
    )
    assert appeal["number"] == "20250314-0001"
    assert appeal["status"] == "registered"
    assert appeal["kind"] == "question"
    assert appeal["customer_id"] == customer_id
    assert appeal["topic"]["code"] == "outages"
    assert appeal["params"] == {"outage_since": "08:00"}
    assert appeal["operator_id"] == staff["anna"].operator_id
    assert appeal["owner_line"] == 1
    assert appeal["handoff_due_at"] == iso(START + DAY)
    assert appeal["answer_due_at"] == iso(START + 11 * DAY)
    assert [h["to_status"] for h in appeal["history"]] == ["registered"]
    assert appeal["history"][0]["changed_by"] == staff["anna"].user_id

    second = await register(client, staff.h("anna"), customer_id=customer_id)
    assert second["number"] == "20250314-0002"


async def test_complaint_topic_makes_a_14_day_complaint(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    appeal = await register(
        client, staff.h("anna"), customer_id=customer_id, topic_code="complaint.service"
    )
    assert appeal["kind"] == "complaint"
    assert appeal["answer_due_at"] == iso(START + 14 * DAY)


async def test_callback_gets_30_minutes_and_automatic_reminders_for_its_owner(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, clock: FakeClock
) -> None:
    asked = START - timedelta(minutes=5)
    appeal = await register(
        client,
        staff.h("anna"),
        customer_id=customer_id,
        kind="callback",
        requested_at=iso(asked),
    )
    assert appeal["handoff_due_at"] is None
    assert appeal["answer_due_at"] == iso(asked + timedelta(minutes=30))

    reminders = (await client.get("/api/v1/reminders", headers=staff.h("anna"))).json()
    assert [r["due_at"] for r in reminders["items"]] == [
        iso(asked + timedelta(minutes=15)),
        iso(asked + timedelta(minutes=24)),
    ]
    assert {r["kind"] for r in reminders["items"]} == {"automatic"}
    assert reminders["items"][0]["text"].startswith(f"Обращение {appeal['number']}: до срока")
    # nobody else is reminded of Anna's callback
    others = (await client.get("/api/v1/reminders", headers=staff.h("boris"))).json()
    assert others["total"] == 0

    clock.advance(timedelta(minutes=11))
    due = (await client.get("/api/v1/reminders/due", headers=staff.h("anna"))).json()
    assert [r["due_at"] for r in due] == [iso(asked + timedelta(minutes=15))]


async def test_unknown_topic_or_customer_is_refused(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    reply = await client.post(
        "/api/v1/appeals", json={"text": "?", "topic_code": "nope"}, headers=staff.h("anna")
    )
    assert reply.status_code == 422
    assert "nope" in reply.json()["detail"]
    reply = await client.post(
        "/api/v1/appeals", json={"text": "?", "customer_id": 999_999}, headers=staff.h("anna")
    )
    assert reply.status_code == 422


async def test_status_path_with_history_and_deadline_changes(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, clock: FakeClock
) -> None:
    appeal = await register(client, staff.h("anna"), customer_id=customer_id)
    url = f"/api/v1/appeals/{appeal['id']}/status"

    clock.advance(timedelta(hours=2))
    handed = await client.post(
        url,
        json={"status": "handed_off", "comment": "В РЭС", "assign_to_operator_id": None},
        headers=staff.h("anna"),
    )
    assert handed.status_code == 200, handed.text
    # the specialist's 10 days run from the hand-off
    assert handed.json()["answer_due_at"] == iso(clock.now + 10 * DAY)

    for status in ("in_progress", "extended", "answered", "closed"):
        clock.advance(timedelta(hours=1))
        reply = await client.post(url, json={"status": status}, headers=staff.h("boris"))
        assert reply.status_code == 200, reply.text
    final = reply.json()
    assert final["extended_until"] == iso(START + timedelta(hours=2) + 20 * DAY)
    assert final["closed_at"] == iso(clock.now)
    assert [(h["from_status"], h["to_status"]) for h in final["history"]] == [
        (None, "registered"),
        ("registered", "handed_off"),
        ("handed_off", "in_progress"),
        ("in_progress", "extended"),
        ("extended", "answered"),
        ("answered", "closed"),
    ]
    assert final["allowed_transitions"] == []


async def test_invalid_transition_and_second_extension_are_conflicts(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    appeal = await register(client, staff.h("anna"), customer_id=customer_id)
    url = f"/api/v1/appeals/{appeal['id']}/status"
    reply = await client.post(url, json={"status": "extended"}, headers=staff.h("anna"))
    assert reply.status_code == 409
    assert "Нельзя перевести" in reply.json()["detail"]

    for status in ("in_progress", "extended", "in_progress"):
        ok = await client.post(url, json={"status": status}, headers=staff.h("anna"))
        assert ok.status_code == 200, ok.text
    again = await client.post(url, json={"status": "extended"}, headers=staff.h("anna"))
    assert again.status_code == 409
    assert "уже продлевался" in again.json()["detail"]

    no_reason = await client.post(url, json={"status": "closed"}, headers=staff.h("anna"))
    assert no_reason.status_code == 409
    assert "причины" in no_reason.json()["detail"]
    # nothing of the refused changes reached the history
    history = (await client.get(f"/api/v1/appeals/{appeal['id']}", headers=staff.h("anna"))).json()
    assert len(history["history"]) == 4


async def test_operator_of_another_line_cannot_read_or_change_and_is_audited(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, session_factory: Sessions
) -> None:
    appeal = await register(client, staff.h("anna"), customer_id=customer_id)
    url = f"/api/v1/appeals/{appeal['id']}"

    assert (await client.get(url, headers=staff.h("boris"))).status_code == 200  # same line
    read = await client.get(url, headers=staff.h("vera"))  # line 2
    assert read.status_code == 403
    assert "другой линии" in read.json()["detail"]
    change = await client.post(
        f"{url}/status", json={"status": "answered"}, headers=staff.h("vera")
    )
    assert change.status_code == 403
    assert (await client.get(url, headers=staff.h("anna"))).json()["status"] == "registered"

    refused = await audit_entries(session_factory, "access_denied", user_id=staff["vera"].user_id)
    assert sorted(e.details["action"] for e in refused) == [
        "appeal.change_status",
        "appeal.read",
    ]
    assert {e.object_id for e in refused} == {appeal["id"]}

    listed = (await client.get("/api/v1/appeals", headers=staff.h("vera"))).json()
    assert listed["total"] == 0
    assert (await client.get(url, headers=staff.h("sveta"))).status_code == 200


async def test_handing_off_to_another_line_moves_the_appeal_out_of_reach(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    appeal = await register(client, staff.h("boris"), customer_id=customer_id)
    url = f"/api/v1/appeals/{appeal['id']}"
    reply = await client.post(
        f"{url}/status",
        json={"status": "handed_off", "assign_to_operator_id": staff["vera"].operator_id},
        headers=staff.h("boris"),
    )
    assert reply.status_code == 200
    assert reply.json()["owner_line"] == 2
    assert (await client.get(url, headers=staff.h("vera"))).status_code == 200
    assert (await client.get(url, headers=staff.h("anna"))).status_code == 403
    # the new owner now gets the deadline reminders
    vera = (await client.get("/api/v1/reminders", headers=staff.h("vera"))).json()
    boris = (await client.get("/api/v1/reminders", headers=staff.h("boris"))).json()
    assert vera["total"] == 3
    assert boris["total"] == 0


async def test_unassigned_appeal_is_taken_by_whoever_starts_work(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    appeal = await register(client, staff.h("sveta"), customer_id=customer_id)
    assert appeal["operator_id"] is None
    url = f"/api/v1/appeals/{appeal['id']}"
    assert (await client.get(url, headers=staff.h("vera"))).status_code == 200
    taken = await client.post(
        f"{url}/status", json={"status": "in_progress"}, headers=staff.h("vera")
    )
    assert taken.json()["operator_id"] == staff["vera"].operator_id
    assert (await client.get(url, headers=staff.h("anna"))).status_code == 403


async def test_operator_cannot_register_for_someone_else(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    reply = await client.post(
        "/api/v1/appeals",
        json={"text": "?", "operator_id": staff["boris"].operator_id},
        headers=staff.h("anna"),
    )
    assert reply.status_code == 403


async def test_list_filters_and_mine(
    client: httpx.AsyncClient, staff: Staff, customer_id: int
) -> None:
    first = await register(client, staff.h("anna"), customer_id=customer_id)
    await register(client, staff.h("boris"), customer_id=customer_id, kind="callback")
    await client.post(
        f"/api/v1/appeals/{first['id']}/status",
        json={"status": "answered"},
        headers=staff.h("anna"),
    )

    async def numbers(**params: Any) -> list[str]:
        reply = await client.get("/api/v1/appeals", params=params, headers=staff.h("anna"))
        assert reply.status_code == 200, reply.text
        return [a["number"] for a in reply.json()["items"]]

    assert await numbers() == ["20250314-0002", "20250314-0001"]
    assert await numbers(mine=True) == ["20250314-0001"]
    assert await numbers(status="answered") == ["20250314-0001"]
    assert await numbers(kind="callback") == ["20250314-0002"]
    assert await numbers(open_only=True) == ["20250314-0002"]
    assert await numbers(limit=1, offset=1) == ["20250314-0001"]
    mine = await client.get("/api/v1/appeals", params={"mine": True}, headers=staff.h("sveta"))
    assert mine.status_code == 422


async def test_overdue_list_follows_the_clock_and_the_lines(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, clock: FakeClock
) -> None:
    callback = await register(client, staff.h("anna"), customer_id=customer_id, kind="callback")
    question = await register(client, staff.h("vera"), customer_id=customer_id)
    assert (await client.get("/api/v1/appeals/overdue", headers=staff.h("sveta"))).json() == []

    clock.advance(timedelta(minutes=31))
    overdue = (await client.get("/api/v1/appeals/overdue", headers=staff.h("sveta"))).json()
    assert [(a["number"], a["overdue"]) for a in overdue] == [(callback["number"], ["answer"])]

    clock.advance(DAY)
    overdue = (await client.get("/api/v1/appeals/overdue", headers=staff.h("sveta"))).json()
    assert [a["number"] for a in overdue] == [callback["number"], question["number"]]
    assert overdue[1]["overdue"] == ["handoff"]
    # each operator sees only the overdue appeals of their line
    for_vera = (await client.get("/api/v1/appeals/overdue", headers=staff.h("vera"))).json()
    assert [a["number"] for a in for_vera] == [question["number"]]


async def test_topics_list(client: httpx.AsyncClient, staff: Staff, customer_id: int) -> None:
    topics = (await client.get("/api/v1/appeals/topics", headers=staff.h("anna"))).json()
    assert [(t["code"], t["is_complaint"]) for t in topics] == [
        ("complaint.service", True),
        ("outages", False),
    ]


async def test_registration_and_changes_are_audited(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, session_factory: Sessions
) -> None:
    appeal = await register(client, staff.h("anna"), customer_id=customer_id)
    await client.post(
        f"/api/v1/appeals/{appeal['id']}/status",
        json={"status": "in_progress"},
        headers=staff.h("anna"),
    )
    (registered,) = await audit_entries(session_factory, "appeal.register")
    assert registered.user_id == staff["anna"].user_id
    assert registered.details["number"] == appeal["number"]
    (changed,) = await audit_entries(session_factory, "appeal.status_change")
    assert (changed.details["from"], changed.details["to"]) == ("registered", "in_progress")


async def test_appeals_need_sign_in(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/appeals")).status_code == 401


async def test_the_text_is_corrected_with_the_old_one_audited_until_closed(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, session_factory: Sessions
) -> None:
    appeal = await register(client, staff.h("anna"), customer_id=customer_id, text="Нет света")
    url = f"/api/v1/appeals/{appeal['id']}"
    edited = await client.patch(
        url, json={"text": "Нет света с 8 утра, кв. 2"}, headers=staff.h("anna")
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["text"] == "Нет света с 8 утра, кв. 2"
    assert (await client.get(url, headers=staff.h("anna"))).json()["text"].endswith("кв. 2")
    (entry,) = await audit_entries(session_factory, "appeal.edit")
    assert entry.details["text_before"] == "Нет света"

    blank = await client.patch(url, json={"text": "   "}, headers=staff.h("anna"))
    assert blank.status_code == 422
    other_line = await client.patch(url, json={"text": "x"}, headers=staff.h("vera"))
    assert other_line.status_code == 403

    for status in ("in_progress", "answered", "closed"):
        ok = await client.post(f"{url}/status", json={"status": status}, headers=staff.h("anna"))
        assert ok.status_code == 200, ok.text
    closed = await client.patch(url, json={"text": "поздно"}, headers=staff.h("anna"))
    assert closed.status_code == 409
