"""The stepper on menus: every key on every menu of the shipped flow, timeouts, back / root /
operator keys, limits, hang-ups, and invariants over random callers."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from callcenter.domain.ivr import (
    AskDigits,
    AskKey,
    CallerHungUp,
    CallerInfo,
    Entry,
    Handoff,
    Hangup,
    IvrError,
    IvrMachine,
    Key,
    NoInput,
    Outcome,
    Play,
    Result,
    Run,
    Step,
)
from callcenter.domain.ivr_schema import ALL_KEYS, MenuNode, OperatorNode, parse_flow
from tests.unit.ivr.support import (
    QUEUES,
    T0,
    Walk,
    chain_of_menus,
    key_paths,
    main_flow,
    said,
    small_document,
    waiting,
)

FLOW = main_flow()
MACHINE = IvrMachine(FLOW)
PATHS = key_paths(FLOW)
MENUS = sorted(n for n, node in FLOW.nodes.items() if isinstance(node, MenuNode))
# the operators of each branch: the queue of the nearest menu that names one
BRANCH_QUEUE = {
    "main": "line1",
    "outages": "line1",
    "outages_info": "line1",
    "metering": "line2",
    "readings": "line2",
    "grid": "line2",
    "other": "line1",
}
UNKNOWN = CallerInfo(phone="+79160000000")


def walk_to(node_id: str, caller: CallerInfo = UNKNOWN) -> Walk:
    """A call that pressed the keys leading from the root menu to `node_id`."""
    state, commands = MACHINE.start(caller, T0)
    walk = Walk(MACHINE, state, commands)
    for key in PATHS[node_id]:
        walk(Key(key))
    return walk


def test_the_call_starts_with_greeting_and_notice_then_the_root_menu() -> None:
    state, commands = MACHINE.start(UNKNOWN, T0)
    assert isinstance(commands[0], Play)  # said in full, no keys taken
    assert said(commands) == ["greeting_prompt", "notice_prompt", "nodes.main.prompt"]
    question = waiting(commands)
    assert isinstance(question, AskKey)
    assert question.timeout_ms == FLOW.timing.key_timeout_s * 1000  # the flow's key timeout
    assert (state.node, state.step, state.menus) == ("main", Step.MENU, ("main",))
    assert state.notice_version == "2025-01"


def test_every_menu_is_reachable_by_its_keys() -> None:
    for menu_id in MENUS:
        walk = walk_to(menu_id)
        assert (walk.state.node, walk.state.step) == (menu_id, Step.MENU)
        assert said(walk.commands)[-1] == f"nodes.{menu_id}.prompt"
        assert walk.state.path == tuple(PATHS[menu_id])


@pytest.mark.parametrize("menu_id", MENUS)
@pytest.mark.parametrize("key", list(ALL_KEYS))
def test_every_key_on_every_menu(menu_id: str, key: str) -> None:
    walk = walk_to(menu_id)
    before = walk.state
    node = FLOW.nodes[menu_id]
    assert isinstance(node, MenuNode)
    commands = walk(Key(key))
    state = walk.state
    if key in node.options:
        target = node.options[key]
        assert state.node == target
        assert state.visited[-1] == target
        assert state.path == (*before.path, key)
        if isinstance(FLOW.nodes[target], OperatorNode):
            assert isinstance(waiting(commands), Handoff)
    elif key == "*":
        parent = before.menus[-2] if len(before.menus) > 1 else "main"
        assert (state.node, state.step) == (parent, Step.MENU)
        assert said(commands) == [f"nodes.{parent}.prompt"]
        assert state.path == (*before.path, "*")
    elif key == "#":
        assert (state.node, state.menus) == ("main", ("main",))
        assert said(commands) == ["nodes.main.prompt"]
    elif key == "0":
        handoff = waiting(commands)
        assert handoff == Handoff(BRANCH_QUEUE[menu_id], 0, None)
        assert said(commands) == ["prompts.transfer_prompt"]
        assert (state.outcome, state.target) == (Outcome.HANDED_OFF, BRANCH_QUEUE[menu_id])
        assert state.path == (*before.path, "0")
    else:
        # a key that does nothing here: a short hint, then the same level again
        assert isinstance(waiting(commands), AskKey)
        assert said(commands) == ["prompts.invalid_prompt", f"nodes.{menu_id}.prompt"]
        assert (state.node, state.invalid, state.path) == (menu_id, 1, before.path)


@pytest.mark.parametrize("menu_id", MENUS)
def test_no_key_at_all_reaches_the_operators_of_the_branch(menu_id: str) -> None:
    walk = walk_to(menu_id)
    commands = walk(NoInput())
    assert waiting(commands) == Handoff(BRANCH_QUEUE[menu_id], 0, None)
    assert said(commands) == ["prompts.transfer_prompt"]


def test_a_pulse_phone_caller_reaches_line1_right_after_the_first_prompt() -> None:
    walk = walk_to("main")
    walk(NoInput())
    assert walk.state.outcome is Outcome.HANDED_OFF
    assert walk.state.path == ()  # nothing was pressed
    assert not walk.state.closed


def test_silent_prompts_may_be_repeated_when_the_flow_says_so() -> None:
    document = small_document(chain_of_menus(2), timing={"no_input_attempts": 2})
    machine = IvrMachine(parse_flow(document, known_queues=QUEUES))
    walk = Walk(machine, *machine.start(UNKNOWN, T0))
    commands = walk(NoInput())
    assert said(commands) == ["nodes.main.prompt"]
    assert isinstance(waiting(walk(NoInput())), Handoff)


def test_invalid_keys_are_hinted_then_the_operator_after_the_limit() -> None:
    walk = walk_to("metering")
    walk(Key("7"))
    walk(Key("8"))
    assert walk.state.invalid == 2
    commands = walk(Key("9"))
    assert waiting(commands) == Handoff("line2", 0, None)


def test_back_and_root_walk_the_menu_stack() -> None:
    walk = walk_to("outages_info")  # main > outages > outages_info
    assert walk.state.menus == ("main", "outages", "outages_info")
    walk(Key("*"))
    assert walk.state.node == "outages"
    walk(Key("*"))
    assert walk.state.node == "main"
    walk(Key("*"))  # no level above the root: the root again
    assert walk.state.node == "main"
    walk(Key("1"), Key("1"), Key("#"))
    assert walk.state.menus == ("main",)
    assert walk.state.path_text == "1>1>*>*>*>1>1>#"


def test_priorities_come_from_the_node_and_the_customer() -> None:
    walk = walk_to("report_outage")
    assert waiting(walk.commands) == Handoff("line1", 5, None)
    assert said(walk.commands) == ["nodes.report_outage.transfer_prompt"]
    hospital = CallerInfo(phone="+74822000000", customer_id=7, social_facility=True)
    walk = walk_to("metering", hospital)
    assert waiting(walk(Key("0"))) == Handoff("line2", 10, 7)


def test_a_flow_without_an_operator_key_treats_it_as_any_other_key() -> None:
    document = small_document(chain_of_menus(2), keys={"operator": None})
    machine = IvrMachine(parse_flow(document, known_queues=QUEUES))
    walk = Walk(machine, *machine.start(UNKNOWN, T0))
    commands = walk(Key("0"))
    assert said(commands) == ["prompts.invalid_prompt", "nodes.main.prompt"]


def test_hanging_up_mid_menu_is_not_closed_by_the_ivr() -> None:
    walk = walk_to("readings")
    assert walk(CallerHungUp()) == ()
    state = walk.state
    assert (state.step, state.outcome, state.closed) == (Step.DONE, Outcome.HUNG_UP, False)
    assert state.ivr_seconds == pytest.approx(9.0)  # two keys and the hang-up, 3 s apart
    assert state.path == ("2", "1")
    assert walk(CallerHungUp()) == ()  # a late hang-up changes nothing


def test_a_finished_call_takes_no_more_input_and_wrong_inputs_are_refused() -> None:
    walk = walk_to("main")
    walk(Key("0"))
    with pytest.raises(IvrError, match="left the IVR"):
        walk(Key("1"))
    fresh = walk_to("main")
    with pytest.raises(IvrError, match="does not answer"):
        fresh(Entry("123"))
    with pytest.raises(IvrError, match="does not answer"):
        fresh(Result(ok=True))
    with pytest.raises(IvrError, match="one key"):
        fresh(Key("12"))
    other = IvrMachine(parse_flow(small_document(chain_of_menus(1)), known_queues=QUEUES))
    with pytest.raises(IvrError, match="stepped by flow"):
        other.step(fresh.state, Key("1"), T0)


def test_random_callers_always_get_one_thing_to_wait_on() -> None:
    """Whatever a caller does, each step ends with exactly one command to wait on, the call
    ends handed off or hung up, and the path stays bounded."""
    rng = random.Random(7)
    for _ in range(300):
        walk = walk_to("main", rng.choice([UNKNOWN, _known()]))
        for _step in range(40):
            if walk.state.done:
                assert walk.state.outcome in (Outcome.HANDED_OFF, Outcome.CLOSED)
                break
            last = walk.last
            if isinstance(last, AskKey):
                event = Key(rng.choice(ALL_KEYS)) if rng.random() < 0.9 else NoInput()
            elif isinstance(last, AskDigits):
                event = rng.choice([Entry("12345"), Entry("*"), Entry(""), Entry("9" * 30)])
            elif isinstance(last, Run):
                event = rng.choice([Result(ok=True, value="42"), Result(ok=False)])
            else:
                pytest.fail(f"waits on {last} but the call is not done")
            walk(event)
            assert len(walk.state.path) <= 64


def _known() -> CallerInfo:
    return CallerInfo(
        phone="+74822123456",
        customer_id=1,
        account="6901000001",
        locality_id=1,
        locality_name="Тверь",
    )


def test_keys_pressed_are_not_personal_data_in_the_path() -> None:
    walk = walk_to("reading_keypad", replace(_known()))
    walk(Entry("012345"), Key("1"))
    assert "012345" not in walk.state.path_text
    assert isinstance(walk.last, Run)
    walk(Result(ok=True))
    walk(NoInput())
    assert isinstance(walk.last, Hangup)
