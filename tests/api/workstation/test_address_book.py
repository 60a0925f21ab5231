"""Address books over HTTP: the personal book is private, unlimited and paged; the corporate
directory is read by all and edited by administrators; numbers are stored normalised."""

from __future__ import annotations

from typing import Any

import httpx

from callcenter.db.models import PersonalContact
from tests.api.workstation.support import START, Sessions, Staff, audit_entries

PERSONAL = "/api/v1/address-book/personal"
CORPORATE = "/api/v1/address-book/corporate"


async def add(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, phone: str, **extra: Any
) -> dict[str, Any]:
    reply = await client.post(
        PERSONAL, json={"name": name, "phone": phone, **extra}, headers=headers
    )
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def test_personal_contact_crud_with_normalised_numbers(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    contact = await add(client, staff.h("anna"), "Петров, мастер", "8 (915) 700-11-22")
    assert contact["phone"] == "+79157001122"
    url = f"{PERSONAL}/{contact['id']}"

    changed = await client.patch(url, json={"note": "после 14:00"}, headers=staff.h("anna"))
    assert changed.status_code == 200
    assert changed.json()["note"] == "после 14:00"
    assert changed.json()["name"] == "Петров, мастер"

    assert (await client.delete(url, headers=staff.h("anna"))).status_code == 204
    assert (await client.get(url, headers=staff.h("anna"))).status_code == 404


async def test_bad_numbers_are_refused_in_russian(client: httpx.AsyncClient, staff: Staff) -> None:
    reply = await client.post(
        PERSONAL, json={"name": "X", "phone": "12345678901234"}, headers=staff.h("anna")
    )
    assert reply.status_code == 422
    assert "номер" in reply.json()["detail"]
    internal = await add(client, staff.h("anna"), "Диспетчер", "501")
    assert internal["phone"] == "501"


async def test_another_users_contact_is_not_found_and_the_attempt_is_audited(
    client: httpx.AsyncClient, staff: Staff, session_factory: Sessions
) -> None:
    contact = await add(client, staff.h("anna"), "Петров", "+79157001122")
    url = f"{PERSONAL}/{contact['id']}"
    for method, kwargs in (
        ("GET", {}),
        ("PATCH", {"json": {"name": "Взломано"}}),
        ("DELETE", {}),
    ):
        # even the administrator: a personal book is personal
        for intruder in ("boris", "admin"):
            reply = await client.request(method, url, headers=staff.h(intruder), **kwargs)
            assert reply.status_code == 404, (method, intruder)
            assert reply.json()["detail"] == f"Контакт {contact['id']} не найден"

    still = await client.get(url, headers=staff.h("anna"))
    assert still.json()["name"] == "Петров"
    refused = await audit_entries(session_factory, "access_denied", user_id=staff["boris"].user_id)
    assert sorted(e.details["action"] for e in refused) == [
        "personal_contact.delete",
        "personal_contact.read",
        "personal_contact.update",
    ]
    assert (await client.get(PERSONAL, headers=staff.h("boris"))).json()["total"] == 0


async def test_personal_book_has_no_size_limit_and_is_paged(
    client: httpx.AsyncClient, staff: Staff, session_factory: Sessions
) -> None:
    count = 1200
    async with session_factory.begin() as session:
        session.add_all(
            PersonalContact(
                user_id=staff["anna"].user_id,
                name=f"Контакт {n:04d}",
                phone=f"+7915{n:07d}",
                created_at=START,
            )
            for n in range(count)
        )
    page = (
        await client.get(PERSONAL, params={"limit": 500, "offset": 1000}, headers=staff.h("anna"))
    ).json()
    assert page["total"] == count
    assert [c["name"] for c in page["items"]][:2] == ["Контакт 1000", "Контакт 1001"]
    assert len(page["items"]) == 200
    created = await add(client, staff.h("anna"), "Ещё один", "+79160000000")
    assert created["id"] > 0


async def test_personal_search_folds_cyrillic_case_and_yo_and_matches_digits(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    await add(client, staff.h("anna"), "Ковалёв Андрей", "+79157001122")
    await add(client, staff.h("anna"), "Белов Игорь", "+74822345610", note="РЭС, ЛЭП")
    await add(client, staff.h("boris"), "Ковалев чужой", "+79160000001")

    async def names(q: str) -> list[str]:
        reply = await client.get(PERSONAL, params={"q": q}, headers=staff.h("anna"))
        return [c["name"] for c in reply.json()["items"]]

    assert await names("КОВАЛЕВ") == ["Ковалёв Андрей"]
    assert await names("лэп") == ["Белов Игорь"]
    assert await names("8 915 700") == ["Ковалёв Андрей"]
    assert await names("34561") == ["Белов Игорь"]
    assert await names("Сидоров") == []


async def test_corporate_directory_is_read_by_all_and_edited_by_admins_only(
    client: httpx.AsyncClient, staff: Staff, session_factory: Sessions
) -> None:
    entry = {
        "name": "Дежурный диспетчер",
        "department": "Диспетчерская служба Тверского РЭС",
        "position": "Диспетчер",
        "phone": "8 4822 34-56-01",
        "extension": "501",
    }
    refused = await client.post(CORPORATE, json=entry, headers=staff.h("sveta"))
    assert refused.status_code == 403
    created = await client.post(CORPORATE, json=entry, headers=staff.h("admin"))
    assert created.status_code == 201
    assert created.json()["phone"] == "+74822345601"
    other = {**entry, "name": "Юрисконсульт", "department": "Юридический отдел", "extension": "530"}
    other["phone"] = None
    await client.post(CORPORATE, json=other, headers=staff.h("admin"))

    listed = (await client.get(CORPORATE, params={"q": "рэс"}, headers=staff.h("anna"))).json()
    assert [c["name"] for c in listed["items"]] == ["Дежурный диспетчер"]
    everyone = (await client.get(CORPORATE, headers=staff.h("anna"))).json()
    assert everyone["total"] == 2

    url = f"{CORPORATE}/{created.json()['id']}"
    assert (await client.put(url, json=entry, headers=staff.h("anna"))).status_code == 403
    assert (await client.delete(url, headers=staff.h("anna"))).status_code == 403
    renamed = await client.put(
        url, json={**entry, "name": "Диспетчер РЭС"}, headers=staff.h("admin")
    )
    assert renamed.json()["name"] == "Диспетчер РЭС"
    assert (await client.delete(url, headers=staff.h("admin"))).status_code == 204
    assert (await client.get(CORPORATE, headers=staff.h("anna"))).json()["total"] == 1

    actions = [
        e.details["action"]
        for e in await audit_entries(session_factory, "access_denied")
        if e.object_type == "corporate_contact"
    ]
    assert sorted(actions) == [
        "corporate_contact.create",
        "corporate_contact.delete",
        "corporate_contact.update",
    ]
    assert len(await audit_entries(session_factory, "corporate_contact.delete")) == 1
