"""Erlang C: the M/M/N queue behind staffing and waiting-time estimates.

Calls arrive at random (Poisson) at rate λ, each takes an exponentially distributed handling
time with mean AHT, N operators answer them first come first served and nobody gives up.
The offered traffic is A = λ·AHT erlangs. With N > A:

    P(wait)  = C(N, A) = N·B / (N − A·(1 − B)),   B = Erlang B(N, A)
    SL(t)    = 1 − C(N, A)·exp(−(N − A)·t / AHT)   share answered within t seconds
    ASA      = C(N, A)·AHT / (N − A)                average speed of answer
    occupancy = A / N

Erlang B comes from the recursion B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)). Every step stays
within [0, 1], so it is exact to rounding for any traffic (A = 10 000 erlangs is fine), unlike
the textbook formula with A^N / N! that overflows beyond a few hundred erlangs.
With N ≤ A the queue grows without bound: P(wait) = 1, SL = 0, ASA = ∞.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# staffing never searches beyond A + this many operators (plus a margin growing with √A)
_SEARCH_MARGIN = 50


def traffic_erlangs(calls_per_hour: float, aht_seconds: float) -> float:
    """Offered traffic A = λ·AHT, with λ in calls per hour and AHT in seconds."""
    if calls_per_hour < 0 or aht_seconds < 0:
        raise ValueError("calls per hour and handling time cannot be negative")
    return calls_per_hour * aht_seconds / 3600.0


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of N servers with no queue (Erlang B), by the stable recursion."""
    if agents < 0 or traffic < 0:
        raise ValueError("agents and traffic cannot be negative")
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def _erlang_c_from_b(agents: int, traffic: float, b: float) -> float:
    if agents <= traffic:
        return 1.0
    return agents * b / (agents - traffic * (1.0 - b))


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call has to wait (Erlang C)."""
    if traffic == 0:
        return 0.0
    return _erlang_c_from_b(agents, traffic, erlang_b(agents, traffic))


def service_level(agents: int, traffic: float, aht_seconds: float, target_seconds: float) -> float:
    """Share of calls answered within `target_seconds`."""
    if traffic == 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    p_wait = erlang_c(agents, traffic)
    return _sl(p_wait, agents, traffic, aht_seconds, target_seconds)


def _sl(p_wait: float, agents: int, traffic: float, aht: float, target: float) -> float:
    if aht <= 0:
        return 1.0
    return max(0.0, min(1.0, 1.0 - p_wait * math.exp(-(agents - traffic) * target / aht)))


def average_speed_of_answer(agents: int, traffic: float, aht_seconds: float) -> float:
    """Mean wait over all calls (those answered at once count as 0); inf when N ≤ A."""
    if traffic == 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


def occupancy(agents: int, traffic: float) -> float:
    """Share of the operators' time spent handling calls (capped at 1)."""
    if agents <= 0:
        return 1.0 if traffic > 0 else 0.0
    return min(1.0, traffic / agents)


@dataclass(frozen=True, slots=True)
class ErlangResult:
    agents: int
    traffic: float  # erlangs
    probability_of_wait: float
    service_level: float
    asa_seconds: float
    occupancy: float


def evaluate(
    agents: int, calls_per_hour: float, aht_seconds: float, target_seconds: float
) -> ErlangResult:
    """Everything Erlang C predicts for `agents` operators."""
    traffic = traffic_erlangs(calls_per_hour, aht_seconds)
    p_wait = erlang_c(agents, traffic)
    return ErlangResult(
        agents=agents,
        traffic=traffic,
        probability_of_wait=p_wait,
        service_level=service_level(agents, traffic, aht_seconds, target_seconds),
        asa_seconds=average_speed_of_answer(agents, traffic, aht_seconds),
        occupancy=occupancy(agents, traffic),
    )


def staffing(
    calls_per_hour: float,
    aht_seconds: float,
    *,
    target_service_level: float,
    target_seconds: float,
    max_occupancy: float = 1.0,
) -> ErlangResult:
    """The fewest operators meeting the service-level target (and occupancy cap).

    Walks N upwards once, carrying the Erlang B recursion along, so the whole search is
    O(N) however large the traffic.
    """
    if not 0.0 < target_service_level < 1.0:
        raise ValueError("target service level must be between 0 and 1 (exclusive)")
    if target_seconds < 0:
        raise ValueError("target seconds cannot be negative")
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError("max occupancy must be in (0, 1]")
    traffic = traffic_erlangs(calls_per_hour, aht_seconds)
    if traffic == 0:
        return evaluate(0, calls_per_hour, aht_seconds, target_seconds)
    limit = int(traffic) + _SEARCH_MARGIN + int(10 * math.sqrt(traffic))
    b = 1.0
    for n in range(1, limit + 1):
        b = traffic * b / (n + traffic * b)
        if n <= traffic or traffic / n > max_occupancy:
            continue
        p_wait = _erlang_c_from_b(n, traffic, b)
        if _sl(p_wait, n, traffic, aht_seconds, target_seconds) >= target_service_level:
            return evaluate(n, calls_per_hour, aht_seconds, target_seconds)
    raise ValueError("no staffing within the search limit meets the target")  # pragma: no cover
