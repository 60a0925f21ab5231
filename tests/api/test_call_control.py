"""Call control and screen-pop over the real AmiClient against the fake AMI server: the exact
frames Asterisk receives, refusals for other operators' calls, Asterisk errors as HTTP codes,
and the pop pushed over the operator's WebSocket when a call rings for them."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.acd.service import AcdAmiListener, AcdService
from callcenter.api.app import create_app
from callcenter.api.tokens import issue_token
from callcenter.asterisk.ami import AmiClient
from callcenter.bootstrap import Platform
from callcenter.calls.records import CallEvents
from callcenter.db.models import AuditLogEntry, Operator
from callcenter.db.repositories import audit as audit_repo
from callcenter.db.repositories import customers as customers_repo
from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import users as users_repo
from callcenter.domain.calls import CallTracker
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.roles import Role
from callcenter.workstation.call_control import CallControlState
from callcenter.workstation.redial_runner import RedialRunner
from callcenter.workstation.screen_pop import ScreenPopHub
from tests.support.eventually import eventually
from tests.support.fake_ami import (
    S1,
    FakeAmiServer,
    RecordingListener,
    fast_client,
    running_client,
    transcript_frames,
)

Sessions = async_sessionmaker[AsyncSession]

CALLER = "1795432716.0"  # S1: the queued caller's channel uniqueid (= the call's linkedid)
ALICE_LEG = "Local/101@agents-00000001;1"  # S1: the leg that rang operator 101


class _Link:
    """What both PBX links of build_platform expose to the API: the AMI client."""

    def __init__(self, client: AmiClient) -> None:
        self.client = client


@dataclass
class Person:
    user_id: int
    operator_id: int | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
async def ami() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer() as server:
        yield server


@pytest.fixture
async def ami_client(ami: FakeAmiServer) -> AsyncIterator[AmiClient]:
    async with running_client(ami, RecordingListener(), action_timeout=0.5) as client:
        yield client


@pytest.fixture
def calls(platform: Platform, session_factory: Sessions) -> CallEvents:
    events = CallEvents(session_factory, tracker=CallTracker())
    platform.calls = events
    return events


@pytest.fixture
def app(
    platform: Platform, ami_client: AmiClient, calls: CallEvents, monkeypatch: pytest.MonkeyPatch
) -> FastAPI:
    monkeypatch.setattr(platform, "pbx", _Link(ami_client))
    return create_app(platform, manage_lifecycle=False)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c
    state: CallControlState | None = getattr(app.state, "call_control", None)
    if state is not None:
        await state.close()


@pytest.fixture
async def people(session_factory: Sessions, platform: Platform) -> dict[str, Person]:
    secret = platform.settings.jwt_secret.get_secret_value()
    team: dict[str, Person] = {}
    staff = {"alice": (Role.OPERATOR, "101"), "bob": (Role.OPERATOR, "102"), "sveta": None}
    async with session_factory.begin() as session:
        for name, spec in staff.items():
            operator_id = None
            role = Role.SUPERVISOR
            if spec is not None:
                role, extension = spec
                operator = await operators_repo.create(
                    session, extension=extension, full_name=name.title(), support_line=1
                )
                operator_id = operator.id
            user = await users_repo.create(
                session,
                username=name,
                password_hash="!",
                role=role,
                full_name=name.title(),
                operator_id=operator_id,
            )
            token, _ = issue_token(
                secret=secret,
                user_id=user.id,
                username=name,
                role=role,
                now=datetime.now(UTC),
                ttl=timedelta(hours=1),
            )
            team[name] = Person(user.id, operator_id, token)
    return team


async def feed(listener: Any, *, until: str) -> None:
    """S1's events (an IVR call queued for operator 101) up to and including `until`."""
    for frame in transcript_frames(S1):
        if frame.event is None:
            continue
        await listener.on_event(frame, datetime.now(UTC))
        if frame.event == until:
            return


async def audit(session_factory: Sessions, action: str, user_id: int) -> list[AuditLogEntry]:
    async with session_factory() as session:
        found = await audit_repo.search(session, action=action, user_id=user_id)
    return sorted(found, key=lambda e: e.id)  # oldest first


