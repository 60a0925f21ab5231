"""Routing rules: priorities, penalties from skills, expected waits, overflow, emergency mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.domain import acd
from callcenter.domain.acd import (
    CALLBACK_PRIORITY,
    EmergencyMode,
    EmergencySource,
    InboundRate,
    OverflowPolicy,
    QueueLoad,
    RouteReason,
    SurgeRule,
)
from callcenter.domain.customers import CustomerCategory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_priority_by_customer_category() -> None:
    social = acd.caller_priority(CustomerCategory.SOCIAL_FACILITY)
    legal = acd.caller_priority(CustomerCategory.LEGAL_ENTITY)
    ordinary = acd.caller_priority(CustomerCategory.INDIVIDUAL)
    assert social > legal > ordinary == acd.caller_priority(None) == 0
    assert acd.caller_priority(CustomerCategory.INDIVIDUAL, callback=True) == CALLBACK_PRIORITY
    assert social < CALLBACK_PRIORITY


@pytest.mark.parametrize(
    ("skills", "penalty"),
    [
        ({"outages": 9, "power_quality": 8, "contacts": 8}, 0),
        ({"outages": 7, "power_quality": 6, "contacts": 6}, 1),  # mean 6.3
        ({"outages": 5, "power_quality": 4, "contacts": 4}, 2),
        ({"outages": 9}, 3),  # one topic of three: mean 3
        ({}, 3),
    ],
)
def test_skill_penalty_for_line_one(skills: dict[str, int], penalty: int) -> None:
    assert acd.member_penalty(0, skills, 1) == penalty


def test_configured_penalty_adds_to_the_skill_penalty() -> None:
    # a line-2 operator helping line 1 (seeded with penalty 5) rings after line 1's own
    line2_skills = {"grid_connection": 9, "metering": 6, "services": 7}
    assert acd.member_penalty(5, line2_skills, 1) == 8
    assert acd.member_penalty(0, line2_skills, 2) == 1
    assert acd.member_penalty(0, {}, 3) == 0  # line 3 has no topic list
    assert acd.member_penalty(2, {}, None) == 2


def test_expected_wait_by_position() -> None:
    load = QueueLoad(serving=4, free=1, aht_seconds=240)
    assert acd.expected_wait(load, 0) == 0.0  # a free operator takes the first caller
    assert acd.expected_wait(load, 1) == pytest.approx(60.0)  # one call must end: 240/4
    assert acd.expected_wait(load, 4) == pytest.approx(240.0)
    assert acd.expected_wait(QueueLoad(0, 0, 240), 0) is None


def test_new_caller_estimate_never_below_erlang_c_for_the_observed_load() -> None:
    # 5 erlangs on 7 operators (hand example of test_erlang): ASA 29.17 s even when the queue
    # is momentarily empty with an operator free
    load = QueueLoad(serving=7, free=1, aht_seconds=180, arrivals_per_hour=100)
    assert acd.expected_wait(load, 0) == 0.0
    assert acd.expected_wait_new_call(load, 0) == pytest.approx(29.17, abs=0.01)
    # overloaded: the position estimate stands
    jammed = QueueLoad(serving=2, free=0, aht_seconds=180, arrivals_per_hour=100)
    assert acd.expected_wait_new_call(jammed, 3) == pytest.approx(4 * 90.0)


def _route(**kwargs: object) -> acd.RouteDecision:
    args: dict[str, object] = {
        "queue": "line1",
        "queue_line": 1,
        "expected": 30.0,
        "all_busy_for": None,
        "overflow_queue": "branch-overflow",
        "overflow_expected": 10.0,
        "mode": EmergencyMode(),
        "policy": OverflowPolicy(wait_seconds=120, all_busy_seconds=60),
    }
    args.update(kwargs)
    return acd.decide_route(**args)  # type: ignore[arg-type]


def test_a_short_wait_stays() -> None:
    decision = _route()
    assert (decision.queue, decision.overflowed, decision.reason) == ("line1", False, "stay")
    assert decision.timeout_seconds == 90


def test_a_long_expected_wait_overflows_to_the_branches() -> None:
    decision = _route(expected=150.0)
    assert decision.overflowed
    assert decision.queue == "branch-overflow"
    assert decision.reason is RouteReason.LONG_WAIT
    assert decision.expected_wait == 10.0


def test_line_one_busy_too_long_overflows() -> None:
    assert _route(all_busy_for=61.0).reason is RouteReason.ALL_BUSY
    assert not _route(all_busy_for=59.0).overflowed
    assert not _route(queue="line2", queue_line=2, all_busy_for=600.0).overflowed


def test_no_overflow_when_the_branches_would_not_answer_sooner() -> None:
    decision = _route(expected=150.0, overflow_expected=200.0)
    assert not decision.overflowed
    assert decision.reason is RouteReason.LONG_WAIT  # it wanted to: the reason says why
    assert not _route(expected=150.0, overflow_expected=None).overflowed
    assert not _route(expected=150.0, overflow_queue=None).overflowed


def test_nobody_serving_overflows_if_the_branches_are_there() -> None:
    decision = _route(expected=None)
    assert decision.overflowed
    assert decision.reason is RouteReason.NOBODY_SERVING


def test_emergency_raises_the_wait_target_and_opens_the_overflow() -> None:
    mode = acd.switch_emergency(EmergencyMode(), active=True, now=T0)
    assert mode.wait_target_seconds == 180
    assert mode.announcement == acd.DEFAULT_OUTAGE_ANNOUNCEMENT
    assert EmergencyMode().wait_target_seconds == 40
    # 60 s expected: fine normally, beyond the normal target in an emergency -> branches
    assert not _route(expected=60.0).overflowed
    decision = _route(expected=60.0, mode=mode)
    assert decision.overflowed
    assert decision.timeout_seconds == 180


def test_a_supervisor_confirming_an_automatic_mode_takes_it_over() -> None:
    auto = acd.switch_emergency(
        EmergencyMode(), active=True, now=T0, source=EmergencySource.AUTOMATIC
    )
    confirmed = acd.switch_emergency(auto, active=True, now=T0, announcement="Авария в Твери")
    assert confirmed.source is EmergencySource.SUPERVISOR
    assert confirmed.since == T0
    assert confirmed.announcement == "Авария в Твери"
    assert not acd.switch_emergency(confirmed, active=False, now=T0).active


def test_the_inbound_rate_jump_switches_emergency_on_and_calm_switches_it_off() -> None:
    rule = SurgeRule(
        window_seconds=300,
        baseline_seconds=3600,
        factor=3,
        min_calls=20,
        release_factor=1.5,
        release_seconds=600,
    )
    rate = InboundRate(rule)
    mode = EmergencyMode()
    # a normal hour: 60 calls (one a minute)
    for minute in range(60):
        rate.add(T0 + timedelta(minutes=minute))
    now = T0 + timedelta(minutes=60)
    assert not rate.check(mode, now).active
    # then 40 calls in 5 minutes: 480/h against a baseline of about 60/h
    for second in range(1, 300, 7):
        rate.add(now + timedelta(seconds=second))
    now += timedelta(seconds=300)
    mode = rate.check(mode, now)
    assert mode.active
    assert mode.source is EmergencySource.AUTOMATIC
    assert mode.baseline_per_hour == pytest.approx(60.0)
    # the storm passes: no calls; after the release time the mode ends by itself
    now += timedelta(seconds=400)
    mode = rate.check(mode, now)
    assert mode.active  # calm noticed, not for long enough yet
    mode = rate.check(mode, now + timedelta(seconds=601))
    assert not mode.active


def test_a_supervisor_mode_is_not_switched_off_automatically() -> None:
    rate = InboundRate(SurgeRule(release_seconds=0))
    mode = acd.switch_emergency(EmergencyMode(), active=True, now=T0)
    assert rate.check(mode, T0 + timedelta(hours=2)).active


def test_a_quiet_night_does_not_trigger_emergency() -> None:
    rate = InboundRate(SurgeRule(min_calls=30))
    for second in range(0, 300, 30):  # 10 calls in 5 minutes after a silent hour
        rate.add(T0 + timedelta(seconds=second))
    assert not rate.check(EmergencyMode(), T0 + timedelta(seconds=300)).active


def test_announced_minutes_round_up() -> None:
    assert acd.wait_minutes(10) == 1
    assert acd.wait_minutes(61) == 2
    assert acd.wait_minutes(120) == 2
