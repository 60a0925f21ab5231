"""The stepper on self-service nodes of the shipped flow: entries, confirmations, results,
limits, what comes after, and what closes a call."""

from __future__ import annotations

import pytest

from callcenter.domain.ivr import (
    ApplicationStatus,
    AskDigits,
    AskKey,
    Balance,
    CallerHungUp,
    CallerInfo,
    CreateCallback,
    Digits,
    Entry,
    FindAccount,
    Handoff,
    Hangup,
    HearReading,
    IvrMachine,
    Key,
    NoInput,
    Number,
    Outages,
    Outcome,
    Phone,
    RecordVoicemail,
    Result,
    Run,
    Said,
    SaveReading,
    Step,
)
from callcenter.domain.meter_readings import ReadingSource
from tests.unit.ivr.support import T0, Walk, fields_of, key_paths, main_flow, said, waiting

FLOW = main_flow()
MACHINE = IvrMachine(FLOW)
PATHS = key_paths(FLOW)
KNOWN = CallerInfo(
    phone="+74822123456",
    customer_id=11,
    account="6901000001",
    locality_id=3,
    locality_name="Тверь",
)
UNKNOWN = CallerInfo(phone="+79160000000")
ANONYMOUS = CallerInfo()


def walk_to(node_id: str, caller: CallerInfo = KNOWN) -> Walk:
    walk = Walk(MACHINE, *MACHINE.start(caller, T0))
    for key in PATHS[node_id]:
        walk(Key(key))
    return walk


def run_of(walk: Walk) -> object:
    last = walk.last
    assert isinstance(last, Run), walk.commands
    return last.request


# --- meter readings ----------------------------------------------------------------------


def test_known_caller_keys_a_reading_confirms_and_hangs_up_closed() -> None:
    walk = walk_to("reading_keypad")
    ask = walk.last
    assert isinstance(ask, AskDigits)
    assert said(walk.commands) == ["nodes.reading_keypad.reading_prompt"]
    assert (ask.max_digits, ask.timeout_ms) == (8, 7000)

    walk(Entry("012345"))
    assert walk.state.step is Step.CONFIRM_READING
    assert said(walk.commands) == ["nodes.reading_keypad.confirm_reading_prompt"]
    assert fields_of(walk.commands) == {"value": Number("012345"), "account": Digits("6901000001")}

    walk(Key("1"))
    assert run_of(walk) == SaveReading("6901000001", 11, "012345", ReadingSource.KEYPAD)
    walk(Result(ok=True))
    assert walk.state.step is Step.AFTER
    assert said(walk.commands) == [
        "nodes.reading_keypad.reading_saved_prompt",
        "prompts.more_prompt",
    ]
    assert walk.state.served == ("reading_keypad",)

    commands = walk(NoInput())
    assert said(commands) == ["prompts.goodbye_prompt"]
    assert waiting(commands) == Hangup(closed=True)
    assert (walk.state.outcome, walk.state.closed) == (Outcome.CLOSED, True)


def test_the_reading_can_be_entered_again_before_it_is_saved() -> None:
    walk = walk_to("reading_keypad")
    walk(Entry("111"), Key("2"))
    assert walk.state.step is Step.ENTER_READING
    walk(Entry("222"), Key("9"))  # not a key of the confirmation: hint, then again
    assert said(walk.commands) == [
        "prompts.invalid_prompt",
        "nodes.reading_keypad.confirm_reading_prompt",
    ]
    walk(Key("1"))
    assert run_of(walk) == SaveReading("6901000001", 11, "222", ReadingSource.KEYPAD)


def test_unknown_caller_keys_the_account_first() -> None:
    walk = walk_to("reading_keypad", UNKNOWN)
    assert walk.state.step is Step.ENTER_ACCOUNT
    assert said(walk.commands) == ["prompts.account_prompt"]
    walk(Entry("6901000002"))
    assert run_of(walk) == FindAccount("6901000002")
    owner = CallerInfo(customer_id=12, account="6901000002", locality_id=1, locality_name="Ржев")
    walk(Result(ok=True, caller=owner))
    assert walk.state.caller.customer_id == 12
    assert walk.state.caller.phone == UNKNOWN.phone  # the number the call came from stays
    assert walk.state.step is Step.ENTER_READING
    walk(Entry("5000"), Key("1"))
    assert run_of(walk) == SaveReading("6901000002", 12, "5000", ReadingSource.KEYPAD)