def fields(frame: Any, *names: str) -> dict[str, str | None]:
    return {n: frame.get(n) for n in names}


# ------------------------------------------------------------------ click-to-call


async def test_dial_rings_my_phone_then_the_normalised_number(
    client: httpx.AsyncClient,
    ami: FakeAmiServer,
    people: dict[str, Person],
    session_factory: Sessions,
) -> None:
    alice = people["alice"]
    reply = await client.post(
        "/api/v1/me/calls/dial", json={"number": "8 (915) 700-11-22"}, headers=alice.headers
    )
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert uuid.UUID(body["channel_id"])
    assert body["number"] == "+79157001122"
    (originate,) = ami.actions("Originate")
    assert fields(originate, "Channel", "Context", "Exten", "Priority", "ChannelId") == {
        "Channel": "PJSIP/101",
        "Context": "outbound",
        "Exten": "89157001122",
        "Priority": "1",
        "ChannelId": body["channel_id"],
    }
    # the call record learns whose call it is and whom it is to (issue 16, row 6)
    assert originate.get_all("Variable") == [
        f"CALL_UUID={body['channel_id']}",
        "DIAL_OPERATOR=pjsip/101",
        "DIAL_NUMBER=+79157001122",
    ]

    reply = await client.post(
        "/api/v1/me/calls/dial", json={"number": "205"}, headers=alice.headers
    )
    assert reply.status_code == 202, reply.text
    internal = ami.actions("Originate")[-1]
    assert fields(internal, "Channel", "Context", "Exten") == {
        "Channel": "PJSIP/101",
        "Context": "internal",
        "Exten": "205",
    }
    logged = await audit(session_factory, "call.dial", alice.user_id)
    assert {e.details["number"] for e in logged} == {"+79157001122", "205"}

    # the dialplan refuses these; the API says why and sends nothing
    for number in ("+44 20 7946 0958", "8 809 123-45-67", "12"):
        reply = await client.post(
            "/api/v1/me/calls/dial", json={"number": number}, headers=alice.headers
        )
        assert reply.status_code == 422, number
    assert len(ami.actions("Originate")) == 2

    # a supervisor without a phone cannot dial
    reply = await client.post(
        "/api/v1/me/calls/dial", json={"number": "205"}, headers=people["sveta"].headers
    )
    assert reply.status_code == 422


# ------------------------------------------------------------------ transfer, hangup, access


async def test_transfers_use_blindtransfer_for_my_leg_and_redirect_for_the_caller(
    client: httpx.AsyncClient,
    ami: FakeAmiServer,
    calls: CallEvents,
    people: dict[str, Person],
    session_factory: Sessions,
) -> None:
    alice = people["alice"]
    await feed(calls, until="AgentConnect")
    live = await client.get("/api/v1/me/calls/live", headers=alice.headers)
    assert [c["linkedid"] for c in live.json()] == [CALLER]
    assert (await client.get("/api/v1/me/calls/live", headers=people["bob"].headers)).json() == []

    async def transfer(**body: Any) -> httpx.Response:
        return await client.post("/api/v1/me/calls/transfer", json=body, headers=alice.headers)

    reply = await transfer(channel=ALICE_LEG, target_kind="line", target="2")
    assert reply.status_code == 200, reply.text
    (blind,) = ami.actions("BlindTransfer")
    assert fields(blind, "Channel", "Context", "Exten") == {
        "Channel": ALICE_LEG,
        "Context": "transfer",
        "Exten": "line2",
    }

    reply = await transfer(channel=CALLER, target_kind="external", target="+7 915 700 11 22")
    assert reply.status_code == 200, reply.text
    (redirect,) = ami.actions("Redirect")
    assert fields(redirect, "Channel", "Context", "Exten", "Priority") == {
        "Channel": CALLER,
        "Context": "transfer",
        "Exten": "89157001122",
        "Priority": "1",
    }

    assert (await transfer(channel=CALLER, target_kind="ivr")).status_code == 200
    assert ami.actions("Redirect")[-1].get("Exten") == "ivr"

    reply = await transfer(channel=ALICE_LEG, target_kind="operator", target="102", attended=True)
    assert reply.status_code == 200, reply.text
    (atxfer,) = ami.actions("Atxfer")
    assert fields(atxfer, "Channel", "Exten", "Context") == {
        "Channel": ALICE_LEG,
        "Exten": "102",
        "Context": "transfer",
    }
    # an attended transfer starts from the operator's leg, not the caller's
    assert (
        await transfer(channel=CALLER, target_kind="operator", target="102", attended=True)
    ).status_code == 422
    assert (await transfer(channel=CALLER, target_kind="line", target="5")).status_code == 422
    assert (
        await transfer(channel="PJSIP/101-1\r\nAction: Hangup", target_kind="ivr")
    ).status_code == 422

    logged = await audit(session_factory, "call.transfer", alice.user_id)
    assert [e.details["how"] for e in logged] == [
        "BlindTransfer",
        "Redirect",
        "Redirect",
        "Atxfer",
    ]


