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
    # one more call would break the budget
    more = expected_abandons(decision.calls + 1, 0.3, 0, [0.0] * 10 + [1.0])
    assert more / ((decision.calls + 1) * 0.3) > decision.allowed_share


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


def test_window_feedback_loosens_when_clean_and_tightens_when_near_the_limit() -> None:
    aim = SETTINGS.aim * SETTINGS.target_abandon
    few = WindowCounts(dials=40, live=10, abandoned=0)
    clean = WindowCounts(dials=400, live=100, abandoned=0)
    near = WindowCounts(dials=400, live=100, abandoned=2)
    assert allowed_share(few, SETTINGS) == pytest.approx(aim)  # too few answers to judge
    assert allowed_share(clean, SETTINGS) == pytest.approx(aim * SETTINGS.max_gain)
    assert 0 < allowed_share(near, SETTINGS) < aim


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
    outcomes = RollingOutcomes(window_seconds=60, prior_weight=0)
    outcomes.dial_finished(0, live=True, connect_seconds=10)
    outcomes.live_answer(0, abandoned=True)
    for t in range(30, 40):
        outcomes.dial_finished(t, live=False)
    assert outcomes.counts(50) == WindowCounts(dials=11, live=1, abandoned=1)
    assert outcomes.counts(70) == WindowCounts(dials=10, live=0, abandoned=0)
    assert outcomes.answer_rate(70) == 0.0
    assert outcomes.connect_seconds() == 10


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
    assert predictive.decide(0, operators, load, max_new=100).calls > 3
