"""Manual reminders over HTTP: set for myself, listed soonest first, due by the clock, marked
done; another user's reminder cannot be touched."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.api.workstation.support import START, FakeClock, Sessions, Staff, audit_entries

URL = "/api/v1/reminders"


async def test_manual_reminders_come_due_and_are_marked_done(
    client: httpx.AsyncClient, staff: Staff, clock: FakeClock, session_factory: Sessions
) -> None:
    later = await client.post(
        URL,
        json={"due_at": (START + timedelta(hours=2)).isoformat(), "text": "Позвонить в РЭС"},
        headers=staff.h("anna"),
    )
    soon = await client.post(
        URL,
        json={"due_at": "2025-03-14T13:00:00+03:00", "text": "Проверить заявку"},
        headers=staff.h("anna"),
    )
    assert later.status_code == soon.status_code == 201
    assert soon.json()["kind"] == "manual"
    assert soon.json()["due_at"] == "2025-03-14T10:00:00Z"

    mine = (await client.get(URL, headers=staff.h("anna"))).json()
    assert [r["text"] for r in mine["items"]] == ["Проверить заявку", "Позвонить в РЭС"]
    assert (await client.get(f"{URL}/due", headers=staff.h("anna"))).json() == []

    clock.advance(timedelta(minutes=30))
    due = (await client.get(f"{URL}/due", headers=staff.h("anna"))).json()
    assert [r["text"] for r in due] == ["Проверить заявку"]

    done = await client.post(f"{URL}/{soon.json()['id']}/done", headers=staff.h("anna"))
    assert done.json()["done_at"] == "2025-03-14T10:00:00Z"
    assert (await client.get(f"{URL}/due", headers=staff.h("anna"))).json() == []
    assert (await client.get(URL, headers=staff.h("anna"))).json()["total"] == 1
    everything = await client.get(URL, params={"include_done": True}, headers=staff.h("anna"))
    assert everything.json()["total"] == 2
    assert len(await audit_entries(session_factory, "reminder.create")) == 2
    assert len(await audit_entries(session_factory, "reminder.done")) == 1


async def test_someone_elses_reminder_cannot_be_marked_done(
    client: httpx.AsyncClient, staff: Staff, session_factory: Sessions
) -> None:
    created = await client.post(
        URL, json={"due_at": START.isoformat(), "text": "Личное"}, headers=staff.h("anna")
    )
    reply = await client.post(f"{URL}/{created.json()['id']}/done", headers=staff.h("boris"))
    assert reply.status_code == 404
    assert (await client.get(URL, headers=staff.h("boris"))).json()["total"] == 0
    (refused,) = await audit_entries(session_factory, "access_denied")
    assert refused.details["action"] == "reminder.done"


async def test_reminder_needs_text_and_a_time_zone(client: httpx.AsyncClient, staff: Staff) -> None:
    empty = await client.post(
        URL, json={"due_at": START.isoformat(), "text": "  "}, headers=staff.h("anna")
    )
    assert empty.status_code == 422
    assert empty.json()["detail"] == "Текст напоминания пуст"
    naive = await client.post(
        URL, json={"due_at": "2025-03-14T13:00:00", "text": "x"}, headers=staff.h("anna")
    )
    assert naive.status_code == 422
