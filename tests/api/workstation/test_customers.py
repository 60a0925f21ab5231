"""Caller identification over HTTP: by phone number in any usual spelling or by account;
the card carries recent calls and appeals; every lookup is audited."""

from __future__ import annotations

import httpx
import pytest

from callcenter.db.repositories import appeals as appeals_repo
from callcenter.db.repositories import calls as calls_repo
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import localities as localities_repo
from callcenter.domain.appeals import AppealChannel
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.customers import CustomerCategory
from tests.api.workstation.support import START, Sessions, Staff, audit_entries

LOOKUP = "/api/v1/customers/lookup"


@pytest.fixture
async def customer_id(session_factory: Sessions) -> int:
    async with session_factory.begin() as session:
        tver = await localities_repo.create(session, name="Тверь", region="Тверская область")
        customer = await customers_repo.create(
            session,
            account_number="6901000001",
            full_name="Иванов Сергей Петрович",
            category=CustomerCategory.INDIVIDUAL,
            phones=["+79157001122"],
            locality_id=tver.id,
            balance_kopecks=125050,
        )
        # a family sharing a number
        await customers_repo.create(
            session,
            account_number="6901000002",
            full_name="Иванова Анна Ивановна",
            category=CustomerCategory.INDIVIDUAL,
            phones=["+79157001122", "+74822111111"],
        )
        await calls_repo.upsert(
            session,
            "linked-1",
            direction=Direction.INBOUND,
            caller_number="+79157001122",
            started_at=START,
            customer_id=customer.id,
            disposition=Disposition.ANSWERED,
            talk_seconds=95.0,
        )
        await appeals_repo.create(
            session,
            number="20250314-0001",
            channel=AppealChannel.PHONE,
            created_at=START,
            text="Нет света",
            customer_id=customer.id,
        )
        return customer.id


@pytest.mark.parametrize(
    "spelling", ["+79157001122", "8 (915) 700-11-22", "79157001122", "9157001122"]
)
async def test_lookup_by_phone_in_any_spelling_finds_everyone_on_the_number(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, spelling: str
) -> None:
    reply = await client.get(LOOKUP, params={"phone": spelling}, headers=staff.h("anna"))
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["query"] == "+79157001122"
    assert [c["account_number"] for c in found["customers"]] == ["6901000001", "6901000002"]
    card = found["customers"][0]
    assert card["locality"] == "Тверь"
    assert card["balance_kopecks"] == 125050
    assert [c["talk_seconds"] for c in card["recent_calls"]] == [95.0]
    assert [a["number"] for a in card["recent_appeals"]] == ["20250314-0001"]


async def test_lookup_by_account_and_unknown_caller(
    client: httpx.AsyncClient, staff: Staff, customer_id: int, session_factory: Sessions
) -> None:
    by_account = await client.get(LOOKUP, params={"account": "6901000002"}, headers=staff.h("vera"))
    assert [c["full_name"] for c in by_account.json()["customers"]] == ["Иванова Анна Ивановна"]
    unknown = await client.get(LOOKUP, params={"phone": "+74950000000"}, headers=staff.h("vera"))
    assert unknown.status_code == 200
    assert unknown.json()["customers"] == []

    entries = await audit_entries(session_factory, "customer.lookup", user_id=staff["vera"].user_id)
    assert sorted(e.details["query"] for e in entries) == ["+74950000000", "6901000002"]
    assert {e.object_id for e in entries} == {"", str(customer_id + 1)}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"phone": "+79157001122", "account": "6901000001"},
        {"phone": "не номер"},
        {"phone": "12345678901234"},
    ],
)
async def test_lookup_needs_exactly_one_valid_key(
    client: httpx.AsyncClient, staff: Staff, params: dict[str, str]
) -> None:
    reply = await client.get(LOOKUP, params=params, headers=staff.h("anna"))
    assert reply.status_code == 422
