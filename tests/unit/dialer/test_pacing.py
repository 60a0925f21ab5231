from __future__ import annotations

import math
import random

import pytest

from callcenter.domain.campaigns import DialMode
from callcenter.domain.pacing import (
    CallLoad,
    HandleTimes,
    OperatorLoad,
    Pacer,
    PacerConfig,
    PacingReason,
    PredictiveSettings,
    RollingOutcomes,
    WindowCounts,
    allowed_share,
    expected_abandons,
    poisson_binomial,
    power_calls,
    predictive_calls,
    progressive_calls,
)

SETTINGS = PredictiveSettings()
CLEAN = WindowCounts(dials=0, live=0, abandoned=0)


def _monte_carlo_abandons(
    n: int, p: float, waiting: int, ready: int, chances: list[float]
) -> float:
    rng = random.Random(7)
    total = 0
    runs = 40_000
    for _ in range(runs):
        lives = sum(rng.random() < p for _ in range(n)) + waiting
        free = ready + sum(rng.random() < q for q in chances)
        total += max(0, lives - free)
    return total / runs


def test_expected_abandons_matches_a_monte_carlo_estimate() -> None:
    chances = [0.2, 0.5, 0.9, 0.05]
    ready = 2
    pmf = [0.0] * ready + poisson_binomial(chances)
    exact = expected_abandons(12, 0.3, 1, pmf)
    assert exact == pytest.approx(_monte_carlo_abandons(12, 0.3, 1, ready, chances), abs=0.02)


def test_poisson_binomial_sums_to_one_and_handles_certain_events() -> None:
    pmf = poisson_binomial([1.0, 0.5, 0.0])
    assert pmf == pytest.approx([0.0, 0.5, 0.5])
    assert sum(poisson_binomial([0.3] * 40)) == pytest.approx(1.0)


def test_progressive_places_one_call_per_idle_operator_not_already_covered() -> None:
    assert progressive_calls(OperatorLoad(ready=5), CallLoad(in_flight=2, waiting_live=1)) == 2
    assert progressive_calls(OperatorLoad(ready=1), CallLoad(in_flight=3)) == 0


def test_power_uses_a_fixed_ratio_of_lines_per_idle_operator() -> None:
    assert power_calls(OperatorLoad(ready=4), CallLoad(in_flight=3), ratio=2.5) == 7
    with pytest.raises(ValueError, match="at least one line"):
        power_calls(OperatorLoad(ready=4), CallLoad(in_flight=0), ratio=0.5)


def test_predictive_dials_nothing_without_operators() -> None:
    decision = predictive_calls(
        OperatorLoad(ready=0),
        CallLoad(in_flight=0),
        answer_rate=0.3,
        free_chances=[],
        window=CLEAN,
        settings=SETTINGS,
        max_new=100,
    )
    assert (decision.calls, decision.reason) == (0, PacingReason.NO_OPERATORS)


def test_predictive_overdials_for_a_low_answer_rate_but_keeps_expected_abandons_in_budget() -> None:
    operators = OperatorLoad(ready=10)
    decision = predictive_calls(
        operators,
        CallLoad(in_flight=0),
        answer_rate=0.3,
        free_chances=[],
        window=CLEAN,
        settings=SETTINGS,
        max_new=1000,
    )
    # far more than one call per idle operator, since only ~30 % answer
    assert decision.calls > 20
    assert decision.expected_abandon_share <= decision.allowed_share + 1e-9
    # a new campaign (too few live answers to judge): one more call would break the budget
    more = expected_abandons(decision.calls + 1, 0.3, 0, [0.0] * 10 + [1.0])
    assert more / ((decision.calls + 1) * 0.3) > decision.allowed_share


def test_once_the_window_can_be_judged_each_call_keeps_its_own_abandons_within_budget() -> None:
    window = WindowCounts(dials=1000, live=300, abandoned=3)  # 1 %: well below the target
    decision = predictive_calls(
        OperatorLoad(ready=10),
        CallLoad(in_flight=0),
        answer_rate=0.3,
        free_chances=[],
        window=window,
        settings=SETTINGS,
        max_new=1000,
    )
    assert decision.calls > 10
    free = [0.0] * 10 + [1.0]
    threshold = decision.allowed_share * SETTINGS.marginal_factor

    def own(n: int) -> float:
        return (expected_abandons(n, 0.3, 0, free) - expected_abandons(n - 1, 0.3, 0, free)) / 0.3

    # the last call placed adds abandons within the allowance per live answer it brings;
    # one more would not
    assert own(decision.calls) <= threshold + 1e-9
    assert own(decision.calls + 1) > threshold


