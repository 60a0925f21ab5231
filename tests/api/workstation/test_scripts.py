"""Call scripts over HTTP: supervisors write question trees; running one with an operator's
answers saves them into the appeal's parameters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.workstation.support import Sessions, Staff, audit_entries

SCRIPTS = "/api/v1/scripts"

TREE: dict[str, Any] = {
    "start": "reason",
    "nodes": {
        "reason": {
            "text": "Что случилось?",
            "param": "reason",
            "options": [
                {"value": "no_power", "label": "Нет электроэнергии", "next": "since"},
                {"value": "low_voltage", "label": "Низкое напряжение"},
            ],
        },
        "since": {"text": "С какого времени нет света?", "param": "outage_since"},
    },
}


@pytest.fixture
async def script_id(client: httpx.AsyncClient, staff: Staff) -> int:
    reply = await client.post(
        SCRIPTS, json={"name": "Отключение", "tree": TREE}, headers=staff.h("sveta")
    )
    assert reply.status_code == 201, reply.text
    result: int = reply.json()["id"]
    return result


async def new_appeal(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> str:
    reply = await client.post(
        "/api/v1/appeals", json={"text": "Нет света", "params": params}, headers=headers
    )
    assert reply.status_code == 201, reply.text
    appeal_id: str = reply.json()["id"]
    return appeal_id


async def test_running_a_script_saves_answers_into_the_appeal(
    client: httpx.AsyncClient, staff: Staff, script_id: int, session_factory: Sessions
) -> None:
    appeal_id = await new_appeal(client, staff.h("anna"), account_number="6901000017")
    reply = await client.post(
        f"{SCRIPTS}/{script_id}/run",
        json={
            "appeal_id": appeal_id,
            "answers": [
                {"node": "reason", "value": "no_power"},
                {"node": "since", "value": "с 8 утра"},
            ],
        },
        headers=staff.h("anna"),
    )
    assert reply.status_code == 200, reply.text
    run = reply.json()
    assert run["saved"] == {"reason": "no_power", "outage_since": "с 8 утра"}
    assert run["finished"] is True
    assert run["next_node"] is None

    appeal = (await client.get(f"/api/v1/appeals/{appeal_id}", headers=staff.h("anna"))).json()
    params = appeal["params"]
    assert params["account_number"] == "6901000017"  # what was there stays
    assert params["reason"] == "no_power"
    assert params["outage_since"] == "с 8 утра"
    assert params["_script"]["name"] == "Отключение"
    assert params["_script"]["path"] == ["reason", "since"]
    (entry,) = await audit_entries(session_factory, "call_script.run")
    assert entry.object_id == appeal_id


async def test_answers_off_the_tree_are_refused_and_nothing_is_saved(
    client: httpx.AsyncClient, staff: Staff, script_id: int
) -> None:
    appeal_id = await new_appeal(client, staff.h("anna"))
    reply = await client.post(
        f"{SCRIPTS}/{script_id}/run",
        json={"appeal_id": appeal_id, "answers": [{"node": "reason", "value": "boom"}]},
        headers=staff.h("anna"),
    )
    assert reply.status_code == 422
    assert "допустимые ответы" in reply.json()["detail"]
    appeal = (await client.get(f"/api/v1/appeals/{appeal_id}", headers=staff.h("anna"))).json()
    assert appeal["params"] == {}


async def test_running_on_an_appeal_of_another_line_is_forbidden(
    client: httpx.AsyncClient, staff: Staff, script_id: int
) -> None:
    appeal_id = await new_appeal(client, staff.h("anna"))
    reply = await client.post(
        f"{SCRIPTS}/{script_id}/run",
        json={"appeal_id": appeal_id, "answers": [{"node": "reason", "value": "low_voltage"}]},
        headers=staff.h("vera"),
    )
    assert reply.status_code == 403


async def test_scripts_are_written_by_supervisors_and_checked(
    client: httpx.AsyncClient, staff: Staff, script_id: int
) -> None:
    assert (
        await client.post(SCRIPTS, json={"name": "X", "tree": TREE}, headers=staff.h("anna"))
    ).status_code == 403
    duplicate = await client.post(
        SCRIPTS, json={"name": "Отключение", "tree": TREE}, headers=staff.h("sveta")
    )
    assert duplicate.status_code == 409
    looping = {
        "start": "a",
        "nodes": {
            "a": {"text": "?", "param": "p", "next": "b"},
            "b": {"text": "?", "param": "q", "next": "a"},
        },
    }
    bad = await client.post(
        SCRIPTS, json={"name": "Петля", "tree": looping}, headers=staff.h("sveta")
    )
    assert bad.status_code == 422
    assert "зацикливается" in bad.json()["detail"]

    renamed = await client.patch(
        f"{SCRIPTS}/{script_id}", json={"name": "Нет света"}, headers=staff.h("admin")
    )
    assert renamed.json()["name"] == "Нет света"
    listed = (await client.get(SCRIPTS, headers=staff.h("anna"))).json()
    assert [s["name"] for s in listed] == ["Нет света"]
    assert listed[0]["tree"]["start"] == "reason"
