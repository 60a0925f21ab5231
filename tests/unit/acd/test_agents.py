"""The operator state machine: guarded workstation commands, Asterisk facts, drift correction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.domain import agents
from callcenter.domain.agents import (
    NO_ANSWER_REASON,
    WRAP_UP_REASON,
    AgentRules,
    AgentStatus,
    CallRef,
    JoinQueues,
    LeaveQueues,
    MemberFacts,
    OperatorState,
    PauseMember,
    TransitionRefused,
    UnpauseMember,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = AgentRules(wrap_up_seconds=60, max_missed_rings=2)
CALL = CallRef("1795433773.54", "line1", "1795433773.54")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ready_operator() -> AgentStatus:
    return agents.login(AgentStatus.logged_out(), at(0)).after


def on_call() -> AgentStatus:
    ringing = agents.offered(ready_operator(), CALL, at(10)).after
    return agents.connected(ringing, CALL, at(12)).after


def facts(
    *,
    paused: bool = False,
    reason: str = "",
    in_call: bool = False,
    busy: bool = False,
    queues: frozenset[str] = frozenset({"line1"}),
) -> MemberFacts:
    return MemberFacts(queues, paused, reason, in_call, busy)


# --- workstation commands -------------------------------------------------------------------


def test_login_joins_the_queues_ready() -> None:
    transition = agents.login(AgentStatus.logged_out(), at(0))
    assert transition.after.state is OperatorState.READY
    assert transition.after.since == at(0)
    assert transition.effects == (JoinQueues(paused=False),)
    assert transition.state_changed


def test_logging_in_again_repairs_the_membership_keeping_the_pause() -> None:
    paused = agents.pause(ready_operator(), "lunch", at(5)).after
    again = agents.login(paused, at(6))
    assert again.after == paused
    assert again.effects == (JoinQueues(paused=True, reason="lunch"),)
    assert not again.state_changed


def test_logout_is_refused_during_a_call() -> None:
    with pytest.raises(TransitionRefused, match="во время вызова") as refused:
        agents.logout(on_call(), at(20))
    assert refused.value.state is OperatorState.ON_CALL


def test_logout_from_a_pause_leaves_the_queues() -> None:
    paused = agents.pause(ready_operator(), "break", at(5)).after
    transition = agents.logout(paused, at(9))
    assert transition.after.state is OperatorState.LOGGED_OUT
    assert transition.after.pause_reason is None
    assert transition.effects == (LeaveQueues(),)


def test_commands_need_a_login() -> None:
    for command in (
        lambda s: agents.pause(s, "lunch", at(1)),
        lambda s: agents.ready(s, at(1)),
    ):
        with pytest.raises(TransitionRefused, match="войдите"):
            command(AgentStatus.logged_out())


def test_pause_reason_codes_are_checked() -> None:
    with pytest.raises(TransitionRefused, match="причина"):
        agents.pause(ready_operator(), "wrap_up", at(1))  # the platform's own code


def test_pause_and_unpause_go_to_asterisk_with_the_reason() -> None:
    paused = agents.pause(ready_operator(), "lunch", at(5))
    assert paused.after.state is OperatorState.PAUSED
    assert paused.after.pause_reason == "lunch"
    assert paused.effects == (PauseMember("lunch"),)
    # pausing again for the same reason does nothing; another reason is a new history row
    assert agents.pause(paused.after, "lunch", at(6)).effects == ()
    other = agents.pause(paused.after, "training", at(7))
    assert other.state_changed
    assert other.effects == (PauseMember("training"),)
    back = agents.ready(other.after, at(8))
    assert back.after.state is OperatorState.READY
    assert back.effects == (UnpauseMember(),)


# --- a queue call ---------------------------------------------------------------------------


def test_a_call_rings_connects_and_ends_in_after_call_work() -> None:
    ringing = agents.offered(ready_operator(), CALL, at(10))
    assert ringing.after.state is OperatorState.RINGING
    assert not ringing.corrected
    talking = agents.connected(ringing.after, CALL, at(12))
    assert talking.after.state is OperatorState.ON_CALL
    assert talking.after.call == CALL
    done = agents.completed(talking.after, CALL.caller_uniqueid, at(100), RULES)
    assert done.after.state is OperatorState.WRAP_UP
    assert done.after.wrap_up_until == at(160)
    # Asterisk must not offer a call during the after-call work
    assert done.effects == (PauseMember(WRAP_UP_REASON),)
    assert agents.tick(done.after, at(159)).effects == ()
    over = agents.tick(done.after, at(160))
    assert over.after.state is OperatorState.READY
    assert over.effects == (UnpauseMember(),)


def test_ready_ends_the_after_call_work_early() -> None:
    wrap = agents.completed(on_call(), None, at(100), RULES).after
    transition = agents.ready(wrap, at(110))
    assert transition.after.state is OperatorState.READY
    assert transition.effects == (UnpauseMember(),)


def test_without_after_call_work_the_operator_is_ready_at_once() -> None:
    done = agents.completed(on_call(), None, at(100), AgentRules(wrap_up_seconds=0))
    assert done.after.state is OperatorState.READY
    assert done.effects == ()


def test_a_pause_asked_for_during_a_call_waits_for_its_end() -> None:
    asked = agents.pause(on_call(), "lunch", at(50))
    assert asked.after.state is OperatorState.ON_CALL
    assert asked.after.pending_pause == "lunch"
    assert asked.effects == (PauseMember("lunch"),)  # no new call once this one ends
    wrap = agents.completed(asked.after, None, at(100), RULES).after
    assert wrap.state is OperatorState.WRAP_UP
    lunch = agents.tick(wrap, at(200))
    assert lunch.after.state is OperatorState.PAUSED
    assert lunch.after.pause_reason == "lunch"
    assert lunch.effects == (PauseMember("lunch"),)


def test_ready_during_a_call_cancels_the_pending_pause() -> None:
    asked = agents.pause(on_call(), "lunch", at(50)).after
    cancelled = agents.ready(asked, at(60))
    assert cancelled.after.pending_pause is None
    assert cancelled.effects == (UnpauseMember(),)


def test_rings_left_unanswered_twice_pause_the_operator() -> None:
    first = agents.offered(ready_operator(), CALL, at(10)).after
    missed = agents.ring_ended(first, CALL.caller_uniqueid, at(25), RULES, missed=True)
    assert missed.after.state is OperatorState.READY
    assert missed.after.missed_rings == 1
    second = agents.offered(missed.after, CALL, at(27)).after
    paused = agents.ring_ended(second, CALL.caller_uniqueid, at(42), RULES, missed=True)
    assert paused.after.state is OperatorState.PAUSED
    assert paused.after.pause_reason == NO_ANSWER_REASON
    assert paused.effects == (PauseMember(NO_ANSWER_REASON),)


def test_an_answered_call_resets_the_missed_rings() -> None:
    first = agents.offered(ready_operator(), CALL, at(10)).after
    missed = agents.ring_ended(first, CALL.caller_uniqueid, at(25), RULES, missed=True).after
    talking = agents.connected(agents.offered(missed, CALL, at(27)).after, CALL, at(29)).after
    assert talking.missed_rings == 0


def test_ringing_for_another_caller_is_not_ended_by_this_one() -> None:
    ringing = agents.offered(ready_operator(), CALL, at(10)).after
    assert agents.ring_ended(ringing, "other.1", at(11), RULES, missed=False).effects == ()
    assert agents.ring_ended(ringing, "other.1", at(11), RULES, missed=False).after == ringing
    withdrawn = agents.ring_ended(ringing, CALL.caller_uniqueid, at(11), RULES, missed=False)
    assert withdrawn.after.state is OperatorState.READY
    assert withdrawn.after.missed_rings == 0


# --- facts that contradict the state --------------------------------------------------------


def test_a_call_offered_to_a_paused_operator_corrects_the_pause() -> None:
    paused = agents.pause(ready_operator(), "lunch", at(5)).after
    transition = agents.offered(paused, CALL, at(10))
    assert transition.after.state is OperatorState.RINGING
    assert transition.corrected


def test_stale_facts_are_ignored() -> None:
    status = agents.connected(ready_operator(), CALL, at(12)).after
    assert status.fact_at == at(12)
    # a member-status event received before the connect, processed after it
    stale = agents.reconcile(status, facts(), at(11), RULES, resync=False)
    assert stale.after == status
    assert agents.offered(status, CALL, at(11)).after == status


def test_stuck_paused_is_corrected_from_asterisk() -> None:
    paused = agents.pause(ready_operator(), "lunch", at(5)).after
    transition = agents.reconcile(paused, facts(paused=False), at(30), RULES, resync=True)
    assert transition.after.state is OperatorState.READY
    assert transition.corrected
    assert transition.effects == ()  # Asterisk is right: nothing to send


def test_stuck_on_call_is_corrected_into_after_call_work() -> None:
    transition = agents.reconcile(on_call(), facts(), at(300), RULES, resync=True)
    assert transition.after.state is OperatorState.WRAP_UP
    assert transition.corrected
    assert transition.effects == (PauseMember(WRAP_UP_REASON),)


def test_asterisk_pause_with_a_reason_is_adopted() -> None:
    transition = agents.reconcile(
        ready_operator(), facts(paused=True, reason="supervisor"), at(30), RULES, resync=False
    )
    assert transition.after.state is OperatorState.PAUSED
    assert transition.after.pause_reason == "supervisor"
    assert transition.corrected


def test_a_busy_phone_means_on_a_call() -> None:
    transition = agents.reconcile(ready_operator(), facts(busy=True), at(30), RULES, resync=False)
    assert transition.after.state is OperatorState.ON_CALL
    assert transition.after.call is None


def test_a_member_in_several_queues_is_paused_only_when_paused_in_all() -> None:
    partly = MemberFacts(frozenset({"line1", "line2"}), False, "lunch", False, False)
    assert agents.reconcile(ready_operator(), partly, at(30), RULES, resync=False).after.state is (
        OperatorState.READY
    )


def test_on_a_resync_a_forgotten_member_is_put_back_keeping_the_pause() -> None:
    paused = agents.pause(ready_operator(), "lunch", at(5)).after
    transition = agents.reconcile(paused, None, at(30), RULES, resync=True)
    assert transition.after.state is OperatorState.PAUSED
    assert transition.effects == (JoinQueues(paused=True, reason="lunch"),)


def test_a_call_lost_with_the_membership_leaves_the_operator_ready() -> None:
    transition = agents.reconcile(on_call(), None, at(30), RULES, resync=True)
    assert transition.after.state is OperatorState.READY
    assert transition.effects == (JoinQueues(paused=False),)
    assert transition.corrected


def test_a_member_removed_in_asterisk_is_logged_out() -> None:
    transition = agents.reconcile(ready_operator(), None, at(30), RULES, resync=False)
    assert transition.after.state is OperatorState.LOGGED_OUT
    assert transition.corrected


def test_a_member_we_did_not_know_of_is_adopted() -> None:
    transition = agents.reconcile(
        AgentStatus.logged_out(), facts(paused=True, reason="lunch"), at(30), RULES, resync=True
    )
    assert transition.after.state is OperatorState.PAUSED
    assert transition.after.pause_reason == "lunch"


def test_ringing_survives_member_events_but_not_a_resync() -> None:
    ringing = agents.offered(ready_operator(), CALL, at(10)).after
    assert agents.reconcile(ringing, facts(), at(11), RULES, resync=False).after.state is (
        OperatorState.RINGING
    )
    assert agents.reconcile(ringing, facts(), at(11), RULES, resync=True).after.state is (
        OperatorState.READY
    )


def test_wrap_up_pause_in_asterisk_is_adopted_as_after_call_work() -> None:
    transition = agents.reconcile(
        ready_operator(), facts(paused=True, reason=WRAP_UP_REASON), at(30), RULES, resync=True
    )
    assert transition.after.state is OperatorState.WRAP_UP
    assert transition.after.wrap_up_until == at(90)