def test_predictive_counts_operators_about_to_finish() -> None:
    def calls(chances: list[float]) -> int:
        return predictive_calls(
            OperatorLoad(ready=0, busy_elapsed=tuple(100.0 for _ in chances)),
            CallLoad(in_flight=0),
            answer_rate=0.3,
            free_chances=chances,
            window=CLEAN,
            settings=SETTINGS,
            max_new=1000,
        ).calls

    assert calls([0.9] * 10) > calls([0.5] * 10) > 0
    assert calls([0.1] * 10) == 0  # one call would risk a 35 % chance of nobody free


def test_predictive_never_dials_fewer_than_progressive() -> None:
    for ready in range(0, 8):
        for in_flight in range(0, 6):
            operators = OperatorLoad(ready=ready, busy_elapsed=(30.0,) * 3)
            load = CallLoad(in_flight=in_flight)
            decision = predictive_calls(
                operators,
                load,
                answer_rate=0.5,
                free_chances=[0.1] * 3,
                window=WindowCounts(dials=500, live=200, abandoned=10),  # over the limit
                settings=SETTINGS,
                max_new=100,
            )
            assert decision.calls >= progressive_calls(operators, load)


def test_window_over_the_target_allows_no_risk_at_all() -> None:
    over = WindowCounts(dials=400, live=100, abandoned=3)
    assert allowed_share(over, SETTINGS) == 0.0
    decision = predictive_calls(
        OperatorLoad(ready=3),
        CallLoad(in_flight=0),
        answer_rate=0.3,
        free_chances=[],
        window=over,
        settings=SETTINGS,
        max_new=100,
    )
    assert (decision.calls, decision.reason) == (3, PacingReason.ABANDON_LIMIT)


def test_window_allowance_follows_the_gain_and_fades_out_near_the_ceiling() -> None:
    target = SETTINGS.target_abandon
    few = WindowCounts(dials=40, live=10, abandoned=0)
    clean = WindowCounts(dials=400, live=200, abandoned=0)
    between = WindowCounts(dials=3200, live=1600, abandoned=44)  # 2.75 %: target..ceiling
    # less room below 3 % than the margin kept for calls already placed
    room_left = math.ceil(0.03 * 200 - SETTINGS.ceiling_margin_abandons + 0.01)
    near = WindowCounts(dials=400, live=200, abandoned=room_left)
    assert allowed_share(few, SETTINGS) == pytest.approx(SETTINGS.start_share * target)
    assert allowed_share(clean, SETTINGS) == pytest.approx(target)
    assert allowed_share(clean, SETTINGS, gain=0.5) == pytest.approx(0.5 * target)
    assert allowed_share(clean, SETTINGS, gain=99) == pytest.approx(SETTINGS.max_gain * target)
    assert 0 < allowed_share(between, SETTINGS) < target
    assert allowed_share(near, SETTINGS) == 0.0


def test_the_feedback_gain_rises_below_the_target_and_falls_above_it() -> None:
    operators = OperatorLoad(ready=5, busy_elapsed=(60.0,) * 15)
    calm = Pacer(PacerConfig(DialMode.PREDICTIVE))
    calm.gain = 0.5  # held back by an earlier rough hour
    for t in range(200):  # 200 live answers in the hour, none abandoned
        calm.live_answer(t, abandoned=False)
    calm.decide(200, operators, CallLoad(0), max_new=100)
    calm.decide(1400, operators, CallLoad(0), max_new=100)
    assert calm.gain > 0.8

    rough = Pacer(PacerConfig(DialMode.PREDICTIVE))
    for t in range(200):  # 7 of 200 abandoned: 3.5 %
        rough.live_answer(t, abandoned=t % 29 == 0)
    rough.decide(200, operators, CallLoad(0), max_new=100)
    rough.decide(1400, operators, CallLoad(0), max_new=100)
    assert rough.gain < 1.0


def test_a_call_ringing_for_long_is_less_likely_a_live_answer() -> None:
    outcomes = RollingOutcomes(prior_weight=0)
    # people answer after 8-20 s; other calls end within 4 s or ring out at 30 s
    for i in range(300):
        at = float(i)
        outcomes.dial_finished(at + 12, live=True, connect_seconds=8 + (i % 13))
        outcomes.dial_finished(at + 2, live=False, connect_seconds=2)
        outcomes.dial_finished(at + 30, live=False, connect_seconds=30)
    p = outcomes.answer_rate(400)
    assert p == pytest.approx(1 / 3, abs=0.02)
    assert outcomes.live_chance(0, p) == pytest.approx(p, abs=0.05)
    assert outcomes.live_chance(5, p) > p  # the quick failures are over
    assert outcomes.live_chance(25, p) == 0.0  # people answer within 20 s


