from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import calls as calls_repo
from callcenter.db.repositories import operators as operators_repo
from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.transfers import TransferKind
from callcenter.ports.queries import CallFields, CallFilter, LegFields, UnknownCallError
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def test_upsert_creates_then_updates_the_same_call(session_factory: SessionFactory) -> None:
    call_id = uuid.uuid4()
    async with session_factory.begin() as session:
        created = await calls_repo.upsert(
            session,
            "1700000000.1",
            id=call_id,
            direction=Direction.INBOUND,
            caller_number="+79157001122",
            dialled_number="88001000000",
            started_at=NOW,
            ivr_path=["root"],
        )
        assert created.id == call_id
        assert created.disposition is Disposition.IN_PROGRESS
    async with session_factory.begin() as session:
        updated = await calls_repo.upsert(
            session,
            "1700000000.1",
            id=uuid.uuid4(),  # ignored: a call keeps its id
            answered_at=NOW + timedelta(seconds=12),
            ivr_path=["root", "outages"],
            queue_name="line1",
            disposition=Disposition.ANSWERED,
            wait_seconds=12.5,
        )
        assert updated.id == call_id
    async with session_factory() as session:
        call = await calls_repo.get_by_linkedid(session, "1700000000.1")
        assert await calls_repo.count(session) == 1
    assert call is not None
    assert call.id == call_id
    assert call.caller_number == "+79157001122"  # untouched fields are kept
    assert call.started_at == NOW
    assert call.answered_at == NOW + timedelta(seconds=12)
    assert call.ivr_path == ["root", "outages"]
    assert call.disposition is Disposition.ANSWERED
    assert call.wait_seconds == pytest.approx(12.5)
    assert call.transfer_count == 0
    assert not call.is_queued_callback


async def test_racing_first_events_create_one_call(session_factory: SessionFactory) -> None:
    async def first_event(caller_name: str) -> uuid.UUID:
        async with session_factory.begin() as session:
            call = await calls_repo.upsert(
                session,
                "1700000000.7",
                direction=Direction.INBOUND,
                caller_number="+74822345678",
                caller_name=caller_name,
                started_at=NOW,
            )
            return call.id

    ids = await asyncio.gather(first_event("А"), first_event("Б"))
    assert ids[0] == ids[1]
    async with session_factory() as session:
        assert await calls_repo.count(session) == 1