async def test_another_operators_call_is_not_found_and_the_attempt_is_audited(
    client: httpx.AsyncClient,
    ami: FakeAmiServer,
    calls: CallEvents,
    people: dict[str, Person],
    session_factory: Sessions,
) -> None:
    await feed(calls, until="AgentConnect")
    bob = people["bob"]
    for path, body in (
        (f"/api/v1/me/calls/{CALLER}/hangup", None),
        (f"/api/v1/me/calls/{ALICE_LEG}/hangup", None),
        ("/api/v1/me/calls/transfer", {"channel": CALLER, "target_kind": "ivr"}),
        ("/api/v1/me/conference", {"room": "901", "channels": [CALLER, ALICE_LEG]}),
    ):
        reply = await client.post(path, json=body, headers=bob.headers)
        assert reply.status_code == 404, (path, reply.text)
    assert ami.actions("Hangup") == []
    assert ami.actions("Redirect") == []
    refused = await audit(session_factory, "access_denied", bob.user_id)
    assert [e.details["action"] for e in refused] == [
        "call.hangup",
        "call.hangup",
        "call.transfer",
        "conference.join",
    ]
    assert refused[0].object_id == CALLER

    # the operator the call was given to, and a supervisor, may hang it up
    reply = await client.post(
        f"/api/v1/me/calls/{ALICE_LEG}/hangup", headers=people["alice"].headers
    )
    assert reply.status_code == 204, reply.text
    reply = await client.post(f"/api/v1/me/calls/{CALLER}/hangup", headers=people["sveta"].headers)
    assert reply.status_code == 204, reply.text
    assert [f.get("Channel") for f in ami.actions("Hangup")] == [ALICE_LEG, CALLER]


