"""The dialer's operator pool tells wrap-up apart from talk, so the pacer can count an
operator finishing their notes as about to be free."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter.domain.agents import OperatorState
from callcenter.outbound.operator_pool import InMemoryOperatorPool

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_an_operator_in_wrap_up_is_counted_by_time_in_wrap_up_not_in_the_call() -> None:
    pool = InMemoryOperatorPool(clock=lambda: at(0))
    pool.set_state("line1", "101", OperatorState.READY, at(0))
    pool.set_state("line1", "102", OperatorState.READY, at(0))
    pool.set_state("line1", "101", OperatorState.RINGING, at(10))
    pool.set_state("line1", "101", OperatorState.ON_CALL, at(12))
    pool.set_state("line1", "101", OperatorState.WRAP_UP, at(190))
    pool.set_state("line1", "102", OperatorState.ON_CALL, at(150))

    load = pool.load("line1", at(200))

    assert load.ready == 0
    assert load.busy_elapsed == (50.0,)  # 102: on the phone since 150
    assert load.wrapping_elapsed == (10.0,)  # 101: notes since 190, not 190 s "busy"


def test_a_finished_call_records_its_wrap_up_apart_from_its_talk() -> None:
    pool = InMemoryOperatorPool(clock=lambda: at(0))
    pool.set_state("line1", "101", OperatorState.READY, at(0))
    for start in range(0, 20 * 300, 300):
        pool.set_state("line1", "101", OperatorState.ON_CALL, at(start + 1))
        pool.set_state("line1", "101", OperatorState.WRAP_UP, at(start + 181))
        pool.set_state("line1", "101", OperatorState.READY, at(start + 196))

    times = pool.handle_times("line1")
    assert len(times) == 20
    assert times.mean == 195.0
    # 10 s into wrap-up (of 15 s each time) the operator is sure to be free within 10 s;
    # judged on the whole handle time, 10 s into a 195 s call they would not be
    assert times.free_within_wrap(10.0, 10.0) == 1.0
    assert times.free_within(10.0, 10.0) == 0.0