async def test_search_filters_and_pages_newest_first(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        operator = await operators_repo.create(
            session, extension="101", full_name="Смирнова", support_line=1
        )
        rows = [
            ("a", "+79150000001", "line1", operator.id, Disposition.ANSWERED, 0),
            ("b", "+79150000002", "line1", None, Disposition.ABANDONED, 10),
            ("c", "+79150000001", "line2", None, Disposition.CLOSED_BY_IVR, 20),
            ("d", "+79150000003", None, None, Disposition.CLOSED_BY_IVR, 30),
        ]
        for linkedid, number, queue, operator_id, disposition, minutes in rows:
            await calls_repo.upsert(
                session,
                linkedid,
                direction=Direction.INBOUND,
                caller_number=number,
                dialled_number="88001000000",
                started_at=NOW + timedelta(minutes=minutes),
                queue_name=queue,
                operator_id=operator_id,
                disposition=disposition,
            )
        await calls_repo.upsert(
            session,
            "e",
            direction=Direction.OUTBOUND,
            caller_number="101",
            dialled_number="+79150000002",
            started_at=NOW + timedelta(minutes=40),
        )

    async def linkedids(**criteria: Any) -> list[str]:
        async with session_factory() as session:
            return [c.linkedid for c in await calls_repo.search(session, CallFilter(**criteria))]

    assert await linkedids() == ["e", "d", "c", "b", "a"]
    assert await linkedids(
        since=NOW + timedelta(minutes=10), until=NOW + timedelta(minutes=30)
    ) == [
        "c",
        "b",
    ]
    assert await linkedids(number="+79150000002") == ["e", "b"]
    assert await linkedids(queue_name="line1") == ["b", "a"]
    assert await linkedids(operator_id=operator.id) == ["a"]
    assert await linkedids(disposition=Disposition.CLOSED_BY_IVR) == ["d", "c"]
    assert await linkedids(direction=Direction.OUTBOUND) == ["e"]
    assert await linkedids(limit=2, offset=1) == ["d", "c"]
    async with session_factory() as session:
        assert await calls_repo.count(session, CallFilter(queue_name="line1", limit=1)) == 2


async def test_legs_and_transfers_belong_to_their_call(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        operator = await operators_repo.create(
            session, extension="101", full_name="Смирнова", support_line=1
        )
        call = await calls_repo.upsert(
            session,
            "1700000000.1",
            direction=Direction.INBOUND,
            caller_number="+79157001122",
            started_at=NOW,
        )
        await calls_repo.add_leg(
            session,
            call.id,
            uniqueid="1700000000.2",
            channel="PJSIP/101-00000002",
            role=LegRole.OPERATOR,
            started_at=NOW + timedelta(seconds=30),
            operator_id=operator.id,
        )
        await calls_repo.add_leg(
            session,
            call.id,
            uniqueid="1700000000.1",
            channel="PJSIP/trunk-00000001",
            role=LegRole.CALLER,
            started_at=NOW,
        )
        await calls_repo.add_transfer(
            session,
            call.id,
            kind=TransferKind.BLIND,
            to_target="201",
            at=NOW + timedelta(minutes=2),
            from_operator_id=operator.id,
        )
    async with session_factory() as session:
        legs = await calls_repo.legs(session, call.id)
        leg = await calls_repo.get_leg(session, "1700000000.2")
        transfers = await calls_repo.transfers(session, call.id)
    assert [(x.uniqueid, x.role) for x in legs] == [
        ("1700000000.1", LegRole.CALLER),
        ("1700000000.2", LegRole.OPERATOR),
    ]
    assert leg is not None
    assert leg.operator_id == operator.id
    assert [(t.kind, t.to_target, t.from_operator_id) for t in transfers] == [
        (TransferKind.BLIND, "201", operator.id)
    ]


async def test_updating_a_call_that_was_never_created_is_refused(
    session_factory: SessionFactory,
) -> None:
    async with session_factory() as session:
        with pytest.raises(UnknownCallError, match="direction, started_at"):
            await calls_repo.upsert(
                session, "missing.1", caller_number="+79157001122", ended_at=NOW
            )
        assert await calls_repo.count(session) == 0


def whole_record(call_id: uuid.UUID, **changes: Any) -> CallFields:
    """Every field the call journal writes, as `CallEvents` gives them."""
    fields = CallFields(
        id=call_id,
        direction=Direction.INBOUND,
        caller_number="+79157001122",
        caller_name="Иванов \"И\"; 'DROP'",
        dialled_number="88001000000",
        customer_id=None,
        started_at=NOW,
        answered_at=None,
        ended_at=None,
        ivr_path=["root", "outages"],
        ivr_seconds=14.5,
        ivr_closed=True,
        recording_notice_version="v1",
        queue_name="line1",
        operator_id=None,
        wait_seconds=None,
        talk_seconds=None,
        disposition=Disposition.IN_PROGRESS,
        hangup_cause=None,
        transfer_count=0,
        is_queued_callback=False,
        priority=0,
    )
    fields.update(changes)  # type: ignore[typeddict-item]
    return fields


async def test_a_batch_of_whole_records_creates_and_overwrites_calls_keeping_their_ids(
    session_factory: SessionFactory,
) -> None:
    kept_id, new_id = uuid.uuid4(), uuid.uuid4()
    async with session_factory.begin() as session:
        operator = await operators_repo.create(
            session, extension="101", full_name="Смирнова", support_line=1
        )
        existing = await calls_repo.upsert(session, "a.1", **whole_record(kept_id))
        existing.campaign_attempt_id = 77  # the dialer's own column: not the journal's
    async with session_factory.begin() as session:
        await calls_repo.upsert_many(
            session,
            [
                (
                    "a.1",
                    whole_record(
                        uuid.uuid4(),  # ignored: a call keeps its id
                        answered_at=NOW + timedelta(seconds=20),
                        ended_at=NOW + timedelta(seconds=80),
                        operator_id=operator.id,
                        disposition=Disposition.ANSWERED,
                        wait_seconds=6.0,
                        talk_seconds=60.0,
                        hangup_cause=16,
                    ),
                ),
                ("b.1", whole_record(new_id, ivr_path=[], queue_name=None)),
            ],
        )
        await calls_repo.upsert_legs(
            session,
            [
                LegFields(
                    call_id=kept_id,
                    uniqueid="a.2",
                    channel="PJSIP/101-00000002",
                    role=LegRole.OPERATOR,
                    started_at=NOW + timedelta(seconds=14),
                    answered_at=None,
                    ended_at=None,
                    operator_id=None,
                ),
                LegFields(  # the same leg again, later in the batch: its last state counts
                    call_id=kept_id,
                    uniqueid="a.2",
                    channel="PJSIP/101-00000002",
                    role=LegRole.OPERATOR,
                    started_at=NOW + timedelta(seconds=14),
                    answered_at=NOW + timedelta(seconds=20),
                    ended_at=NOW + timedelta(seconds=80),
                    operator_id=operator.id,
                ),
            ],
        )
    async with session_factory() as session:
        first = await calls_repo.get_by_linkedid(session, "a.1")
        second = await calls_repo.get_by_linkedid(session, "b.1")
        leg = await calls_repo.get_leg(session, "a.2")
    assert first is not None
    assert second is not None
    assert leg is not None
    assert first.id == kept_id
    assert first.campaign_attempt_id == 77
    assert first.caller_name == "Иванов \"И\"; 'DROP'"
    assert first.ivr_path == ["root", "outages"]
    assert first.disposition is Disposition.ANSWERED
    assert (first.operator_id, first.talk_seconds, first.hangup_cause) == (operator.id, 60.0, 16)
    assert first.ended_at == NOW + timedelta(seconds=80)
    assert first.updated_at > existing.updated_at
    assert second.id == new_id
    assert (second.ivr_path, second.queue_name, second.ivr_seconds) == ([], None, 14.5)
    assert second.ivr_closed is True
    assert (leg.call_id, leg.answered_at, leg.operator_id) == (
        kept_id,
        NOW + timedelta(seconds=20),
        operator.id,
    )
