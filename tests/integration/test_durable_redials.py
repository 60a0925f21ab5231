"""Issue 15, durable state: an operator's auto-redial is a row, not a task of the process that
took the request. A redial asked for while the telephony role is down (or restarting) is
placed once it is back; one half done when the role dies goes on after the restart; a node
that died holding a job blocks it only until its lease runs out.

The "restart" is a second `RedialRunner` on the same database, as a new process builds it;
the first is dropped without `stop()`, as a killed process would be. Asterisk is a fake that
records the Originates it is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callcenter.common.access import Actor
from callcenter.db.engine import SessionFactory
from callcenter.db.repositories import cluster as cluster_repo
from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import users as users_repo
from callcenter.domain.roles import Role
from callcenter.workstation.call_control import (
    CallControlService,
    CallControlState,
    RedialStatus,
)
from callcenter.workstation.redial_runner import RedialRunner

Sessions = SessionFactory


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class Asterisk:
    """Records every Originate (the only action auto-redial sends)."""

    originated: list[dict[str, Any]] = field(default_factory=list)

    async def originate(self, channel: str, **kwargs: Any) -> object:
        self.originated.append({"channel": channel, **kwargs})
        return None

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> object:
        raise NotImplementedError

    async def blind_transfer(self, channel: str, context: str, exten: str) -> object:
        raise NotImplementedError

    async def atxfer(self, channel: str, exten: str, context: str | None = None) -> object:
        raise NotImplementedError

    async def hangup(self, channel: str, cause: int | None = None) -> object:
        raise NotImplementedError

    async def confbridge_list(self, conference: str) -> tuple[Any, ...]:
        raise NotImplementedError

    async def confbridge_kick(self, conference: str, channel: str) -> object:
        raise NotImplementedError

    async def confbridge_mute(self, conference: str, channel: str) -> object:
        raise NotImplementedError

    async def confbridge_unmute(self, conference: str, channel: str) -> object:
        raise NotImplementedError


@pytest.fixture
async def alice(session_factory: Sessions) -> Actor:
    async with session_factory.begin() as session:
        operator = await operators_repo.create(
            session, extension="101", full_name="Алиса", support_line=1
        )
        user = await users_repo.create(
            session,
            username="alice",
            password_hash="!",
            role=Role.OPERATOR,
            operator_id=operator.id,
        )
        return Actor(user_id=user.id, role=Role.OPERATOR, operator_id=operator.id)


def control(sessions: Sessions, clock: Clock, asterisk: Asterisk) -> CallControlService:
    """Call control as an API node has it: it only stores the job."""
    return CallControlService(
        sessions,
        clock=clock,
        pbx=asterisk,
        state=CallControlState(),
    )


def node(sessions: Sessions, clock: Clock, asterisk: Asterisk) -> RedialRunner:
    """The redial runner of a freshly started telephony process."""
    return RedialRunner(sessions, asterisk, node="tel-main", clock=clock, lease_seconds=60)


def dialled(asterisk: Asterisk) -> list[Mapping[str, Any]]:
    return [
        {"channel": o["channel"], "context": o["context"], "exten": o["exten"]}
        for o in asterisk.originated
    ]


async def test_a_redial_promised_before_a_restart_is_placed_after_it(
    session_factory: Sessions, alice: Actor
) -> None:
    clock = Clock()
    asterisk = Asterisk()
    # the operator asks while the telephony role is restarting: the job is only stored
    job = await control(session_factory, clock, asterisk).start_redial(
        alice, "+79157001122", attempts=2, interval_seconds=30
    )
    assert asterisk.originated == []

    first = node(session_factory, clock, asterisk)  # the role is back
    assert await first.tick() == 1
    assert dialled(asterisk) == [
        {"channel": "PJSIP/101", "context": "outbound", "exten": "89157001122"}
    ]
    # ... and is killed before the next attempt: nothing is written on the way out

    clock.advance(10)
    second = node(session_factory, clock, asterisk)
    assert await second.tick() == 0  # not due yet: no call sooner than the operator asked
    clock.advance(25)
    assert await second.tick() == 1
    assert len(asterisk.originated) == 2
    clock.advance(31)
    await second.tick()
    (stored,) = await control(session_factory, clock, asterisk).redials(alice)
    assert stored.id == job.id
    assert stored.status is RedialStatus.EXHAUSTED  # nobody answered (no call record says so)
    assert stored.made == 2
    assert stored.channel_ids == [o["channel_id"] for o in asterisk.originated]
    await second.tick()
    assert len(asterisk.originated) == 2  # a finished job is never dialled again


async def test_a_node_killed_holding_a_redial_delays_it_only_until_its_lease_ends(
    session_factory: Sessions, alice: Actor
) -> None:
    clock = Clock()
    asterisk = Asterisk()
    await control(session_factory, clock, asterisk).start_redial(
        alice, "+79157001122", attempts=1, interval_seconds=30
    )
    # a node takes the job and dies before it could dial (or write the dial back)
    async with session_factory.begin() as session:
        taken = await cluster_repo.take_due_redials(
            session, node="tel-dead", now=clock(), lease_until=clock() + timedelta(seconds=60)
        )
        assert len(taken) == 1
    survivor = node(session_factory, clock, asterisk)
    clock.advance(30)
    assert await survivor.tick() == 0  # the lease still holds: never two calls at once
    clock.advance(31)
    assert await survivor.tick() == 1
    assert len(asterisk.originated) == 1


async def test_a_cancelled_redial_is_not_dialled_by_any_node(
    session_factory: Sessions, alice: Actor
) -> None:
    clock = Clock()
    asterisk = Asterisk()
    calls = control(session_factory, clock, asterisk)
    job = await calls.start_redial(alice, "+79157001122", attempts=3, interval_seconds=30)
    await calls.cancel_redial(alice, job.id)
    assert await node(session_factory, clock, asterisk).tick() == 0
    assert asterisk.originated == []