def test_an_unknown_account_is_asked_again_then_the_operator() -> None:
    walk = walk_to("reading_keypad", UNKNOWN)
    walk(Entry("1"), Result(ok=False))
    assert isinstance(walk.last, AskDigits)
    assert said(walk.commands) == ["prompts.account_not_found_prompt", "prompts.account_prompt"]
    walk(Entry("2"), Result(ok=False))
    assert waiting(walk.commands) == Handoff("line2", 0, None)
    assert said(walk.commands) == ["prompts.account_not_found_prompt", "prompts.transfer_prompt"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("*", "back"),  # * alone: one level back
        ("", "root"),  # # alone: the root menu
        ("123456789", "invalid"),  # longer than the meter has digits
        ("12*3", "invalid"),
    ],
)
def test_special_entries_while_keying_a_reading(entry: str, expected: str) -> None:
    walk = walk_to("reading_keypad")
    walk(Entry(entry))
    if expected == "back":
        assert (walk.state.node, walk.state.step) == ("readings", Step.MENU)
        assert walk.state.path[-1] == "*"
    elif expected == "root":
        assert (walk.state.node, walk.state.menus) == ("main", ("main",))
    else:
        assert said(walk.commands) == [
            "prompts.entry_invalid_prompt",
            "nodes.reading_keypad.reading_prompt",
        ]
        assert walk.state.step is Step.ENTER_READING


def test_silence_while_keying_a_number_is_asked_once_more_then_the_operator() -> None:
    walk = walk_to("reading_keypad")
    walk(NoInput())
    assert said(walk.commands) == ["nodes.reading_keypad.reading_prompt"]
    walk(NoInput())
    assert waiting(walk.commands) == Handoff("line2", 0, 11)


def test_a_reading_said_by_voice_is_confirmed_and_saved_as_voice() -> None:
    walk = walk_to("reading_voice")
    assert said(walk.commands) == ["nodes.reading_voice.voice_prompt"]
    assert run_of(walk) == HearReading(8)
    walk(Result(ok=True, value="12345"))
    assert fields_of(walk.commands)["value"] == Number("12345")
    walk(Key("1"))
    assert run_of(walk) == SaveReading("6901000001", 11, "12345", ReadingSource.VOICE)


def test_voice_falls_back_to_the_keypad() -> None:
    walk = walk_to("reading_voice")
    walk(Result(ok=False))  # not understood: once more by voice
    assert said(walk.commands) == [
        "nodes.reading_voice.not_recognised_prompt",
        "nodes.reading_voice.voice_prompt",
    ]
    assert run_of(walk) == HearReading(8)
    walk(Result(ok=False))  # again: the keypad
    assert isinstance(walk.last, AskDigits)
    assert said(walk.commands) == [
        "nodes.reading_voice.not_recognised_prompt",
        "nodes.reading_voice.reading_prompt",
    ]
    walk(Entry("777"), Key("1"))
    assert run_of(walk) == SaveReading("6901000001", 11, "777", ReadingSource.KEYPAD)


def test_voice_without_a_recogniser_goes_straight_to_the_keypad() -> None:
    walk = walk_to("reading_voice")
    walk(Result(ok=False, variant="unavailable"))
    assert said(walk.commands) == ["nodes.reading_voice.reading_prompt"]
    walk(Entry("1"), Key("2"))  # entering again stays on the keypad
    assert isinstance(walk.last, AskDigits)


def test_without_speech_recognition_voice_nodes_take_the_keypad_at_once() -> None:
    walk = Walk(MACHINE, *MACHINE.start(KNOWN, T0, voice=False))
    for key in PATHS["reading_voice"]:
        walk(Key(key))
    assert said(walk.commands) == ["nodes.reading_voice.reading_prompt"]
    assert isinstance(walk.last, AskDigits)


def test_a_reading_that_cannot_be_saved_sends_the_caller_to_an_operator() -> None:
    walk = walk_to("reading_keypad")
    walk(Entry("1"), Key("1"), Result(ok=False, failed=True))
    assert said(walk.commands) == ["prompts.error_prompt"]
    assert waiting(walk.commands) == Handoff("line2", 0, 11)
    assert not walk.state.closed


# --- after self-service ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "node", "done"),
    [
        ("*", "readings", False),
        ("#", "main", False),
        ("0", None, True),
        ("5", "reading_keypad", False),
    ],
)
def test_keys_after_self_service(key: str, node: str | None, done: bool) -> None:
    walk = walk_to("reading_keypad")
    walk(Entry("1"), Key("1"), Result(ok=True), Key(key))
    state = walk.state
    assert state.done is done
    if done:
        assert waiting(walk.commands) == Handoff("line2", 0, 11)
        assert state.outcome is Outcome.HANDED_OFF
        assert not state.closed  # an operator took the call after all
    else:
        assert state.node == node
    if key == "5":
        assert said(walk.commands) == ["prompts.invalid_prompt", "prompts.more_prompt"]


