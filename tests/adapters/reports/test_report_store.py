"""Reports over hand-made call records and operator states, on SQLite and PostgreSQL: every
figure of the summary checked against the definitions by hand, the groupings, the
incremental roll-up, and the standard reports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callcenter.db.models.calls import Call
from callcenter.db.reports import SqlReportStore
from callcenter.domain.calls import Disposition
from callcenter.domain.report_metrics import Dimension, Interval
from callcenter.ports.reports import Filters
from callcenter.reports.definitions import ReportKind
from callcenter.reports.service import ReportService
from tests.support.report_data import END, START, Sessions, at, seed


def service(sessions: Sessions) -> ReportService:
    return ReportService(
        # Moscow's days: operator reports of whole days read the day roll-ups
        SqlReportStore(sessions, utc_offset_seconds=3 * 3600),
        timezone="Europe/Moscow",
        clock=lambda: at(12, 0),
        refresh_every=0.0,  # every report sees the records as they are
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

    # the 23rd from the day roll-ups, the edges (from noon of the 22nd, to noon of the 24th)
    # from the 15-minute ones: c8, at 23:00 on the 22nd, is Анна's too
    wider = await reports.summary(
        START - timedelta(hours=12), END + timedelta(hours=12), group_by=(Dimension.OPERATOR,)
    )
    anna = next(r for r in wider.rows if r["operator"] == ids.a)
    assert (anna["offered"], anna["answered"]) == (3, 3)

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


async def test_the_interval_totals_agree_with_the_per_direction_rows(
    session_factory: Sessions,
) -> None:
    # by interval alone the report reads one row per 15 minutes; split by direction it adds
    # up the per-queue rows: the same calls either way
    await seed(session_factory)
    reports = service(session_factory)
    quarters = (
        await reports.summary(START, END, group_by=(Dimension.INTERVAL,), interval=Interval.MIN15)
    ).rows
    split = (
        await reports.summary(
            START, END, group_by=(Dimension.INTERVAL, Dimension.DIRECTION), interval=Interval.MIN15
        )
    ).rows
    counts = ("calls", "offered", "answered", "abandoned", "answered_within_sla", "in_progress")
    added: dict[str, dict[str, int]] = {}
    for row in split:
        sums = added.setdefault(str(row["interval"]), dict.fromkeys(counts, 0))
        for name in counts:
            value = row[name]
            assert isinstance(value, int)
            sums[name] += value
    with_calls = {str(r["interval"]): {n: r[n] for n in counts} for r in quarters if r["calls"]}
    assert with_calls == {k: v for k, v in added.items() if v["calls"]}
    assert sum(r["offered"] for r in quarters) == 4  # type: ignore[misc]


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
    assert (by_channel["sms"]["positive"], by_channel["sms"]["negative"]) == (1, 1)
