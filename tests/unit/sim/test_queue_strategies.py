"""Ring strategies: which members a waiting caller rings, in app_queue's order."""

from __future__ import annotations

import random

import pytest

from callcenter.sim.queues import (
    CallQueue,
    DeviceStatus,
    Member,
    QueueCaller,
    QueueConfig,
    Strategy,
    choose_members,
)

NOW = 1_000.0
EPOCH = 1_795_432_000


def make_queue(strategy: Strategy, *names: str, wrapuptime: float = 0.0) -> CallQueue:
    queue = CallQueue(QueueConfig("line1", strategy, wrapuptime=wrapuptime))
    for name in names:
        queue.add_member(Member(f"Local/{name}@agents/n", name, f"Local/{name}@agents", 0))
    return queue


def caller() -> QueueCaller:
    return QueueCaller("1795432000.1", joined=NOW, joined_epoch=EPOCH)


def rung(queue: CallQueue, who: QueueCaller | None = None, seed: int = 1) -> list[str]:
    chosen = choose_members(queue, who or caller(), NOW, EPOCH, random.Random(seed))
    return [m.membername for m in chosen]


def test_ringall_rings_every_free_member_with_the_best_penalty() -> None:
    queue = make_queue(Strategy.RINGALL, "101", "102", "103")
    queue.members["Local/103@agents/n"].penalty = 1
    assert rung(queue) == ["101", "102"]


def test_leastrecent_prefers_who_never_took_a_call_then_the_longest_idle() -> None:
    queue = make_queue(Strategy.LEASTRECENT, "101", "102", "103")
    queue.members["Local/101@agents/n"].lastcall = EPOCH - 10
    queue.members["Local/102@agents/n"].lastcall = EPOCH - 300
    queue.members["Local/103@agents/n"].lastcall = EPOCH - 60
    assert rung(queue) == ["102"]
    queue.members["Local/103@agents/n"].lastcall = 0
    assert rung(queue) == ["103"]


def test_fewestcalls_rings_the_member_with_fewest_calls_taken() -> None:
    queue = make_queue(Strategy.FEWESTCALLS, "101", "102")
    queue.members["Local/101@agents/n"].calls = 5
    queue.members["Local/102@agents/n"].calls = 2
    assert rung(queue) == ["102"]


def test_rrmemory_goes_round_the_members_remembering_where_it_stopped() -> None:
    queue = make_queue(Strategy.RRMEMORY, "101", "102", "103")
    order = [rung(queue, caller())[0] for _ in range(4)]
    assert order == ["101", "102", "103", "101"]


def test_linear_always_starts_from_the_first_member_for_each_new_caller() -> None:
    queue = make_queue(Strategy.LINEAR, "101", "102", "103")
    first = caller()
    assert rung(queue, first) == ["101"]
    assert rung(queue, first) == ["102"]  # the same caller's next attempt moves on
    assert rung(queue, caller()) == ["101"]  # a new caller starts again at the top


def test_random_spreads_calls_but_is_reproducible_with_a_seed() -> None:
    queue = make_queue(Strategy.RANDOM, "101", "102", "103")
    picks = {rung(queue, seed=seed)[0] for seed in range(30)}
    assert picks == {"101", "102", "103"}
    assert rung(queue, seed=5) == rung(queue, seed=5)


def test_wrandom_favours_low_penalty_members() -> None:
    queue = make_queue(Strategy.WRANDOM, "101", "102")
    queue.members["Local/102@agents/n"].penalty = 9
    picks = [rung(queue, seed=seed)[0] for seed in range(200)]
    assert picks.count("101") > picks.count("102") * 3


@pytest.mark.parametrize("strategy", list(Strategy))
def test_paused_busy_and_wrapping_up_members_are_not_rung(strategy: Strategy) -> None:
    queue = make_queue(strategy, "101", "102", "103", "104", wrapuptime=10)
    queue.members["Local/101@agents/n"].paused = True
    queue.members["Local/102@agents/n"].status = DeviceStatus.INUSE
    queue.members["Local/103@agents/n"].lastcall_end = NOW - 3  # in its 10 s wrap-up
    assert rung(queue) == ["104"]
    queue.members["Local/104@agents/n"].ringing_for = "someone else"
    assert rung(queue) == []


def test_higher_priority_callers_go_ahead_and_autofill_lets_several_ring() -> None:
    queue = make_queue(Strategy.RINGALL, "101", "102")
    first, second = QueueCaller("a", NOW, EPOCH), QueueCaller("b", NOW, EPOCH)
    vip = QueueCaller("vip", NOW, EPOCH, prio=5)
    assert queue.join(first) == 1
    assert queue.join(second) == 2
    assert queue.join(vip) == 1
    assert [c.uniqueid for c in queue.callers] == ["vip", "a", "b"]
    assert queue.is_our_turn("vip", NOW)
    assert queue.is_our_turn("a", NOW)
    assert not queue.is_our_turn("b", NOW)  # two free members, third in line waits


def test_statistics_use_asterisks_exponential_averages() -> None:
    queue = make_queue(Strategy.RINGALL, "101")
    queue.record_holdtime(8)
    queue.record_completed(40, in_sl=True)
    queue.record_holdtime(0)
    queue.record_completed(0, in_sl=False)
    queue.record_abandoned(in_sl=False)
    assert queue.holdtime == (8 * 3 + 0) >> 2
    assert queue.talktime == (40 * 3 + 0) >> 2
    perf, perf2 = queue.service_levels()
    assert perf == 50.0
    assert perf2 == pytest.approx(100 / 3)