def test_hanging_up_after_self_service_is_closed_by_the_ivr() -> None:
    walk = walk_to("reading_keypad")
    walk(Entry("1"), Key("1"), Result(ok=True), CallerHungUp())
    assert (walk.state.outcome, walk.state.closed) == (Outcome.CLOSED, True)


def test_hanging_up_before_the_reading_is_saved_is_not_closed() -> None:
    walk = walk_to("reading_keypad")
    walk(Entry("1"), CallerHungUp())
    assert walk.state.outcome is Outcome.HUNG_UP


# --- applications, outages, balance ------------------------------------------------------


def test_application_status_by_number() -> None:
    walk = walk_to("application_status", ANONYMOUS)
    assert said(walk.commands) == ["nodes.application_status.application_prompt"]
    walk(Entry("2500101"))
    assert run_of(walk) == ApplicationStatus("2500101")
    status = (("number", Digits("2500101")), ("status", Said("Заявка на рассмотрении")))
    walk(Result(ok=True, fields=status))
    assert said(walk.commands) == [
        "nodes.application_status.application_status_prompt",
        "prompts.more_prompt",
    ]
    assert fields_of(walk.commands)["status"] == Said("Заявка на рассмотрении")


def test_an_unknown_application_is_asked_again_then_the_operator() -> None:
    walk = walk_to("application_status", ANONYMOUS)
    walk(Entry("1"), Result(ok=False))
    assert said(walk.commands) == [
        "nodes.application_status.application_not_found_prompt",
        "nodes.application_status.application_prompt",
    ]
    walk(Entry("2"), Result(ok=False))
    assert waiting(walk.commands) == Handoff("line2", 0, None)


def test_outages_for_the_callers_own_locality() -> None:
    walk = walk_to("outages_here")
    assert run_of(walk) == Outages(3, "Тверь", 3)
    found = (("locality", Said("Тверь")), ("outages", Said("плановое отключение")))
    walk(Result(ok=True, variant="found", fields=found))
    assert said(walk.commands)[0] == "nodes.outages_here.outages_found_prompt"
    walk(Key("#"))
    assert walk.state.node == "main"
    assert walk.state.served == ("outages_here",)


def test_outages_for_a_locality_chosen_by_key() -> None:
    walk = walk_to("outages_here", UNKNOWN)  # no locality known: choose one
    assert walk.state.step is Step.CHOOSE_LOCALITY
    assert said(walk.commands) == ["nodes.outages_here.choose_locality_prompt"]
    walk(Key("7"))
    assert said(walk.commands) == [
        "prompts.invalid_prompt",
        "nodes.outages_here.choose_locality_prompt",
    ]
    walk(Key("2"))
    assert run_of(walk) == Outages(None, "Ржев", 3)
    walk(Result(ok=True, variant="none", fields=(("locality", Said("Ржев")),)))
    assert said(walk.commands)[0] == "nodes.outages_here.no_outages_prompt"


def test_a_known_caller_may_still_choose_another_locality() -> None:
    walk = walk_to("outages_choose")
    assert walk.state.step is Step.CHOOSE_LOCALITY


def test_balance_of_a_known_caller() -> None:
    walk = walk_to("balance")
    assert run_of(walk) == Balance("6901000001")
    walk(Result(ok=True, variant="debt", fields=(("amount", Said("сто рублей")),)))
    assert said(walk.commands) == ["nodes.balance.debt_prompt", "prompts.more_prompt"]
    walk = walk_to("balance")
    walk(Result(ok=True, variant="no_debt"))
    assert said(walk.commands)[0] == "nodes.balance.no_debt_prompt"


def test_balance_of_an_unknown_caller_after_the_account() -> None:
    walk = walk_to("balance", UNKNOWN)
    walk(Entry("6901000002"))
    assert run_of(walk) == FindAccount("6901000002")
    walk(Result(ok=True, caller=CallerInfo(customer_id=5, account="6901000002")))
    assert run_of(walk) == Balance("6901000002")


def test_a_lookup_that_fails_apologises_and_hands_off() -> None:
    walk = walk_to("outages_here")
    walk(Result(ok=False, failed=True))
    assert said(walk.commands) == ["prompts.error_prompt"]
    assert waiting(walk.commands) == Handoff("line1", 0, 11)


# --- voice messages and callbacks --------------------------------------------------------


def test_a_voice_message_is_recorded_and_numbered() -> None:
    walk = walk_to("voicemail", UNKNOWN)
    assert said(walk.commands) == ["nodes.voicemail.record_prompt"]
    assert run_of(walk) == RecordVoicemail("line1", 120)
    walk(Result(ok=True, fields=(("number", Digits("20250314-0001")),)))
    assert said(walk.commands) == ["nodes.voicemail.voicemail_saved_prompt", "prompts.more_prompt"]
    assert walk.state.served == ("voicemail",)


