"""A whole operator shift through the workstation API, against the built-in PBX simulator.

Operator 101 signs in, logs into the queues and goes ready; a caller rings them and the
screen-pop arrives; the simulated phone answers; the operator finds a knowledge-base
article, registers an appeal for the call, transfers the caller to line 2 (the transfer
shows in the call record), sets a reminder and logs out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from callcenter.sim.callers import CallerScript
from tests.api.test_call_control import WsSession
from tests.e2e.test_platform_calls import Rig, operator
from tests.e2e.test_platform_calls import rig as rig  # the fixture
from tests.support.eventually import finished

CALLER = "+79161230000"


async def test_an_operator_shift(rig: Rig) -> None:
    http = rig.http
    # the operator's phone: answers after 2 s, stays on the line
    rig.sim.add_operator(operator("101", answer_after=2.0, talk_time=3600.0))
    signed = await http.post(
        "/api/v1/auth/token", data={"username": "operator101", "password": "operator"}
    )
    token = signed.json()["access_token"]
    me = {"Authorization": f"Bearer {token}"}

    # log in to the queues of line 1 and go ready
    assert (await http.post("/api/v1/me/login", headers=me)).status_code == 200
    await http.post("/api/v1/me/ready", headers=me)

    async def ready() -> bool:
        state = (await http.get("/api/v1/me/state", headers=me)).json()
        return bool(state["state"] == "ready")

    await rig.until(ready)

    # the screen-pop WebSocket
    app = http._transport.app  # type: ignore[attr-defined]
    ws = WsSession(app, "/api/v1/ws/operator", f"token={token}")
    accepted = await ws.connect()
    assert accepted["type"] == "websocket.accept"
    assert (await ws.receive_json())["type"] == "hello"

    # a caller with no tone dialling reaches line 1 and rings operator 101
    await rig.sim.place_inbound_call(CallerScript(number=CALLER, pulse=True))
    pop = await finished(rig.time, ws.receive_json())
    assert pop["type"] == "screen_pop"
    assert pop["caller_number"] == CALLER

    # the phone answers: the operator is on the call
    async def on_call() -> bool:
        state = (await http.get("/api/v1/me/state", headers=me)).json()
        return bool(state["state"] == "on_call")

    await rig.until(on_call)

    # knowledge base
    hits = (await http.get("/api/v1/kb/search", params={"q": "счётчик"}, headers=me)).json()
    assert hits

    # register an appeal for this call
    live = (await http.get("/api/v1/me/calls/live", headers=me)).json()
    assert live
    (mine,) = live
    call_id = mine["call_id"]
    appeal = await http.post(
        "/api/v1/appeals",
        json={"text": "Нет света в доме с утра", "call_id": call_id, "topic_code": None},
        headers=me,
    )
    assert appeal.status_code == 201, appeal.text

    # transfer the caller to line 2; the call record shows it
    transfer = await http.post(
        "/api/v1/me/calls/transfer",
        json={"channel": mine["linkedid"], "target_kind": "line", "target": "line2"},
        headers=me,
    )
    assert transfer.status_code in (200, 202, 204), transfer.text

    async def transferred() -> dict[str, Any] | None:
        assert rig.platform.calls is not None
        await rig.platform.calls.flush()
        detail = (await http.get(f"/api/v1/calls/{call_id}", headers=rig.headers)).json()
        return detail if detail.get("transfers") else None

    record = await rig.until(transferred)
    assert record["transfer_count"] >= 1
    assert "line2" in record["transfers"][-1]["to_target"]

    # a reminder, then the end of the shift
    due = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    reminder = await http.post(
        "/api/v1/reminders", json={"due_at": due, "text": "Перезвонить по отключению"}, headers=me
    )
    assert reminder.status_code == 201, reminder.text
    await ws.close()
    logout = await http.post("/api/v1/me/logout", headers=me)
    assert logout.status_code == 200, logout.text
    assert logout.json()["state"] == "logged_out"
