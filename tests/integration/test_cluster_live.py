"""Issue 15: what happens on a telephony node reaches people on any API node, and what they
ask for reaches the telephony node that can do it. Roles and simulators run as separate
processes on one PostgreSQL (LISTEN/NOTIFY in between, nothing else).

* An operator signed in on an API node gets the screen-pop over that node's WebSocket when
  the telephony node's queue offers them a call; the API node's live calls list shows it.
* With two telephony nodes (each with its own Asterisk), a hang-up asked for on an API node
  is carried out by the node whose Asterisk has the channel, whichever that is.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text

from callcenter.db.engine import create_engine
from tests.support.cluster import cluster_env, start_api, start_site
from tests.support.roles import (
    token,
    until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


async def test_screen_pop_and_live_calls_reach_an_operator_on_an_api_node(
    cluster_db: str, tmp_path: Path
) -> None:
    base = cluster_env(
        cluster_db,
        tmp_path,
        # nobody presses "ready" on a simulated phone: a short after-call work keeps the
        # operators ringing while the test watches
        CALLCENTER_ACD_WRAP_UP_SECONDS="2",
    )
    async with AsyncExitStack() as stack:
        telephony = await start_site(stack, base, tmp_path, "main", "live-main.yaml")
        api = await start_api(stack, base, tmp_path)
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=api.base_url))
        operator = await token(http, "operator101", "operator")
        ws_url = api.base_url.replace("http://", "ws://") + f"/api/v1/ws/operator?token={operator}"
        socket = await stack.enter_async_context(websockets.connect(ws_url))
        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello"

        # the telephony node's queue offers operator 101 a call: the pop comes to this socket
        try:
            async with asyncio.timeout(120):
                pop = json.loads(await socket.recv())
        except TimeoutError:
            print(telephony.output()[-3000:], api.output()[-3000:])
            raise
        assert pop["type"] == "screen_pop", pop
        assert pop["queue"] == "line1"
        assert pop["linkedid"]
        assert pop["caller_number"]

        # and the API node's list of the operator's live calls shows that call
        headers = {"Authorization": f"Bearer {operator}"}

        async def listed() -> list[dict[str, Any]] | None:
            reply = await http.get("/api/v1/me/calls/live", headers=headers)
            assert reply.status_code == 200, reply.text
            calls: list[dict[str, Any]] = reply.json()
            return [c for c in calls if c["linkedid"] == pop["linkedid"]] or None

        (call,) = await until(listed, within=30, what="the popped call in the live calls list")
        assert call["queue_name"] == "line1"
        assert call["caller_number"] == pop["caller_number"]
        assert "101" in (call["operator_interface"] or "")


async def published(url: str) -> dict[str, dict[str, Any]]:
    """What each telephony node last published of its own Asterisk."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT name, snapshot FROM cluster_nodes"))).all()
    finally:
        await engine.dispose()
    return {str(name): dict(snapshot or {}) for name, snapshot in rows}


async def hangup_taker(url: str, channel: str) -> str | None:
    """The node that carried out the hang-up request for `channel`."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT taken_by, payload FROM node_requests "
                        "WHERE kind = 'pbx.hangup' AND done_at IS NOT NULL"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    for taken_by, payload in rows:
        data = payload if isinstance(payload, dict) else json.loads(payload)
        if data.get("args", [None])[0] == channel:
            return str(taken_by)
    return None


async def test_call_control_goes_to_the_telephony_node_that_has_the_channel(
    cluster_db: str, tmp_path: Path
) -> None:
    base = cluster_env(
        cluster_db,
        tmp_path,
        # nobody presses "ready" on a simulated phone: a short after-call work keeps the
        # operators ringing while the test watches
        CALLCENTER_ACD_WRAP_UP_SECONDS="2",
    )
    async with AsyncExitStack() as stack:
        await start_site(stack, base, tmp_path, "main", "long-main.yaml")
        await start_site(stack, base, tmp_path, "branch", "long-branch.yaml")
        api = await start_api(stack, base, tmp_path)
        http = await stack.enter_async_context(httpx.AsyncClient(base_url=api.base_url))
        supervisor = {"Authorization": f"Bearer {await token(http, 'supervisor', 'supervisor')}"}

        # a talking operator's channel at each site, as each node publishes what its own
        # Asterisk has; one whose name the other Asterisk does not also have (names are only
        # unique per Asterisk: both may have a PJSIP/101-00000006)
        async def talking_on_both() -> dict[str, dict[str, Any]] | None:
            pictures = await published(cluster_db)
            # ... which the supervisor's live list on the API node shows
            reply = await http.get("/api/v1/me/calls/live", headers=supervisor)
            listed = {c["linkedid"]: c["operator_channel"] for c in reply.json()}
            found: dict[str, dict[str, Any]] = {}
            for name, picture in pictures.items():
                others = {c for n, p in pictures.items() if n != name for c in p["channels"]}
                for call in picture.get("calls") or []:
                    for leg in call["legs"]:
                        talking = leg["answered_at"] and not leg["ended_at"]
                        shown = listed.get(call["linkedid"]) == leg["channel"]
                        if talking and shown and leg["channel"] not in others:
                            found.setdefault(name, {**call, "channel": leg["channel"]})
            return found if set(found) == {"tel-main", "tel-branch"} else None

        calls = await until(talking_on_both, within=120, what="a talking call at both sites")
        for node in ("tel-branch", "tel-main"):
            channel = calls[node]["channel"]
            reply = await http.post(f"/api/v1/me/calls/{channel}/hangup", headers=supervisor)
            assert reply.status_code == 204, (node, reply.text)
            assert await hangup_taker(cluster_db, channel) == node

        # the hung-up calls leave the live list of the API node
        async def gone() -> bool:
            reply = await http.get("/api/v1/me/calls/live", headers=supervisor)
            live = {c["linkedid"] for c in reply.json()}
            return not live & {c["linkedid"] for c in calls.values()}

        await until(gone, within=30, what="both hung-up calls gone from the live list")
