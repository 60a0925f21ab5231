from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import telephony_events as events_repo
from callcenter.domain.telephony_events import EventSource
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def test_an_event_is_stored_once_however_often_it_arrives(
    session_factory: SessionFactory,
) -> None:
    payload = {"Event": "Newchannel", "Channel": "PJSIP/trunk-00000001", "CallerIDNum": "123"}
    async with session_factory.begin() as session:
        first = await events_repo.add_if_new(
            session,
            "ami:1700000000.1:Newchannel:1",
            source=EventSource.AMI,
            name="Newchannel",
            received_at=NOW,
            payload=payload,
            linkedid="1700000000.1",
            uniqueid="1700000000.1",
        )
        repeat_same_transaction = await events_repo.add_if_new(
            session,
            "ami:1700000000.1:Newchannel:1",
            source=EventSource.AMI,
            name="Newchannel",
            received_at=NOW,
            payload=payload,
            linkedid="1700000000.1",
        )
        # the transaction is still usable after a duplicate (PostgreSQL would abort it on an error)
        other = await events_repo.add_if_new(
            session,
            "ami:1700000000.1:Hangup:2",
            source=EventSource.AMI,
            name="Hangup",
            received_at=NOW + timedelta(seconds=5),
            payload={"Event": "Hangup", "Cause": "16"},
            linkedid="1700000000.1",
        )
    async with session_factory.begin() as session:
        repeat_later = await events_repo.add_if_new(
            session,
            "ami:1700000000.1:Newchannel:1",
            source=EventSource.AMI,
            name="Newchannel",
            received_at=NOW + timedelta(minutes=1),
            payload={"changed": True},
            linkedid="1700000000.1",
        )
    assert (first, repeat_same_transaction, other, repeat_later) == (True, False, True, False)
    async with session_factory() as session:
        stored = await events_repo.for_linkedid(session, "1700000000.1")
        assert await events_repo.for_linkedid(session, "other") == []
    assert [e.name for e in stored] == ["Newchannel", "Hangup"]
    assert stored[0].payload == payload
    assert stored[0].source is EventSource.AMI
    assert stored[0].received_at == NOW
    assert stored[0].uniqueid == "1700000000.1"
    assert stored[1].id > stored[0].id
