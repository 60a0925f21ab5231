"""Watching colleagues over HTTP: line 1 sees lines 1 and 2, line 2 sees line 2, line 3 sees
line 3, supervisors and administrators see everyone; the queue list."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import queues as queues_repo
from callcenter.domain.agents import OperatorState
from tests.api.workstation.support import START, Sessions, Staff


@pytest.fixture
async def states(session_factory: Sessions, staff: Staff) -> None:
    async with session_factory.begin() as session:
        anna, vera = staff["anna"].operator_id, staff["vera"].operator_id
        assert anna is not None
        assert vera is not None
        await operators_repo.set_state(
            session, anna, OperatorState.READY, at=START - timedelta(hours=1)
        )
        await operators_repo.set_state(session, anna, OperatorState.ON_CALL, at=START)
        await operators_repo.set_state(
            session, vera, OperatorState.PAUSED, at=START, pause_reason="обед"
        )


async def board(client: httpx.AsyncClient, staff: Staff, who: str) -> dict:
    reply = await client.get("/api/v1/operators/states", headers=staff.h(who))
    assert reply.status_code == 200, reply.text
    result: dict = reply.json()
    return result


@pytest.mark.parametrize(
    ("who", "lines", "names"),
    [
        ("anna", [1, 2], ["Anna", "Boris", "Vera"]),
        ("boris", [1, 2], ["Anna", "Boris", "Vera"]),
        ("vera", [2], ["Vera"]),
        ("gleb", [3], ["Gleb"]),
        ("sveta", [1, 2, 3], ["Anna", "Boris", "Vera", "Gleb"]),
        ("admin", [1, 2, 3], ["Anna", "Boris", "Vera", "Gleb"]),
    ],
)
async def test_visibility_rule(
    client: httpx.AsyncClient,
    staff: Staff,
    states: None,
    who: str,
    lines: list[int],
    names: list[str],
) -> None:
    seen = await board(client, staff, who)
    assert seen["lines"] == lines
    assert [o["full_name"] for o in seen["operators"]] == names


async def test_board_shows_current_state_since_when_and_pause_reason(
    client: httpx.AsyncClient, staff: Staff, states: None
) -> None:
    rows = {o["full_name"]: o for o in (await board(client, staff, "anna"))["operators"]}
    assert rows["Anna"]["state"] == "on_call"
    assert rows["Anna"]["since"] == "2025-03-14T09:30:00Z"
    assert (rows["Vera"]["state"], rows["Vera"]["pause_reason"]) == ("paused", "обед")
    assert (rows["Boris"]["state"], rows["Boris"]["since"]) == ("logged_out", None)


async def test_queue_list_with_member_states(
    client: httpx.AsyncClient, staff: Staff, states: None, session_factory: Sessions
) -> None:
    async with session_factory.begin() as session:
        line1 = await queues_repo.create(
            session, name="line1", support_line=1, description="Линия 1"
        )
        for name in ("anna", "boris"):
            operator_id = staff[name].operator_id
            assert operator_id is not None
            await queues_repo.add_member(session, line1, operator_id)
        await queues_repo.create(session, name="overflow", support_line=None, is_overflow=True)
    queues = (await client.get("/api/v1/queues/list", headers=staff.h("vera"))).json()
    assert [(q["name"], q["members"], q["is_overflow"]) for q in queues] == [
        ("line1", 2, False),
        ("overflow", 0, True),
    ]
    assert queues[0]["member_states"] == {"on_call": 1, "logged_out": 1}
    assert queues[0]["wait_target_seconds"] == 40
