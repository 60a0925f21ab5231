"""Erlang C against a hand-computed example, and its behaviour at the edges."""

from __future__ import annotations

import math

import pytest

from callcenter.domain import erlang

# Hand-computed example: 100 calls/h, AHT 180 s -> A = 100 * 180 / 3600 = 5 erlangs, N = 7.
#   Erlang B by the recursion B(n) = A B(n-1) / (n + A B(n-1)), B(0) = 1:
#     B1 = 5/6 = 0.833333       B2 = 4.166667/6.166667 = 0.675676
#     B3 = 3.378378/6.378378 = 0.529661   B4 = 2.648305/6.648305 = 0.398343
#     B5 = 1.991713/6.991713 = 0.284868   B6 = 1.424338/7.424338 = 0.191847
#     B7 = 0.959233/7.959233 = 0.120519
#   (check: (5^7/7!) / sum_{k<=7} 5^k/k! = 15.50099 / 128.6191 = 0.120519)
#   P(wait) = C = N B / (N - A (1 - B)) = 0.843633 / (7 - 4.397405) = 0.843633 / 2.602595
#           = 0.324150
#   SL(20 s) = 1 - C exp(-(N - A) t / AHT) = 1 - 0.324150 * exp(-40/180)
#            = 1 - 0.324150 * 0.800737 = 0.740441
#   ASA = C AHT / (N - A) = 0.324150 * 180 / 2 = 29.17 s
#   occupancy = A / N = 5/7 = 0.714286
# With N = 8: B8 = 0.602590/8.602590 = 0.070048, C = 0.560384/3.350240 = 0.167267,
#   SL(20 s) = 1 - 0.167267 * exp(-60/180) = 1 - 0.167267 * 0.716531 = 0.880147,
#   ASA = 0.167267 * 180 / 3 = 10.04 s: so an 80/20 target needs 8 operators (7 give 74 %).


def test_hand_computed_example() -> None:
    traffic = erlang.traffic_erlangs(100, 180)
    assert traffic == pytest.approx(5.0)
    assert erlang.erlang_b(7, traffic) == pytest.approx(0.120519, abs=1e-6)
    assert erlang.erlang_c(7, traffic) == pytest.approx(0.324150, abs=1e-5)
    assert erlang.service_level(7, traffic, 180, 20) == pytest.approx(0.740441, abs=1e-5)
    assert erlang.average_speed_of_answer(7, traffic, 180) == pytest.approx(29.17, abs=0.01)
    assert erlang.occupancy(7, traffic) == pytest.approx(0.714286, abs=1e-6)


def test_staffing_for_80_in_20_matches_the_hand_computation() -> None:
    result = erlang.staffing(100, 180, target_service_level=0.8, target_seconds=20)
    assert result.agents == 8
    assert result.service_level == pytest.approx(0.880147, abs=1e-5)
    assert result.probability_of_wait == pytest.approx(0.167267, abs=1e-5)
    assert result.asa_seconds == pytest.approx(10.04, abs=0.01)
    assert result.occupancy == pytest.approx(0.625)


def test_staffing_is_the_smallest_that_meets_the_target() -> None:
    for calls, aht, target in [(60, 240, 0.8), (928 / 10, 300, 0.9), (1500, 200, 0.85)]:
        result = erlang.staffing(calls, aht, target_service_level=target, target_seconds=40)
        traffic = erlang.traffic_erlangs(calls, aht)
        assert erlang.service_level(result.agents, traffic, aht, 40) >= target
        assert erlang.service_level(result.agents - 1, traffic, aht, 40) < target


def test_no_queue_when_agents_do_not_exceed_traffic() -> None:
    assert erlang.erlang_c(5, 5.0) == 1.0
    assert erlang.service_level(4, 5.0, 180, 40) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(5, 5.0, 180))


def test_no_traffic_needs_no_one() -> None:
    result = erlang.staffing(0, 180, target_service_level=0.8, target_seconds=20)
    assert result.agents == 0
    assert result.service_level == 1.0
    assert result.asa_seconds == 0.0


def test_large_traffic_stays_finite_and_close_to_square_root_staffing() -> None:
    # 40 000 calls/h of 3 min: 2 000 erlangs; the textbook A^N/N! would overflow a float
    result = erlang.staffing(40_000, 180, target_service_level=0.8, target_seconds=20)
    assert result.traffic == pytest.approx(2000.0)
    assert math.isfinite(result.asa_seconds)
    # square-root staffing: N ~ A + beta sqrt(A) with beta about 1 for such targets
    assert 2000 < result.agents < 2000 + 3 * math.sqrt(2000)
    assert 0.0 < erlang.erlang_b(5000, 4800.0) < 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target_service_level": 1.0, "target_seconds": 20}, "between 0 and 1"),
        ({"target_service_level": 0.8, "target_seconds": -1}, "cannot be negative"),
        ({"target_service_level": 0.8, "target_seconds": 20, "max_occupancy": 0}, "occupancy"),
    ],
)
def test_bad_targets_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        erlang.staffing(100, 180, **kwargs)


def test_occupancy_cap_adds_operators() -> None:
    plain = erlang.staffing(1000, 180, target_service_level=0.5, target_seconds=60)
    capped = erlang.staffing(
        1000, 180, target_service_level=0.5, target_seconds=60, max_occupancy=0.8
    )
    assert capped.agents > plain.agents
    assert capped.occupancy <= 0.8