def test_an_empty_voice_message_is_recorded_again_then_the_operator() -> None:
    walk = walk_to("voicemail", UNKNOWN)
    walk(Result(ok=False))
    assert said(walk.commands) == [
        "nodes.voicemail.voicemail_empty_prompt",
        "nodes.voicemail.record_prompt",
    ]
    assert isinstance(walk.last, Run)
    walk(Result(ok=False))
    assert waiting(walk.commands) == Handoff("line1", 0, None)


def test_a_callback_to_the_callers_number() -> None:
    walk = walk_to("callback", UNKNOWN)
    assert said(walk.commands) == ["nodes.callback.callback_confirm_prompt"]
    assert fields_of(walk.commands) == {"phone": Phone("+79160000000")}
    walk(Key("1"))
    assert run_of(walk) == CreateCallback("+79160000000", "line1")
    walk(Result(ok=True, fields=(("number", Digits("20250314-0002")),)))
    fields = fields_of(walk.commands)
    assert fields["minutes"] == Said("30 минут")
    assert fields["phone"] == Phone("+79160000000")


def test_a_callback_to_another_number() -> None:
    walk = walk_to("callback", UNKNOWN)
    walk(Key("2"))
    assert walk.state.step is Step.ENTER_PHONE
    walk(Entry("123"))  # too short for a phone number
    assert said(walk.commands) == [
        "prompts.entry_invalid_prompt",
        "nodes.callback.callback_phone_prompt",
    ]
    walk(Entry("89157001122"), Key("1"))
    assert run_of(walk) == CreateCallback("89157001122", "line1")


def test_a_withheld_number_is_asked_for() -> None:
    walk = walk_to("callback", ANONYMOUS)
    assert walk.state.step is Step.ENTER_PHONE
    assert isinstance(walk.last, AskDigits)


def test_contacts_are_self_service_too() -> None:
    walk = walk_to("contacts", ANONYMOUS)
    assert isinstance(walk.last, AskKey)
    assert said(walk.commands) == ["nodes.contacts.prompt", "prompts.more_prompt"]
    walk(NoInput())
    assert walk.state.closed


# --- every key at every question of every self-service node ---------------------------------

SELF_SERVICE = sorted(n for n, node in FLOW.nodes.items() if node.type not in ("menu", "operator"))
VALID_ENTRY = {
    Step.ENTER_ACCOUNT: "6901000001",
    Step.ENTER_READING: "123",
    Step.ENTER_APPLICATION: "2500101",
    Step.ENTER_PHONE: "89157001122",
}


def questions_of(node_id: str) -> list[Walk]:
    """Calls waiting at each key question the node asks on its way (known and unknown callers,
    every answer given as the happy path would)."""
    found: list[Walk] = []
    for caller in (KNOWN, UNKNOWN):
        walk = walk_to(node_id, caller)
        for _ in range(8):
            last = walk.last
            if isinstance(last, AskKey):
                found.append(walk)
                if walk.state.step is Step.AFTER:
                    break
                fork = Walk(MACHINE, walk.state, walk.commands)
                key = "1" if walk.state.step is not Step.CHOOSE_LOCALITY else "2"
                fork(Key(key))
                walk = fork
            elif isinstance(last, AskDigits):
                walk(Entry(VALID_ENTRY[walk.state.step]))
            elif isinstance(last, Run):
                walk(Result(ok=True, value="123", caller=KNOWN, variant="found"))
            else:
                break
    return found


@pytest.mark.parametrize("node_id", SELF_SERVICE)
@pytest.mark.parametrize("key", list("0123456789*#"))
def test_every_key_at_every_self_service_question(node_id: str, key: str) -> None:
    questions = questions_of(node_id)
    assert questions, f"{node_id} asks nothing"
    for question in questions:
        walk = Walk(MACHINE, question.state, question.commands)
        before = walk.state
        commands = walk(Key(key))
        state = walk.state
        node = FLOW.nodes[node_id]
        if key == "*":
            assert (state.step, state.node) == (Step.MENU, before.menus[-1])
        elif key == "#":
            assert (state.step, state.node) == (Step.MENU, "main")
        elif key == "0":
            assert isinstance(waiting(commands), Handoff)
        elif before.step is Step.CHOOSE_LOCALITY and key in getattr(node, "localities", {}):
            assert isinstance(waiting(commands), Run)
        elif before.step in (Step.CONFIRM_READING, Step.CONFIRM_PHONE) and key in "12":
            assert isinstance(waiting(commands), Run | AskDigits)
        else:
            assert said(commands)[0] == "prompts.invalid_prompt"
            assert (state.step, state.node, state.invalid) == (
                before.step,
                node_id,
                before.invalid + 1,
            )
