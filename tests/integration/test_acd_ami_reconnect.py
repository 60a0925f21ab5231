"""The ACD on a real AMI client talking to the fake Asterisk AMI server (real TCP): commands
become QueueAdd/QueuePause, Asterisk's events reach the states through the real parser, and
after a reconnect QueueStatus corrects a pause that drifted while the link was down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callcenter.acd.service import AcdAmiListener, AcdService, AcdSettings
from callcenter.asterisk.ami import AmiClient
from callcenter.domain.agents import OperatorState
from tests.support.eventually import eventually
from tests.support.fake_ami import FakeAmiServer, fast_client
from tests.unit.acd.support import (
    Sessions,
    Staff,
    iface,
    make_staff,
    pause_event_frame,
    serve_queue_status,
)


@pytest.fixture
async def server() -> AsyncIterator[FakeAmiServer]:
    async with FakeAmiServer() as ami:
        serve_queue_status(ami, ("line1", "line2", "line3"))
        yield ami


@pytest.fixture
async def staff(session_factory: Sessions) -> Staff:
    return await make_staff(session_factory)


@pytest.fixture
async def linked(
    session_factory: Sessions, staff: Staff, server: FakeAmiServer
) -> AsyncIterator[tuple[AcdService, AmiClient]]:
    acd = AcdService(session_factory, settings=AcdSettings(auto_emergency=False))
    await acd.load()
    client = fast_client(server, AcdAmiListener(acd))
    acd.attach(client)
    await client.start()
    try:
        await client.wait_connected(5.0)
        yield acd, client
    finally:
        await client.close()


async def test_login_and_pause_reach_asterisk(
    linked: tuple[AcdService, AmiClient], staff: Staff, server: FakeAmiServer
) -> None:
    acd, client = linked
    op = staff.id("101")
    await acd.login(op)
    member = server.members[("line1", iface("101"))]
    assert (member.name, member.paused) == ("101 Оператор 101", False)
    await acd.pause(op, "lunch")
    assert (member.paused, member.reason) == (True, "lunch")
    sent = server.actions("QueuePause")[-1]
    assert (sent.get("Paused"), sent.get("Reason")) == ("true", "lunch")
    # the QueueMemberPause Asterisk answers with confirms the state: no correction
    await client.drain()
    assert acd.states.status(op).state is OperatorState.PAUSED
    assert acd.states.corrections == 0


async def test_a_pause_lifted_while_the_link_was_down_is_corrected_on_reconnect(
    linked: tuple[AcdService, AmiClient], staff: Staff, server: FakeAmiServer
) -> None:
    acd, client = linked
    op = staff.id("101")
    await acd.login(op)
    await acd.pause(op, "lunch")
    await client.drain()
    # the link drops; meanwhile someone unpauses the member at the Asterisk console
    server.drop_all()
    member = server.members[("line1", iface("101"))]
    member.paused, member.reason = False, ""
    await eventually(lambda: acd.states.status(op).state is OperatorState.READY)
    assert acd.states.corrections == 1
    assert acd.pbx_connected


async def test_after_an_asterisk_restart_the_paused_operator_is_added_back_paused(
    linked: tuple[AcdService, AmiClient], staff: Staff, server: FakeAmiServer
) -> None:
    acd, _client = linked
    op = staff.id("101")
    await acd.login(op)
    await acd.pause(op, "training")
    adds_before = len(server.actions("QueueAdd"))
    server.restart()  # members forgotten (persistentmembers = no)
    await server.wait_for(lambda: len(server.actions("QueueAdd")) > adds_before)
    assert server.members[("line1", iface("101"))].paused
    sent = server.actions("QueueAdd")[-1]
    assert (sent.get("Paused"), sent.get("Reason")) == ("true", "training")
    status = acd.states.status(op)
    assert (status.state, status.pause_reason) == (OperatorState.PAUSED, "training")


async def test_a_pause_made_at_the_console_shows_on_the_board(
    linked: tuple[AcdService, AmiClient], staff: Staff, server: FakeAmiServer
) -> None:
    acd, client = linked
    op = staff.id("101")
    await acd.login(op)
    await client.drain()
    frame = pause_event_frame("line1", iface("101"), paused=True, reason="supervisor")
    await server.push_events([frame])
    await eventually(lambda: acd.states.status(op).state is OperatorState.PAUSED)
    assert acd.states.status(op).pause_reason == "supervisor"
