"""Helpers for the ACD tests: a fake AMI queue control, staff in the database, typed events,
and a QueueStatus reply for the fake AMI server built from its member table."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import queues as queues_repo
from callcenter.domain.queues import QueueStrategy
from callcenter.domain.telephony import (
    AgentCalled,
    AgentCompleted,
    AgentConnected,
    AgentRingNoAnswer,
    MemberStatus,
    QueueCallerAbandoned,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberPaused,
    QueueMemberStatusChanged,
)
from callcenter.pbx.ami_errors import AmiActionError, AmiNotConnectedError
from callcenter.pbx.frames import AmiFrame
from tests.support.fake_ami import S4, FakeAmiServer, Session, first_event, reply_frames, restamp

Sessions = async_sessionmaker[AsyncSession]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class StepClock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class FakeMember:
    paused: bool = False
    reason: str = ""
    penalty: int = 0


@dataclass
class FakeControl:
    """Records AMI queue actions and answers as Asterisk does (s4): a second QueueAdd is
    "Already there", pausing someone in no queue is "Interface not found"."""

    connected: bool = True
    members: dict[tuple[str, str], FakeMember] = field(default_factory=dict)
    actions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    originated: list[dict[str, Any]] = field(default_factory=list)

    def _check(self) -> None:
        if not self.connected:
            raise AmiNotConnectedError("AMI link is down")

    def names(self) -> list[str]:
        return [name for name, _ in self.actions]

    async def queue_add(self, queue: str, interface: str, **kwargs: Any) -> None:
        self._check()
        self.actions.append(("QueueAdd", {"queue": queue, "interface": interface, **kwargs}))
        if (queue, interface) in self.members:
            raise AmiActionError("QueueAdd", "Unable to add interface: Already there")
        self.members[(queue, interface)] = FakeMember(
            bool(kwargs.get("paused")), kwargs.get("reason") or "", kwargs.get("penalty") or 0
        )

    async def queue_remove(self, queue: str, interface: str, **kwargs: Any) -> None:
        self._check()
        self.actions.append(("QueueRemove", {"queue": queue, "interface": interface}))
        if self.members.pop((queue, interface), None) is None:
            raise AmiActionError("QueueRemove", "Unable to remove interface: Not there")

    async def queue_pause(self, interface: str, paused: bool, **kwargs: Any) -> None:
        self._check()
        queue = kwargs.get("queue")
        self.actions.append(("QueuePause", {"interface": interface, "paused": paused, **kwargs}))
        found = [m for (q, i), m in self.members.items() if i == interface and queue in (None, q)]
        if not found:
            raise AmiActionError("QueuePause", "Interface not found")
        for member in found:
            member.paused = paused
            member.reason = (kwargs.get("reason") or "") if paused else ""

    async def queue_penalty(self, interface: str, penalty: int, **kwargs: Any) -> None:
        self._check()
        self.actions.append(("QueuePenalty", {"interface": interface, "penalty": penalty}))

    async def originate(self, channel: str, **kwargs: Any) -> None:
        self._check()
        self.originated.append({"channel": channel, **kwargs})


@dataclass
class Staff:
    operators: dict[str, int]  # extension -> id

    def id(self, extension: str) -> int:
        return self.operators[extension]


async def make_staff(
    sessions: Sessions,
    operators: Mapping[str, tuple[int, dict[str, int]]] | None = None,
    *,
    branch: tuple[str, ...] = (),
    interface: str = "Local/{ext}@agents/n",
) -> Staff:
    """Queues line1, line2, line3, branch-overflow and operators (extension -> line, skills),
    each in their line's queue; line 2's also in line1 with penalty 5 (as the seed does);
    the `branch` extensions (line 1 operators of a branch) only in branch-overflow."""
    operators = operators or {
        "101": (1, {"outages": 9, "power_quality": 8, "contacts": 8}),
        "102": (1, {"outages": 5, "power_quality": 4, "contacts": 5}),
        "106": (2, {"grid_connection": 9, "metering": 8, "services": 8}),
    }
    ids: dict[str, int] = {}
    async with sessions.begin() as session:
        queues = {}
        for name, line, overflow in [
            ("line1", 1, False),
            ("line2", 2, False),
            ("line3", 3, False),
            ("branch-overflow", 1, True),
        ]:
            queues[name] = await queues_repo.create(
                session,
                name=name,
                support_line=line,
                is_overflow=overflow,
                strategy=QueueStrategy.RRMEMORY if overflow else QueueStrategy.LEASTRECENT,
            )
        for extension, (line, skills) in operators.items():
            op = await operators_repo.create(
                session,
                extension=extension,
                full_name=f"Оператор {extension}",
                support_line=line,
                skills=skills,
                interface=interface.format(ext=extension),
            )
            ids[extension] = op.id
            if extension in branch:
                await queues_repo.add_member(session, queues["branch-overflow"], op.id)
                continue
            await queues_repo.add_member(session, queues[f"line{line}"], op.id)
            if line == 2:
                await queues_repo.add_member(session, queues["line1"], op.id, penalty=5)
    return Staff(ids)


# --- typed events -----------------------------------------------------------------------------


def iface(extension: str) -> str:
    return f"Local/{extension}@agents/n"


def called(ext: str, caller: str, at: datetime, queue: str = "line1") -> AgentCalled:
    return AgentCalled(
        name="AgentCalled",
        at=at,
        uniqueid=caller,
        linkedid=caller,
        queue=queue,
        interface=iface(ext),
    )


def connected(ext: str, caller: str, at: datetime, queue: str = "line1") -> AgentConnected:
    return AgentConnected(
        name="AgentConnect",
        at=at,
        uniqueid=caller,
        linkedid=caller,
        queue=queue,
        interface=iface(ext),
        hold_time=0,
    )


def completed(
    ext: str, caller: str, at: datetime, talk: int, queue: str = "line1"
) -> AgentCompleted:
    return AgentCompleted(
        name="AgentComplete",
        at=at,
        uniqueid=caller,
        linkedid=caller,
        queue=queue,
        interface=iface(ext),
        talk_time=talk,
    )


def rang_out(ext: str, caller: str, at: datetime, queue: str = "line1") -> AgentRingNoAnswer:
    return AgentRingNoAnswer(
        name="AgentRingNoAnswer",
        at=at,
        uniqueid=caller,
        linkedid=caller,
        queue=queue,
        interface=iface(ext),
        ring_time_ms=15000,
    )


def joined(caller: str, at: datetime, position: int, queue: str = "line1") -> QueueCallerJoined:
    return QueueCallerJoined(
        name="QueueCallerJoin",
        at=at,
        uniqueid=caller,
        linkedid=caller,
        queue=queue,
        position=position,
        count=position,
        caller_id_num="+79161234567",
    )


def left(caller: str, at: datetime, queue: str = "line1") -> QueueCallerLeft:
    return QueueCallerLeft(
        name="QueueCallerLeave", at=at, uniqueid=caller, linkedid=caller, queue=queue
    )


def abandoned(caller: str, at: datetime, queue: str = "line1") -> QueueCallerAbandoned:
    return QueueCallerAbandoned(
        name="QueueCallerAbandon", at=at, uniqueid=caller, linkedid=caller, queue=queue
    )


def member_status(
    ext: str, at: datetime, *, in_call: bool, queue: str = "line1", paused: bool = False
) -> QueueMemberStatusChanged:
    return QueueMemberStatusChanged(
        name="QueueMemberStatus",
        at=at,
        queue=queue,
        interface=iface(ext),
        in_call=in_call,
        status=MemberStatus.INUSE if in_call else MemberStatus.NOT_INUSE,
        paused=paused,
    )


def member_paused(
    ext: str, at: datetime, *, paused: bool, reason: str = "", queue: str = "line1"
) -> QueueMemberPaused:
    return QueueMemberPaused(
        name="QueueMemberPause",
        at=at,
        queue=queue,
        interface=iface(ext),
        paused=paused,
        paused_reason=reason,
        status=MemberStatus.NOT_INUSE,
    )


def new_caller() -> str:
    return f"17954{uuid.uuid4().int % 10**5:05d}.{uuid.uuid4().int % 1000}"


# --- the fake AMI server's QueueStatus, from its member table ----------------------------------


def serve_queue_status(server: FakeAmiServer, queues: tuple[str, ...] = ("line1", "line2")) -> None:
    """Make the fake server answer QueueStatus with its current members (the frames of s4)."""
    start, params, member, complete = reply_frames(S4, "qs-paused")

    async def handler(session: Session, frame: AmiFrame) -> None:
        action_id = frame.action_id or ""
        rows: list[AmiFrame] = [restamp(start, ActionID=action_id)]
        for queue in queues:
            rows.append(restamp(params, ActionID=action_id, Queue=queue, Calls=0))
            for (q, interface), m in server.members.items():
                if q != queue:
                    continue
                rows.append(
                    restamp(
                        member,
                        ActionID=action_id,
                        Queue=q,
                        Name=m.name,
                        Location=interface,
                        StateInterface=interface.removesuffix("/n"),
                        Penalty=m.penalty,
                        Paused=int(m.paused),
                        PausedReason=m.reason,
                        InCall=0,
                        Status=1,
                    )
                )
        rows.append(restamp(complete, ActionID=action_id, ListItems=len(rows) - 1))
        session.send(rows)

    server.handlers["queuestatus"] = handler


def pause_event_frame(queue: str, interface: str, *, paused: bool, reason: str = "") -> AmiFrame:
    """A QueueMemberPause frame as Asterisk sends it (s4)."""
    return restamp(
        first_event(S4, "QueueMemberPause"),
        Queue=queue,
        Interface=interface,
        MemberName=f"Operator {interface}",
        Paused=int(paused),
        PausedReason=reason,
    )
