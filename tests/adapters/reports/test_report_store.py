"""Reports over hand-made call records and operator states, on SQLite and PostgreSQL: every
figure of the summary checked against the definitions by hand, the groupings, the
incremental roll-up, and the standard reports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import (
    Appeal,
    AppealStatusHistory,
    AppealTopic,
    AuditLogEntry,
    CallAttempt,
    CallTransfer,
    Campaign,
    Contact,
    ContactList,
    Operator,
    OperatorStateHistory,
    Queue,
)
from callcenter.db.models.calls import Call
from callcenter.db.reports import SqlReportStore
from callcenter.domain.agents import OperatorState
from callcenter.domain.appeals import AppealChannel, AppealStatus
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.campaigns import AttemptOutcome, CampaignKind
from callcenter.domain.report_metrics import Dimension, Interval
from callcenter.reports.definitions import ReportKind
from callcenter.reports.ports import Filters
from callcenter.reports.service import ReportService

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
        s.add(
            AuditLogEntry(
                at=at(7, 0), action="campaign_sent_sms", object_type="campaign",
                object_id=str(campaign.id), details={"sent": 5, "refused": 1, "failed": 1},
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


def service(sessions: Sessions) -> ReportService:
    return ReportService(
        SqlReportStore(sessions), timezone="Europe/Moscow", clock=lambda: at(12, 0)
    )


async def test_the_day_by_the_definitions(session_factory: Sessions) -> None:
    await seed(session_factory)
    (row,) = (await service(session_factory).summary(START, END)).rows
    assert row["calls"] == 7  # c1-c6, c10; c7 is still going on, c8 was the day before
    assert (row["inbound"], row["outbound"]) == (6, 1)
    assert (row["offered"], row["answered"], row["abandoned"]) == (4, 3, 1)
    assert row["answered_within_sla"] == 2  # c1 (10 s) and c5 (5 s); c2 waited 50 s
    assert row["service_level"] == 0.5
    assert row["asa_seconds"] == pytest.approx(21.7)  # (10 + 50 + 5) / 3
    assert row["abandon_rate"] == 0.25
    # talk 100 + 200 + 60, wrap-up 120 (Анна) + 300 (Борис), over 3 answered calls
    assert row["aht_seconds"] == pytest.approx(260.0)
    assert (row["ivr_closed"], row["operator_closed"], row["transferred"]) == (1, 2, 1)
    assert row["ivr_seconds_avg"] == pytest.approx(25.8)  # (4 * 20 + 60 + 15) / 6
    # busy 600 + 120 + 600 + 300, ready 1080 + 600; the pause does not count
    assert row["occupancy"] == pytest.approx(1620 / 3300, abs=1e-4)
    assert row["in_progress"] == 1


async def test_groupings(session_factory: Sessions) -> None:
    ids = await seed(session_factory)
    reports = service(session_factory)

    hours = (await reports.summary(START, END, group_by=(Dimension.INTERVAL,))).rows
    by_hour = {r["interval"]: r for r in hours}
    eight = by_hour["2026-11-23T08:00:00+03:00"]
    nine = by_hour["2026-11-23T09:00:00+03:00"]
    assert (eight["offered"], eight["answered"], eight["abandoned"]) == (3, 2, 1)
    assert (nine["offered"], nine["answered"], nine["in_progress"]) == (1, 1, 1)

    ops = (await reports.summary(START, END, group_by=(Dimension.OPERATOR,))).rows
    anna = next(r for r in ops if r["operator"] == ids.a)
    assert anna["operator_name"] == "101 Анна"
    assert anna["answered"] == 2
    assert anna["aht_seconds"] == pytest.approx(210.0)  # (100 + 200 + 120) / 2
    assert anna["occupancy"] == pytest.approx(0.4)  # 720 busy, 1080 ready

    lines = (await reports.summary(START, END, group_by=(Dimension.LINE,))).rows
    line2 = next(r for r in lines if r["line"] == 2)
    assert (line2["offered"], line2["answered"], line2["occupancy"]) == (1, 1, 0.6)

    by_queue = (await reports.summary(START, END, group_by=(Dimension.QUEUE,))).rows
    line1 = next(r for r in by_queue if r["queue"] == "line1")
    assert (line1["offered"], line1["in_progress"]) == (3, 1)
    assert line1["occupancy"] is None  # operators' time does not belong to a queue

    topics = (await reports.summary(START, END, group_by=(Dimension.TOPIC,))).rows
    outage = next(r for r in topics if r["topic"] == ids.topic)
    assert (outage["topic_name"], outage["answered"]) == ("Отключения", 1)

    campaigns = (await reports.summary(START, END, group_by=(Dimension.CAMPAIGN,))).rows
    debts = next(r for r in campaigns if r["campaign"] == ids.campaign)
    assert (debts["campaign_name"], debts["outbound"]) == ("Долги", 1)

    inbound = (await reports.summary(START, END, filters=Filters(direction="inbound"))).rows[0]
    assert (inbound["calls"], inbound["outbound"]) == (6, 0)

    fast = (await reports.summary(START, END, sla_seconds=60)).rows[0]
    assert fast["service_level"] == 0.75  # c2's 50 s wait is within 60 s


async def test_a_changed_call_is_in_the_next_report(session_factory: Sessions) -> None:
    ids = await seed(session_factory)
    reports = service(session_factory)
    assert (await reports.summary(START, END)).rows[0]["in_progress"] == 1
    async with session_factory.begin() as s:
        c7 = await s.get(Call, ids.calls["c7"])
        assert c7 is not None
        c7.disposition = Disposition.ABANDONED
        c7.wait_seconds = 12
    (row,) = (await reports.summary(START, END)).rows
    assert (row["in_progress"], row["offered"], row["abandoned"]) == (0, 5, 2)


async def test_standard_reports(session_factory: Sessions) -> None:
    ids = await seed(session_factory)
    reports = service(session_factory)

    transitions = (await reports.standard(ReportKind.APPEAL_TRANSITIONS, START, END)).rows
    assert {(t["from_status"], t["to_status"]): t["avg_seconds"] for t in transitions} == {
        ("", "registered"): None,
        ("registered", "handed_off"): 3600.0,
    }

    (transfer,) = (await reports.standard(ReportKind.TRANSFERS, START, END)).rows
    assert transfer == {"target": "line2", "transfers": 1, "avg_seconds_after": 70.0}

    nodes = {n["node"]: n for n in (await reports.standard(ReportKind.IVR_NODES, START, END)).rows}
    assert (nodes["1"]["visits"], nodes["2"]["visits"], nodes["3"]["visits"]) == (4, 2, 1)
    assert (nodes["2"]["left_here"], nodes["2"]["closed_here"]) == (1, 1)

    results = (await reports.standard(ReportKind.CAMPAIGNS, START, END)).rows
    by_channel = {r["channel"]: r for r in results if r["campaign_id"] == ids.campaign}
    assert (by_channel["phone"]["positive"], by_channel["phone"]["negative"]) == (1, 1)
    assert (by_channel["sms"]["positive"], by_channel["sms"]["negative"]) == (5, 2)
