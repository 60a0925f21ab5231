"""Service metrics against a hand-computed example (the numbers are worked out in comments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.domain.agents import OperatorState
from callcenter.domain.service_metrics import (
    ContactOutcome,
    QueueContact,
    StateSpan,
    compute,
    interval_start,
    intervals,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(minutes=30)
Q = timedelta(minutes=15)


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


A, X, L, C = (
    ContactOutcome.ANSWERED,
    ContactOutcome.ABANDONED,
    ContactOutcome.LEFT,
    ContactOutcome.CALLBACK,
)
CONTACTS = [
    # queue, line, offered, outcome, wait, talk, after-call work
    QueueContact("line1", 1, t(1), A, 10, 200, 40),  # 1: answered within 40 s
    QueueContact("line1", 1, t(5), A, 50, 100, 20),  # 2: answered late
    QueueContact("line1", 1, t(7), X, 30),  # 3: abandoned
    QueueContact("line1", 1, t(10), L, 120),  # 4: overflowed to the branches
    QueueContact("line1", 1, t(12), C, 90),  # 5: booked a callback: not counted
    QueueContact("line2", 2, t(20), A, 35, 300, None),  # 6: line 2
    QueueContact("line1", 1, t(16), A, 5, None, None),  # 7: still talking
]
S = OperatorState
SPANS = [
    # operator 1, line 1: ready 2 min, talks 200 s, 40 s wrap-up, a pause, then ready
    StateSpan(1, 1, S.READY, t(0), t(2)),
    StateSpan(1, 1, S.ON_CALL, t(2), t(2) + timedelta(seconds=200)),
    StateSpan(1, 1, S.WRAP_UP, t(2) + timedelta(seconds=200), t(6)),
    StateSpan(1, 1, S.PAUSED, t(6), t(10)),
    StateSpan(1, 1, S.READY, t(10)),  # still ready
    # operator 2, line 1: on a call 12 min, ready 3 min, on a call again (still)
    StateSpan(2, 1, S.ON_CALL, t(0), t(12)),
    StateSpan(2, 1, S.READY, t(12), t(15)),
    StateSpan(2, 1, S.ON_CALL, t(15)),
    # operator 3, line 2: ready all along
    StateSpan(3, 2, S.READY, t(0)),
]


def test_line_one_first_interval_by_hand() -> None:
    # 09:00-09:15, line 1: contacts 1-4 (5 booked a callback, 7 came at 09:16)
    #   offered 4 = answered 2 + abandoned 1 + left 1; within 40 s: contact 1 only
    #   ASA = (10 + 50) / 2 = 30 s; SL = 1/4; abandon rate = 1/4
    #   AHT = ((200 + 40) + (100 + 20)) / 2 = 180 s
    #   operator 1: ready 120 + 300 (09:10-09:15) = 420 s, busy 200 + 40 = 240 s
    #   operator 2: busy 720 s, ready 180 s -> occupancy (240 + 720) / (960 + 600) = 0.615385
    m = compute(CONTACTS, SPANS, start=T0, end=T0 + Q, line=1, now=NOW)
    assert (m.offered, m.answered, m.abandoned, m.left) == (4, 2, 1, 1)
    assert m.answered_within_target == 1
    assert m.asa_seconds == pytest.approx(30.0)
    assert m.service_level == pytest.approx(0.25)
    assert m.abandon_rate == pytest.approx(0.25)
    assert m.aht_seconds == pytest.approx(180.0)
    assert (m.busy_seconds, m.ready_seconds) == (960.0, 600.0)
    assert m.occupancy == pytest.approx(0.615385, abs=1e-6)


def test_line_one_today_by_hand() -> None:
    # 09:00-09:30, line 1: contacts 1, 2, 3, 4, 7 -> offered 5, answered 3 (1, 2, 7),
    #   within 40 s: 1 and 7 -> SL 2/5 = 0.4; abandon 1/5; ASA (10 + 50 + 5) / 3 = 21.667 s
    #   AHT over calls whose talk is known (1, 2): 180 s
    #   operator 1: ready 120 + 1200 (09:10-09:30) = 1320, busy 240
    #   operator 2: busy 720 + 900 (09:15-09:30) = 1620, ready 180
    #   occupancy = 1860 / (1860 + 1500) = 0.553571
    m = compute(CONTACTS, SPANS, start=T0, end=NOW, line=1, now=NOW)
    assert (m.offered, m.answered, m.abandoned, m.left) == (5, 3, 1, 1)
    assert m.service_level == pytest.approx(0.4)
    assert m.abandon_rate == pytest.approx(0.2)
    assert m.asa_seconds == pytest.approx(65 / 3)
    assert m.aht_seconds == pytest.approx(180.0)
    assert m.occupancy == pytest.approx(1860 / 3360)


def test_every_line_together_counts_line_two_operators_too() -> None:
    # 09:00-09:15: the same contacts as line 1 (line 2 had none yet); operator 3 adds
    # 900 s ready: occupancy 960 / (960 + 1500) = 0.390244
    m = compute(CONTACTS, SPANS, start=T0, end=T0 + Q, now=NOW)
    assert m.offered == 4
    assert m.occupancy == pytest.approx(960 / 2460)


def test_no_data_is_none_not_zero() -> None:
    m = compute([], [], start=T0, end=T0 + Q)
    assert m.offered == 0
    assert m.service_level is None
    assert m.asa_seconds is None
    assert m.abandon_rate is None
    assert m.aht_seconds is None
    assert m.occupancy is None


def test_fifteen_minute_intervals() -> None:
    rows = intervals(CONTACTS, SPANS, origin=T0, until=NOW, line=1)
    assert [r.start for r in rows] == [T0, T0 + Q, T0 + 2 * Q]
    first, second, third = (r.metrics for r in rows)
    assert first == compute(CONTACTS, SPANS, start=T0, end=T0 + Q, line=1, now=NOW)
    # 09:15-09:30, line 1: contact 7 answered in 5 s; operator 1 ready 900 s, 2 busy 900 s
    assert (second.offered, second.answered_within_target) == (1, 1)
    assert second.asa_seconds == pytest.approx(5.0)
    assert second.aht_seconds is None  # still talking
    assert second.occupancy == pytest.approx(0.5)
    # 09:30-09:45 has only begun
    assert third.offered == 0
    assert third.occupancy is None
    line2 = intervals(CONTACTS, SPANS, origin=T0, until=NOW, line=2)[1].metrics
    assert line2.aht_seconds == pytest.approx(300.0)  # no after-call work recorded
    assert line2.occupancy == 0.0


def test_interval_start_follows_the_origin() -> None:
    origin = datetime(2026, 3, 1, 21, 0, tzinfo=UTC)  # midnight in Moscow
    assert interval_start(t(22), origin=origin) == t(15)
    assert interval_start(t(15), origin=origin) == t(15)
