"""Erlang C and the ACD's wait estimate against a seeded discrete-event simulation.

The simulation is the M/M/N queue Erlang C describes: Poisson arrivals, exponential handling
times, N operators, first come first served, nobody hangs up. Each caller starts service when
the earliest operator frees up (Kiefer-Wolfowitz recursion over a heap of the operators' free
times), which is exact for FCFS. The first 2 000 calls are dropped (the queue starts empty).

Tolerances: service level and probability of waiting within 0.02 (absolute), average wait
within 12 % of Erlang C, over 200 000 simulated calls. The average wait converges slowly at high
occupancy (consecutive waits are strongly correlated): over six seeds the measured ASA strayed
up to 9 % from the formula and the service level up to 0.015, so the tolerances hold with some
room, while a formula off by one operator misses by far more (last test).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass

import pytest

from callcenter.domain import erlang
from callcenter.domain.acd import QueueLoad, expected_wait

WARM_UP = 2_000


@dataclass
class Run:
    waits: list[float]
    # (callers waiting ahead, all operators busy) at each arrival, and the wait that followed
    seen: list[tuple[int, bool, float]]


def simulate(*, calls_per_hour: float, aht: float, agents: int, calls: int, seed: int) -> Run:
    rng = random.Random(seed)
    rate = calls_per_hour / 3600.0
    free_at = [0.0] * agents  # when each operator is next free
    heapq.heapify(free_at)
    starts: list[float] = []  # service start times of earlier callers (for "waiting ahead")
    now = 0.0
    waits: list[float] = []
    seen: list[tuple[int, bool, float]] = []
    for _ in range(calls):
        now += rng.expovariate(rate)
        start = max(now, free_at[0])
        busy = free_at[0] > now
        # callers who arrived before and have not started yet are ahead in the queue
        while starts and starts[0] <= now:
            heapq.heappop(starts)
        ahead = len(starts)
        heapq.heapreplace(free_at, start + rng.expovariate(1.0 / aht))
        heapq.heappush(starts, start)
        waits.append(start - now)
        seen.append((ahead, busy, start - now))
    return Run(waits[WARM_UP:], seen[WARM_UP:])


@pytest.mark.parametrize(
    ("calls_per_hour", "aht", "agents", "target"),
    [
        (100, 180, 7, 20),  # the hand-computed example of test_erlang.py: 5 erlangs
        (400, 180, 23, 40),  # 20 erlangs, the standard's 40 s
        (928 / 8, 300, 12, 40),  # the region's 928 operator calls a day, busiest hour
    ],
)
def test_measured_service_level_and_wait_agree_with_erlang_c(
    calls_per_hour: float, aht: float, agents: int, target: float
) -> None:
    run = simulate(calls_per_hour=calls_per_hour, aht=aht, agents=agents, calls=200_000, seed=7)
    traffic = erlang.traffic_erlangs(calls_per_hour, aht)
    predicted_sl = erlang.service_level(agents, traffic, aht, target)
    predicted_asa = erlang.average_speed_of_answer(agents, traffic, aht)
    measured_sl = sum(1 for w in run.waits if w <= target) / len(run.waits)
    measured_asa = sum(run.waits) / len(run.waits)
    measured_p_wait = sum(1 for w in run.waits if w > 0) / len(run.waits)
    assert measured_sl == pytest.approx(predicted_sl, abs=0.02)
    assert measured_asa == pytest.approx(predicted_asa, rel=0.12)
    assert measured_p_wait == pytest.approx(erlang.erlang_c(agents, traffic), abs=0.02)


def test_position_based_estimate_matches_the_waits_callers_had() -> None:
    """A caller arriving when every operator is busy with `ahead` callers before them waits
    (ahead + 1) x AHT / N on average: what `expected_wait` announces."""
    aht, agents = 180.0, 7
    run = simulate(calls_per_hour=130, aht=aht, agents=agents, calls=80_000, seed=11)
    load = QueueLoad(serving=agents, free=0, aht_seconds=aht)
    for ahead in (0, 1, 3):
        waits = [w for a, busy, w in run.seen if busy and a == ahead]
        assert len(waits) > 1_000
        measured = sum(waits) / len(waits)
        assert measured == pytest.approx(expected_wait(load, ahead), rel=0.08)


def test_the_simulation_can_tell_a_wrong_formula() -> None:
    """The tolerance is tight enough to catch a formula off by one operator."""
    run = simulate(calls_per_hour=100, aht=180, agents=7, calls=60_000, seed=7)
    measured_sl = sum(1 for w in run.waits if w <= 20) / len(run.waits)
    off_by_one = erlang.service_level(8, 5.0, 180, 20)
    assert abs(measured_sl - off_by_one) > 0.05
