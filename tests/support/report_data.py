"""A hand-made day of call records, operator states, appeals and campaign results (23.11.2026
in Moscow) whose report figures the tests work out by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import (
    Appeal,
    AppealStatusHistory,
    AppealTopic,
    CallAttempt,
    CallTransfer,
    Campaign,
    Contact,
    ContactList,
    MessageDelivery,
    NotifyJob,
    Operator,
    OperatorStateHistory,
    Queue,
)
from callcenter.db.models.calls import Call
from callcenter.domain.agents import OperatorState
from callcenter.domain.appeals import AppealChannel, AppealStatus
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.campaigns import AttemptOutcome, CampaignKind
from callcenter.domain.notify import Channel, DeliveryOutcome, DeliveryStatus, JobStatus

Sessions = async_sessionmaker[AsyncSession]
DAY = datetime(2026, 11, 23, 0, 0, tzinfo=UTC) - timedelta(hours=3)  # 23.11 00:00 MSK
START, END = DAY, DAY + timedelta(days=1)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    """A UTC moment on 23.11.2026."""
    return datetime(2026, 11, 23, hh, mm, ss, tzinfo=UTC)


class Ids:
    a: int
    b: int
    campaign: int
    topic: int
    calls: dict[str, uuid.UUID]


async def seed(sessions: Sessions) -> Ids:
    ids = Ids()
    ids.calls = {}
    async with sessions.begin() as s:
        s.add_all([Queue(name="line1", support_line=1), Queue(name="line2", support_line=2)])
        a = Operator(extension="101", full_name="Анна", support_line=1)
        b = Operator(extension="201", full_name="Борис", support_line=2)
        s.add_all([a, b])
        topic = AppealTopic(code="outage", name="Отключения")
        s.add(topic)
        await s.flush()
        ids.a, ids.b, ids.topic = a.id, b.id, topic.id

        def call(name: str, start: datetime, **kw: Any) -> Call:
            kw.setdefault("direction", Direction.INBOUND)
            kw.setdefault("disposition", Disposition.ANSWERED)
            kw.setdefault("ivr_path", [])
            row = Call(linkedid=name, caller_number="+79160000000", started_at=start, **kw)
            s.add(row)
            return row

        rows = {
            "c1": call("c1", at(5, 0, 10), queue_name="line1", operator_id=a.id,
                       wait_seconds=10, talk_seconds=100, ivr_seconds=20, ivr_path=["1", "1"]),
            "c2": call("c2", at(5, 5), queue_name="line1", operator_id=a.id, wait_seconds=50,
                       talk_seconds=200, ivr_seconds=20, transfer_count=1, ivr_path=["1"],
                       ended_at=at(5, 9, 10)),
            "c3": call("c3", at(5, 20), queue_name="line1", wait_seconds=30, ivr_seconds=20,
                       disposition=Disposition.ABANDONED, ivr_path=["1"]),
            "c4": call("c4", at(5, 40), ivr_seconds=60, ivr_closed=True, ivr_path=["2"],
                       disposition=Disposition.CLOSED_BY_IVR),
            "c10": call("c10", at(5, 45), ivr_seconds=15, ivr_path=["1", "2"],
                        disposition=Disposition.HUNG_UP_IN_IVR),
            "c5": call("c5", at(6, 10), queue_name="line2", operator_id=b.id, wait_seconds=5,
                       talk_seconds=60, ivr_seconds=20, ivr_path=["3"]),
            "c6": call("c6", at(6, 15), direction=Direction.OUTBOUND, operator_id=b.id,
                       talk_seconds=30),
            "c7": call("c7", at(6, 30), queue_name="line1", disposition=Disposition.IN_PROGRESS),
            # the day before in Moscow (23:00 on the 22nd): outside the period
            "c8": call("c8", at(0, 0) - timedelta(hours=4), queue_name="line1",
                       operator_id=a.id, wait_seconds=1, talk_seconds=10),
        }  # fmt: skip
        await s.flush()
        ids.calls = {name: row.id for name, row in rows.items()}

        contacts = ContactList(name="должники")
        s.add(contacts)
        await s.flush()
        contact = Contact(list_id=contacts.id, phone="+79160000001")
        other = Contact(list_id=contacts.id, phone="+79160000002")
        campaign = Campaign(name="Долги", kind=CampaignKind.AUTO_INFORM, starts_at=at(4, 0))
        s.add_all([contact, other, campaign])
        await s.flush()
        ids.campaign = campaign.id
        attempt = CallAttempt(
            campaign_id=campaign.id, contact_id=contact.id, attempt_no=1, started_at=at(6, 15),
            ended_at=at(6, 16), outcome=AttemptOutcome.POSITIVE, call_id=rows["c6"].id,
        )  # fmt: skip
        failed = CallAttempt(
            campaign_id=campaign.id, contact_id=other.id, attempt_no=1, started_at=at(6, 17),
            ended_at=at(6, 18), outcome=AttemptOutcome.NEGATIVE,
        )  # fmt: skip
        s.add_all([attempt, failed])
        await s.flush()
        rows["c6"].campaign_attempt_id = attempt.id
        job = NotifyJob(campaign_id=campaign.id, channel=Channel.SMS, status=JobStatus.DONE)
        s.add(job)
        await s.flush()
        for n, (who, status, outcome) in enumerate(
            [
                (contact, DeliveryStatus.DELIVERED, DeliveryOutcome.POSITIVE),
                (other, DeliveryStatus.FAILED, DeliveryOutcome.NEGATIVE),
            ]
        ):
            s.add(
                MessageDelivery(
                    job_id=job.id, campaign_id=campaign.id, contact_id=who.id,
                    channel=Channel.SMS, idempotency_key=f"k{n}", status=status,
                    outcome=outcome, created_at=at(7, 0), finished_at=at(7, 1),
                )
            )  # fmt: skip

        appeal = Appeal(
            number="20261123-0001", call_id=rows["c1"].id, channel=AppealChannel.PHONE,
            topic_id=topic.id, created_at=at(5, 3),
        )  # fmt: skip
        s.add(appeal)
        await s.flush()
        s.add_all(
            [
                AppealStatusHistory(appeal_id=appeal.id, to_status=AppealStatus.REGISTERED,
                                    at=at(5, 3)),
                AppealStatusHistory(appeal_id=appeal.id, from_status=AppealStatus.REGISTERED,
                                    to_status=AppealStatus.HANDED_OFF, at=at(6, 3)),
            ]
        )  # fmt: skip
        s.add(CallTransfer(call_id=rows["c2"].id, kind="blind", to_target="line2", at=at(5, 8)))

        def state(op: int, st: OperatorState, start: datetime, end: datetime | None) -> None:
            s.add(OperatorStateHistory(operator_id=op, state=st, started_at=start, ended_at=end))

        state(a.id, OperatorState.ON_CALL, at(5, 0), at(5, 10))
        state(a.id, OperatorState.WRAP_UP, at(5, 10), at(5, 12))
        state(a.id, OperatorState.READY, at(5, 12), at(5, 30))
        state(a.id, OperatorState.PAUSED, at(5, 30), at(6, 0))
        state(b.id, OperatorState.READY, at(6, 0), at(6, 10))
        state(b.id, OperatorState.ON_CALL, at(6, 10), at(6, 20))
        state(b.id, OperatorState.WRAP_UP, at(6, 20), at(6, 25))
    return ids