async def test_asterisk_errors_become_clear_http_answers(
    client: httpx.AsyncClient,
    app: FastAPI,
    ami: FakeAmiServer,
    calls: CallEvents,
    people: dict[str, Person],
    platform: Platform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await feed(calls, until="AgentConnect")
    alice = people["alice"]
    body = {"channel": ALICE_LEG, "target_kind": "line", "target": "1"}

    ami.fail_next["blindtransfer"] = ["No such channel"]
    reply = await client.post("/api/v1/me/calls/transfer", json=body, headers=alice.headers)
    assert reply.status_code == 409
    assert "No such channel" in reply.json()["detail"]

    ami.ignored_actions.add("BlindTransfer")
    reply = await client.post("/api/v1/me/calls/transfer", json=body, headers=alice.headers)
    assert reply.status_code == 504

    # hold: the caller is sent to the dialplan's music-on-hold extension
    reply = await client.post(
        "/api/v1/me/calls/hold", json={"channel": CALLER}, headers=alice.headers
    )
    assert reply.status_code == 204
    (held,) = ami.actions("Redirect")[-1:]
    assert (held["Channel"], held["Context"], held["Exten"]) == (CALLER, "hold", "s")

    idle = fast_client(ami, RecordingListener())  # never started: no link
    monkeypatch.setattr(platform, "pbx", _Link(idle))
    reply = await client.post("/api/v1/me/calls/transfer", json=body, headers=alice.headers)
    assert reply.status_code == 503


# ------------------------------------------------------------------ conference, redial


async def test_conference_brings_both_legs_and_an_invitee_into_the_room(
    client: httpx.AsyncClient,
    ami: FakeAmiServer,
    calls: CallEvents,
    people: dict[str, Person],
    session_factory: Sessions,
) -> None:
    await feed(calls, until="AgentConnect")
    alice = people["alice"]
    reply = await client.post(
        "/api/v1/me/conference",
        json={"room": "900", "channels": [CALLER, ALICE_LEG], "invite": ["205"]},
        headers=alice.headers,
    )
    assert reply.status_code == 200, reply.text
    (invited,) = reply.json()
    assert [fields(f, "Channel", "Context", "Exten") for f in ami.actions("Redirect")] == [
        {"Channel": CALLER, "Context": "conference", "Exten": "900"},
        {"Channel": ALICE_LEG, "Context": "conference", "Exten": "900"},
    ]
    (originate,) = ami.actions("Originate")
    assert fields(originate, "Channel", "Context", "Exten", "ChannelId") == {
        "Channel": "Local/205@internal",
        "Context": "conference",
        "Exten": "900",
        "ChannelId": invited["channel_id"],
    }
    members = await client.get("/api/v1/me/conference/900", headers=alice.headers)
    assert members.status_code == 200
    assert members.json()[0]["channel"] == "Local/900@conf-0000000e;2"
    empty = await client.get("/api/v1/me/conference/901", headers=alice.headers)
    assert empty.json() == []
    assert (await client.get("/api/v1/me/conference/123", headers=alice.headers)).status_code == 422
    assert len(await audit(session_factory, "conference.create", alice.user_id)) == 1


@pytest.fixture
async def redials(
    platform: Platform, ami_client: AmiClient, session_factory: Sessions
) -> AsyncIterator[RedialRunner]:
    """The redial runner a telephony node (or the all-in-one process) runs."""
    runner = RedialRunner(
        session_factory,
        ami_client,
        node="main",
        clock=lambda: datetime.now(UTC),
        poll_seconds=0.02,
    )
    platform.redials = runner
    await runner.start()
    yield runner
    await runner.stop()


async def test_redial_stops_when_the_attempts_run_out(
    client: httpx.AsyncClient,
    ami: FakeAmiServer,
    people: dict[str, Person],
    redials: RedialRunner,
) -> None:
    alice = people["alice"]
    # a second redial while one runs is refused (the first one waits long between attempts,
    # so it is certainly still running when the second request arrives)
    waiting = await client.post(
        "/api/v1/me/calls/redial",
        json={"number": "+79157001122", "attempts": 2, "interval_seconds": 3600},
        headers=alice.headers,
    )
    assert waiting.status_code == 202, waiting.text
    again = await client.post(
        "/api/v1/me/calls/redial", json={"number": "205"}, headers=alice.headers
    )
    assert again.status_code == 409
    stopped = await client.delete(
        f"/api/v1/me/calls/redial/{waiting.json()['id']}", headers=alice.headers
    )
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["status"] == "cancelled"

    reply = await client.post(
        "/api/v1/me/calls/redial",
        json={"number": "+79157001122", "attempts": 2, "interval_seconds": 0.05},
        headers=alice.headers,
    )
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["id"]

    async def finished() -> dict[str, Any] | None:
        jobs = (await client.get("/api/v1/me/calls/redial", headers=alice.headers)).json()
        (job,) = [j for j in jobs if j["id"] == job_id]
        return job if job["status"] != "running" else None

    job = await eventually(finished, within=10, what="the redial job done")
    assert job["status"] == "exhausted"
    assert job["made"] == 2
    originates = [f for f in ami.actions("Originate") if f.get("ChannelId") in job["channel_ids"]]
    assert [f.get("ChannelId") for f in originates] == job["channel_ids"]
    assert {f.get("Exten") for f in originates} == {"89157001122"}
    listed = (await client.get("/api/v1/me/calls/redial", headers=alice.headers)).json()
    assert sorted(j["status"] for j in listed) == ["cancelled", "exhausted"]
    # bob neither sees nor stops it
    assert (await client.get("/api/v1/me/calls/redial", headers=people["bob"].headers)).json() == []
    reply = await client.delete(f"/api/v1/me/calls/redial/{job_id}", headers=people["bob"].headers)
    assert reply.status_code == 404


# ------------------------------------------------------------------ screen-pop


class WsSession:
    """A WebSocket conversation with the ASGI app in the test's own event loop."""

    def __init__(self, app: FastAPI, path: str, query: str) -> None:
        self.to_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [],
            "scheme": "ws",
            "server": ("test", 80),
            "client": ("127.0.0.1", 50000),
            "subprotocols": [],
            "http_version": "1.1",
        }
        self.task = asyncio.create_task(app(scope, self.to_app.get, self.from_app.put))

    async def connect(self) -> MutableMapping[str, Any]:
        await self.to_app.put({"type": "websocket.connect"})
        return await self.next()

    async def next(self) -> MutableMapping[str, Any]:
        async with asyncio.timeout(5.0):
            return await self.from_app.get()

    async def receive_json(self) -> Any:
        message = await self.next()
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def close(self) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        async with asyncio.timeout(5.0):
            await self.task


