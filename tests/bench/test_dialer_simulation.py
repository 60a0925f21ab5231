"""The "done when" check of the predictive mode, on the benchmark's seeded simulation.

Tests of the benchmarks' own models live here, apart from the unit tests: nothing under
tests/unit imports from bench/.
"""

from __future__ import annotations

import pytest

from bench.dialer.simulation import Scenario, simulate
from bench.dialer.strategies import PredictiveStrategy, ProgressiveStrategy, RatioFeedbackStrategy


@pytest.mark.slow
def test_predictive_keeps_abandons_within_3pct_and_beats_progressive_on_talk_time() -> None:
    scenario = Scenario(operators=20, answer_rate=0.30, hours=1.0, seed=20261123)
    predictive = simulate(scenario, PredictiveStrategy())
    progressive = simulate(scenario, ProgressiveStrategy())

    assert predictive.live > 200  # enough answers for the rate to mean something
    assert predictive.abandon_pct <= 3.0
    assert progressive.abandon_pct == 0.0  # an operator is always waiting for each answer
    assert predictive.talk_min_per_h > progressive.talk_min_per_h * 1.08


def test_the_simulation_is_repeatable_for_a_seed() -> None:
    scenario = Scenario(operators=5, answer_rate=0.15, hours=0.5, seed=3)
    first = simulate(scenario, RatioFeedbackStrategy())
    second = simulate(scenario, RatioFeedbackStrategy())
    assert (first.dials, first.live, first.abandoned, first.talk_seconds) == (
        second.dials,
        second.live,
        second.abandoned,
        second.talk_seconds,
    )
    other = simulate(
        Scenario(operators=5, answer_rate=0.15, hours=0.5, seed=4), RatioFeedbackStrategy()
    )
    assert (other.dials, other.talk_seconds) != (first.dials, first.talk_seconds)