def test_operators_who_pause_after_calls_count_less_as_about_to_free() -> None:
    def calls(returned: bool) -> int:
        pacer = Pacer(PacerConfig(DialMode.PREDICTIVE))
        for i in range(40):
            pacer.handled(100.0 + i, returned=returned or i % 2 == 0)
        operators = OperatorLoad(ready=2, busy_elapsed=(120.0,) * 10)
        return pacer.decide(0, operators, CallLoad(0), max_new=100).calls

    assert calls(returned=True) > calls(returned=False) >= 2


def test_handle_times_conditional_chance_uses_the_observed_distribution() -> None:
    times = HandleTimes(prior_mean=100.0)
    assert times.free_within(0, 100) == pytest.approx(1 - math.exp(-1))  # prior only
    for seconds in range(60, 260, 10):  # 60, 70, ..., 250
        times.add(seconds)
    # busy 200 s: the calls that long (210..250, 5 of them) all end within 60 s more
    assert times.free_within(150, 100) == pytest.approx(1.0)
    assert times.free_within(100, 50) == pytest.approx(5 / 15)


def test_handle_times_keeps_only_the_most_recent_samples() -> None:
    times = HandleTimes(capacity=10, min_samples=1)
    for _ in range(10):
        times.add(1000)
    for _ in range(10):
        times.add(10)
    assert times.mean == pytest.approx(10)
    assert times.free_within(0, 20) == pytest.approx(1.0)


def test_rolling_outcomes_forget_what_left_the_window() -> None:
    outcomes = RollingOutcomes(window_seconds=60, prior_weight=0, settle_seconds=5)
    outcomes.dial_finished(0, live=True, connect_seconds=10)
    outcomes.live_answer(0, abandoned=True)
    for t in range(30, 40):
        outcomes.dial_finished(t, live=False, connect_seconds=1)
    assert outcomes.counts(50) == WindowCounts(dials=11, live=1, abandoned=1)
    assert outcomes.counts(70) == WindowCounts(dials=10, live=0, abandoned=0)
    # the answer rate is over the most recent settled dials, not the window
    assert outcomes.answer_rate(70) == pytest.approx(1 / 11)


def test_the_answer_rate_follows_the_most_recent_dials() -> None:
    outcomes = RollingOutcomes(answer_dials=100, prior_weight=0, settle_seconds=0)
    for t in range(300):
        outcomes.dial_finished(t, live=t % 10 < 4, connect_seconds=0)  # 40 %
    for t in range(300, 400):
        outcomes.dial_finished(t, live=t % 10 < 1, connect_seconds=0)  # then 10 %
    assert outcomes.answer_rate(401) == pytest.approx(0.10)


def test_quick_fates_do_not_pass_for_the_answer_rate_before_slower_ones_come() -> None:
    outcomes = RollingOutcomes()  # prior 30 %
    for t in range(20):  # busy numbers tell within a second; people take 10 s or more
        outcomes.dial_finished(t * 0.1 + 1, live=False, connect_seconds=1)
    assert outcomes.answer_rate(3) == pytest.approx(0.3)


def test_pacer_dispatches_by_mode() -> None:
    operators = OperatorLoad(ready=4, busy_elapsed=(10.0, 20.0))
    load = CallLoad(in_flight=1)
    assert Pacer(PacerConfig(DialMode.PROGRESSIVE)).decide(0, operators, load, max_new=9).calls == 3
    assert (
        Pacer(PacerConfig(DialMode.POWER, power_ratio=2))
        .decide(0, operators, load, max_new=9)
        .calls
        == 7
    )
    assert Pacer(PacerConfig(DialMode.PREVIEW)).decide(0, operators, load, max_new=9).calls == 0
    channels = Pacer(PacerConfig(DialMode.NONE, max_channels=5))
    assert channels.decide(0, OperatorLoad(0), load, max_new=9, active_channels=3).calls == 2
    assert channels.decide(0, OperatorLoad(0), load, max_new=1, active_channels=0).calls == 1
    predictive = Pacer(PacerConfig(DialMode.PREDICTIVE))
    assert predictive.decide(0, operators, load, max_new=0).calls == 0
    for t in range(300):  # 300 settled dials at 30 %
        predictive.dial_finished(t, live=t % 10 < 3, connect_seconds=10)
    # more lines than idle operators (progressive would place 10)
    assert predictive.decide(400, OperatorLoad(ready=10), CallLoad(0), max_new=100).calls > 10