@pytest.fixture
async def customer(session_factory: Sessions) -> int:
    async with session_factory.begin() as session:
        found = await customers_repo.create(
            session,
            account_number="6901000009",
            full_name="Смирнов Олег Иванович",
            category=CustomerCategory.INDIVIDUAL,
            phones=["+79161234567"],
        )
        return found.id


async def test_screen_pop_arrives_when_the_acd_rings_me_and_only_me(
    app: FastAPI,
    platform: Platform,
    calls: CallEvents,
    people: dict[str, Person],
    customer: int,
    session_factory: Sessions,
) -> None:
    alice, bob = people["alice"], people["bob"]
    # operator 101 is a queue member through Local/101@agents/n, as in the transcript
    async with session_factory.begin() as session:
        await session.execute(
            update(Operator)
            .where(Operator.id == alice.operator_id)
            .values(interface="Local/101@agents/n")
        )
    acd = AcdService(session_factory)
    await acd.states.load()
    platform.acd = acd

    mine = WsSession(app, "/api/v1/ws/operator", f"token={alice.token}")
    assert (await mine.connect())["type"] == "websocket.accept"
    assert (await mine.receive_json())["type"] == "hello"
    other = WsSession(app, "/api/v1/ws/operator", f"token={bob.token}")
    assert (await other.connect())["type"] == "websocket.accept"
    assert (await other.receive_json())["type"] == "hello"

    await feed(AcdAmiListener(acd, inner=calls), until="AgentCalled")  # ringing, not answered
    pop = await mine.receive_json()
    assert pop["type"] == "screen_pop"
    assert pop["caller_number"] == "+79161234567"
    assert pop["linkedid"] == CALLER
    assert [c["id"] for c in pop["customers"]] == [customer]
    assert pop["customers"][0]["full_name"] == "Смирнов Олег Иванович"
    assert "recent_calls" in pop["customers"][0]

    hub: ScreenPopHub = app.state.screen_pop
    by_operator = {s.operator_id: s for s in hub.subscriptions}
    assert alice.operator_id is not None
    assert bob.operator_id is not None
    assert list(by_operator[alice.operator_id].seen) == [CALLER]
    assert list(by_operator[bob.operator_id].seen) == []  # bob's phone did not ring

    # the answer (AgentConnect) is the same call: no second pop
    await feed(calls, until="AgentConnect")
    assert list(by_operator[alice.operator_id].seen) == [CALLER]
    await mine.close()
    await other.close()
    assert hub.subscriptions == ()


async def test_screen_pop_from_call_records_and_bad_tokens_are_turned_away(
    app: FastAPI, calls: CallEvents, people: dict[str, Person]
) -> None:
    socket = WsSession(app, "/api/v1/ws/operator", f"token={people['alice'].token}")
    await socket.connect()
    assert (await socket.receive_json())["type"] == "hello"
    await feed(calls, until="AgentConnect")  # no ACD: the call record names the operator
    pop = await socket.receive_json()
    assert (pop["type"], pop["caller_number"], pop["customers"]) == (
        "screen_pop",
        "+79161234567",
        [],
    )
    await socket.close()

    for query in ("token=garbage", f"token={people['sveta'].token}"):
        refused = WsSession(app, "/api/v1/ws/operator", query)
        message = await refused.connect()
        assert message["type"] == "websocket.close"
        assert message["code"] == 1008
        await refused.task