def test_a_new_campaign_does_not_start_with_a_burst_on_the_prior_answer_rate() -> None:
    operators = OperatorLoad(ready=20)
    fresh = Pacer(PacerConfig(DialMode.PREDICTIVE)).decide(0, operators, CallLoad(0), max_new=500)
    # the prior says 30 %; until dials settle the pacer plans for more answers than that
    assert progressive_calls(operators, CallLoad(0)) <= fresh.calls <= 20 / 0.4
    seasoned = Pacer(PacerConfig(DialMode.PREDICTIVE))
    for t in range(300):  # 300 settled dials at 30 %
        seasoned.dial_finished(t, live=t % 10 < 3, connect_seconds=10)
    later = seasoned.decide(400, operators, CallLoad(0), max_new=500)
    assert later.calls > fresh.calls


def _seasoned(answer_rate: float, *, wrap: bool = False) -> Pacer:
    """A pacer that has seen 300 settled dials at `answer_rate` and 100 calls handled in
    about three minutes (wrap-up 8-25 s of it when `wrap`)."""
    pacer = Pacer(PacerConfig(DialMode.PREDICTIVE))
    for t in range(300):
        pacer.dial_finished(t, live=(t * answer_rate) % 1 + answer_rate >= 1, connect_seconds=10)
    for i in range(100):
        wrap_seconds = 8 + (i * 7) % 18
        pacer.handled(
            150 + (i * 37) % 90 + wrap_seconds,
            wrap_seconds=float(wrap_seconds) if wrap else None,
        )
    return pacer


def test_with_a_high_answer_rate_and_every_operator_just_busy_it_dials_no_extra() -> None:
    pacer = _seasoned(0.9)
    assert pacer.outcomes.answer_rate(400) > 0.8
    operators = OperatorLoad(ready=0, busy_elapsed=(5.0,) * 10)  # all just took a call
    assert pacer.decide(400, operators, CallLoad(0), max_new=100).calls == 0


def test_near_the_ceiling_it_stops_over_dialling_and_only_covers_idle_operators() -> None:
    operators = OperatorLoad(ready=5, busy_elapsed=(100.0,) * 15)
    calm = _seasoned(0.3)
    for t in range(300):  # the hour so far: 300 live answers, none abandoned
        calm.live_answer(100 + t, abandoned=False)
    assert calm.decide(400, operators, CallLoad(0), max_new=100).calls > 5

    near = _seasoned(0.3)
    for t in range(300):  # 8 of 300 abandoned: 2.67 %, too close to 3 % for any risk
        near.live_answer(100 + t, abandoned=t % 40 == 0)
    assert near.outcomes.counts(400).abandoned == 8
    decision = near.decide(400, operators, CallLoad(0), max_new=100)
    assert decision.calls == progressive_calls(operators, CallLoad(0)) == 5


def test_when_the_list_runs_out_it_places_no_more_than_it_would_from_an_endless_list() -> None:
    operators = OperatorLoad(ready=6, busy_elapsed=(120.0,) * 14)
    load = CallLoad(in_flight=4, in_flight_elapsed=(2.0, 5.0, 9.0, 14.0))
    endless = _seasoned(0.3).decide(400, operators, load, max_new=10_000).calls
    assert endless > 0
    for left in range(0, endless + 5):
        placed = _seasoned(0.3).decide(400, operators, load, max_new=left).calls
        assert placed == min(endless, left)


def test_an_operator_in_wrap_up_counts_as_about_to_be_free() -> None:
    pacer = _seasoned(0.3, wrap=True)
    # five operators 10 s into wrap-up (8-25 s long) against five 10 s into a call
    wrapping = OperatorLoad(ready=1, busy_elapsed=(), wrapping_elapsed=(10.0,) * 5)
    talking = OperatorLoad(ready=1, busy_elapsed=(10.0,) * 5, wrapping_elapsed=())
    assert pacer.decide(400, wrapping, CallLoad(0), max_new=100).calls > (
        pacer.decide(400, talking, CallLoad(0), max_new=100).calls
    )


def test_live_answers_about_to_leave_the_window_count_against_the_room_below_the_ceiling() -> None:
    outcomes = RollingOutcomes(window_seconds=3600)
    for t in range(100):  # an hour ago: 100 live answers, none abandoned
        outcomes.live_answer(float(t), abandoned=False)
    for t in range(200):  # since: 200 live answers, 6 abandoned
        outcomes.live_answer(1000.0 + t, abandoned=t % 34 == 0)
    assert outcomes.counts(3650) == WindowCounts(dials=0, live=250, abandoned=6)
    # two minutes on, the clean early answers are gone: the same abandons weigh more
    assert outcomes.counts_ahead(3650, 120) == WindowCounts(dials=0, live=200, abandoned=6)
