"""The IVR stepper: one call's way through a flow, as a pure state machine.

    machine = IvrMachine(flow)
    state, commands = machine.start(caller, now)
    state, commands = machine.step(state, Key("1"), now)

`commands` is what the call should hear and do now: zero or more `Play`, then exactly one of
`AskKey` (a prompt with barge-in, then wait for one key), `AskDigits` (a prompt, then collect a
number ended by #), `Run` (self-service work outside: a lookup, a recording), `Handoff` (to an
operator queue) or `Hangup`. The runtime answers the last one with the next input: `Key` or
`NoInput` for AskKey, `Entry` or `NoInput` for AskDigits, `Result` for Run. The prompts of a
question take keys at once (barge-in: an experienced caller need not listen to the end);
`Play` is said in full. `CallerHungUp` may come at any time.

Keys on every level (configurable per flow, `Keys`): back one level (`*`), root menu (`#`),
operator (`0`). A key that does nothing here: a short hint and the level's prompt again, and
after `timing.invalid_attempts` of them the operator. No key at all (a phone without tone
dialling): after `timing.no_input_attempts` silent menu prompts the operator queue of the branch.
While a number is being keyed, # ends it, `*` alone goes back and # alone goes to the root menu.

The call's record: `path` (menu keys pressed, never the numbers keyed in), `visited` nodes,
`served` self-service nodes completed; the call is closed by the IVR when something was served
and the call ended without an operator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from callcenter.domain.ivr_schema import (
    ApplicationStatusNode,
    BalanceNode,
    CallbackNode,
    Flow,
    InfoNode,
    MenuNode,
    MeterReadingNode,
    OperatorNode,
    OutagesNode,
    VoicemailNode,
)
from callcenter.domain.meter_readings import ReadingSource

MAX_PATH = 64  # entries kept (the call record keeps as many)
PHONE_DIGITS = (10, 15)  # a callback number keyed in: national or international
CALLBACK_MINUTES = 30  # table 7: call back within 30 minutes of the request


class IvrError(Exception):
    """The runtime fed an input the current step does not take (a bug, not a caller's doing)."""


# --- who is calling ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerInfo:
    """What the call knows of the caller: by the caller's number (ANI) or an account keyed in."""

    phone: str = ""  # the caller's number as E.164 when it is one, "" when withheld
    customer_id: int | None = None
    account: str | None = None
    locality_id: int | None = None
    locality_name: str | None = None
    social_facility: bool = False  # hospitals, schools...: handed off with a higher priority

    @property
    def known(self) -> bool:
        return self.customer_id is not None


# --- what is said --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Said:
    """Text already worded for the voice (e.g. an amount the runtime put in words)."""

    text: str


@dataclass(frozen=True, slots=True)
class Digits:
    """Said digit by digit: account and application numbers."""

    digits: str


@dataclass(frozen=True, slots=True)
class Number:
    """Said as one number: a meter reading."""

    digits: str


@dataclass(frozen=True, slots=True)
class Phone:
    """Said in the groups of a phone number."""

    number: str


Spoken = Said | Digits | Number | Phone


@dataclass(frozen=True, slots=True)
class Prompt:
    """A flow text to say; `{field}` names are filled from `fields` by the runtime."""

    text: str
    where: str  # where the text is in the flow, e.g. "nodes.main.prompt" (for logs)
    fields: tuple[tuple[str, Spoken], ...] = ()


# --- what the runtime does -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Play:
    """Said in full: keys pressed meanwhile are ignored (notice, before a hand-off).

    `barge_in` (the greeting): a key ends the prompt it interrupts and is kept as the answer
    to the next question; the recording notice is still said in full (never interrupted)."""

    prompts: tuple[Prompt, ...]
    barge_in: bool = False


@dataclass(frozen=True, slots=True)
class AskKey:
    prompts: tuple[Prompt, ...]  # said one after another, any key interrupts
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class AskDigits:
    prompts: tuple[Prompt, ...]  # said as one prompt; a key starts the number
    timeout_ms: int
    max_digits: int


@dataclass(frozen=True, slots=True)
class FindAccount:
    account: str


@dataclass(frozen=True, slots=True)
class SaveReading:
    account: str
    customer_id: int | None
    value: str
    source: ReadingSource


@dataclass(frozen=True, slots=True)
class HearReading:
    """Record the caller saying the reading (after a beep) and recognise it."""

    max_digits: int


@dataclass(frozen=True, slots=True)
class ApplicationStatus:
    number: str


@dataclass(frozen=True, slots=True)
class Outages:
    locality_id: int | None
    locality_name: str | None
    max_items: int


@dataclass(frozen=True, slots=True)
class Balance:
    account: str


@dataclass(frozen=True, slots=True)
class RecordVoicemail:
    queue: str  # the branch the message belongs to
    max_seconds: int


@dataclass(frozen=True, slots=True)
class CreateCallback:
    phone: str
    queue: str
    minutes: int = CALLBACK_MINUTES


Request = (
    FindAccount
    | SaveReading
    | HearReading
    | ApplicationStatus
    | Outages
    | Balance
    | RecordVoicemail
    | CreateCallback
)


@dataclass(frozen=True, slots=True)
class Run:
    request: Request


@dataclass(frozen=True, slots=True)
class Handoff:
    queue: str
    priority: int
    customer_id: int | None


@dataclass(frozen=True, slots=True)
class Hangup:
    closed: bool


Command = Play | AskKey | AskDigits | Run | Handoff | Hangup


# --- what the call answers -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key:
    key: str


@dataclass(frozen=True, slots=True)
class Entry:
    """Digits keyed for AskDigits (without the closing #); "" when only # was pressed."""

    digits: str


@dataclass(frozen=True, slots=True)
class NoInput:
    pass


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of a `Run`.

    ok: found / saved / heard. variant: which answer to say ("debt" or "no_debt" for Balance,
    "found" or "none" for Outages, "unavailable" for HearReading without speech recognition).
    failed: the work could not be done (database down...): the caller goes to an operator.
    """

    ok: bool
    variant: str = ""
    fields: tuple[tuple[str, Spoken], ...] = ()
    caller: CallerInfo | None = None  # FindAccount: who the account belongs to
    value: str | None = None  # HearReading: the digits heard
    failed: bool = False


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    pass


Input = Key | Entry | NoInput | Result | CallerHungUp


# --- the state -----------------------------------------------------------------------------


class Step(StrEnum):
    MENU = "menu"  # AskKey: a menu's options
    CHOOSE_LOCALITY = "choose_locality"  # AskKey: outages, which locality
    CONFIRM_READING = "confirm_reading"  # AskKey: the reading read back
    CONFIRM_PHONE = "confirm_phone"  # AskKey: the callback number read back
    AFTER = "after"  # AskKey: self-service done, what next
    ENTER_ACCOUNT = "enter_account"  # AskDigits
    ENTER_READING = "enter_reading"  # AskDigits
    ENTER_APPLICATION = "enter_application"  # AskDigits
    ENTER_PHONE = "enter_phone"  # AskDigits
    RUNNING = "running"  # Run
    DONE = "done"  # handed off, hung up: nothing more


_KEY_STEPS = frozenset(
    {Step.MENU, Step.CHOOSE_LOCALITY, Step.CONFIRM_READING, Step.CONFIRM_PHONE, Step.AFTER}
)
_ENTRY_STEPS = frozenset(
    {Step.ENTER_ACCOUNT, Step.ENTER_READING, Step.ENTER_APPLICATION, Step.ENTER_PHONE}
)


class Outcome(StrEnum):
    HANDED_OFF = "handed_off"  # sent to an operator queue
    CLOSED = "closed"  # self-service done, ended without an operator: closed by the IVR
    HUNG_UP = "hung_up"  # the caller left before anything was served


@dataclass(frozen=True, slots=True)
class IvrState:
    flow: str
    node: str
    step: Step
    menus: tuple[str, ...]  # menus entered, root first: `back` returns to the one before
    caller: CallerInfo
    started_at: datetime
    notice_version: str
    path: tuple[str, ...] = ()
    visited: tuple[str, ...] = ()
    served: tuple[str, ...] = ()
    invalid: int = 0
    no_input: int = 0
    misses: int = 0  # numbers not found, readings not recognised, empty messages
    pending: str | None = None  # a number keyed or heard, awaiting a lookup or confirmation
    by_voice: bool = False  # the pending reading was said, not keyed
    keypad_only: bool = False  # voice entry failed: keypad from now on (on this node)
    voice: bool = True  # speech recognition runs: readings may be said
    asking: AskKey | AskDigits | None = None  # the question to repeat after a hint
    running: Request | None = None
    outcome: Outcome | None = None
    target: str | None = None
    priority: int | None = None
    ended_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.step is Step.DONE

    @property
    def closed(self) -> bool:
        return self.outcome is Outcome.CLOSED

    @property
    def ivr_seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return max(0.0, (self.ended_at - self.started_at).total_seconds())

    @property
    def path_text(self) -> str:
        return ">".join(self.path)


Out = tuple[IvrState, tuple[Command, ...]]
_Again = Callable[[IvrState, Prompt], Out]  # asks for a number again, after a hint


@dataclass(frozen=True)
class _Fields:
    values: dict[str, Spoken] = field(default_factory=dict)

    def pairs(self) -> tuple[tuple[str, Spoken], ...]:
        return tuple(self.values.items())


class IvrMachine:
    """Steps calls through one validated flow (see the module docstring)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._keys = flow.keys
        self._timing = flow.timing

    # --- public ----------------------------------------------------------------------------

    def start(self, caller: CallerInfo, now: datetime, *, voice: bool = True) -> Out:
        """The greeting (a key interrupts it and answers the root menu) and the recording notice
        (said in full), then the root menu.

        `voice` False: no speech recognition, readings are keyed even on voice nodes.
        """
        flow = self.flow
        state = IvrState(
            flow=flow.name,
            node=flow.start,
            step=Step.MENU,
            menus=(),
            caller=caller,
            started_at=now,
            notice_version=flow.notice_version,
            voice=voice,
        )
        intro = Play(
            (
                Prompt(flow.greeting_prompt, "greeting_prompt"),
                Prompt(flow.notice_prompt, "notice_prompt"),
            ),
            barge_in=True,
        )
        state, commands = self._enter(state, flow.start)
        return state, (intro, *commands)

    def step(self, state: IvrState, event: Input, now: datetime) -> Out:
        if state.flow != self.flow.name:
            raise IvrError(f"state of flow {state.flow!r} stepped by flow {self.flow.name!r}")
        if isinstance(event, CallerHungUp):
            if state.done:
                return state, ()
            outcome = Outcome.CLOSED if state.served else Outcome.HUNG_UP
            return replace(state, step=Step.DONE, outcome=outcome, ended_at=now), ()
        if state.done:
            raise IvrError("the call has left the IVR")
        if state.step in _KEY_STEPS:
            if isinstance(event, Key):
                if len(event.key) != 1:
                    raise IvrError(f"one key expected, got {event.key!r}")
                return self._on_key(state, event.key, now)
            if isinstance(event, NoInput):
                return self._on_no_key(state, now)
        elif state.step in _ENTRY_STEPS:
            if isinstance(event, Entry):
                return self._on_entry(state, event.digits, now)
            if isinstance(event, NoInput):
                return self._no_entry(state, now)
        elif state.step is Step.RUNNING and isinstance(event, Result):
            return self._on_result(state, event, now)
        raise IvrError(f"{type(event).__name__} does not answer step {state.step}")

    # --- helpers: prompts, questions -------------------------------------------------------

    def _prompt(self, node_id: str | None, key: str, fields: _Fields | None = None) -> Prompt:
        text = self.flow.prompt_text(node_id, key)
        node = self.flow.nodes.get(node_id) if node_id is not None else None
        own = node is not None and getattr(node, key, None) is not None
        where = f"nodes.{node_id}.{key}" if own else f"prompts.{key}"
        return Prompt(text, where, fields.pairs() if fields else ())

    def _ask_key(self, state: IvrState, *prompts: Prompt, repeat: tuple[Prompt, ...] = ()) -> Out:
        """Ask for one key; `repeat` (default: the prompts) is said again after a hint."""
        question = AskKey(repeat or prompts, self._timing.key_timeout_ms)
        return replace(state, asking=question, running=None), (
            AskKey(prompts, self._timing.key_timeout_ms),
        )

    def _ask_digits(self, state: IvrState, prompt: Prompt, max_digits: int, *lead: Prompt) -> Out:
        """Ask for a number; `lead` (a hint) comes first this time only."""
        question = AskDigits((prompt,), self._timing.entry_timeout_ms, max_digits)
        return replace(state, asking=question, running=None), (
            replace(question, prompts=(*lead, prompt)),
        )

    def _repeat(self, state: IvrState, *lead: Prompt) -> Out:
        """The current question again, after `lead` (a hint)."""
        asking = state.asking
        if isinstance(asking, AskDigits):
            return state, (replace(asking, prompts=(*lead, *asking.prompts)),)
        if isinstance(asking, AskKey):
            return state, (replace(asking, prompts=(*lead, *asking.prompts)),)
        raise IvrError("nothing to repeat")

    def _run(self, state: IvrState, request: Request, *lead: Prompt) -> Out:
        commands: tuple[Command, ...] = (Run(request),)
        if lead:
            commands = (Play(lead), *commands)
        return replace(state, step=Step.RUNNING, running=request, asking=None), commands

    @staticmethod
    def _with_key(state: IvrState, key: str) -> IvrState:
        return replace(state, path=(*state.path, key)[-MAX_PATH:])

    # --- where calls go --------------------------------------------------------------------

    def _enter(self, state: IvrState, node_id: str, *, menus: tuple[str, ...] | None = None) -> Out:
        """Enter a node chosen from the current menu (or a menu by back/root with `menus`)."""
        node = self.flow.nodes[node_id]
        state = replace(
            state,
            node=node_id,
            visited=(*state.visited, node_id)[-MAX_PATH:],
            invalid=0,
            no_input=0,
            misses=0,
            pending=None,
            by_voice=False,
            keypad_only=False,
        )
        if isinstance(node, MenuNode):
            stack = menus if menus is not None else (*state.menus, node_id)
            state = replace(state, step=Step.MENU, menus=stack)
            return self._ask_key(state, Prompt(node.prompt, f"nodes.{node_id}.prompt"))
        if isinstance(node, OperatorNode):
            return self._handoff(state)
        if isinstance(node, InfoNode):
            return self._after(state, Prompt(node.prompt, f"nodes.{node_id}.prompt"))
        if isinstance(node, MeterReadingNode):
            if state.caller.account:
                return self._ask_reading(state, node)
            return self._ask_account(state)
        if isinstance(node, BalanceNode):
            if state.caller.account:
                return self._run(state, Balance(state.caller.account))
            return self._ask_account(state)
        if isinstance(node, ApplicationStatusNode):
            return self._ask_application(state, node)
        if isinstance(node, OutagesNode):
            return self._begin_outages(state, node_id, node)
        if isinstance(node, VoicemailNode):
            return self._record_voicemail(state, node_id, node)
        if isinstance(node, CallbackNode):
            if state.caller.phone:
                return self._confirm_phone(state, state.caller.phone)
            return self._ask_phone(state)
        raise IvrError(f"node {node_id!r} of unknown type")  # pragma: no cover - schema forbids

    def _back(self, state: IvrState) -> Out:
        stack = state.menus
        if state.step is Step.MENU and len(stack) > 1:
            stack = stack[:-1]  # leave this menu for the one before
        return self._enter(state, stack[-1], menus=stack)

    def _root(self, state: IvrState) -> Out:
        return self._enter(state, self.flow.start, menus=(self.flow.start,))

    def _branch_node_ids(self, state: IvrState) -> list[str]:
        """The current node, then the menus entered, innermost first."""
        ids = [state.node]
        ids.extend(m for m in reversed(state.menus) if m != state.node)
        return ids

    def _handoff(self, state: IvrState, *lead: Prompt, transfer_prompt: bool = True) -> Out:
        """To the operator queue of the branch the caller is in."""
        flow = self.flow
        queue, priority = flow.operator.queue, flow.operator.priority
        for node_id in reversed(self._branch_node_ids(state)):  # outermost first: inner wins
            node = flow.nodes[node_id]
            if node.queue is not None:
                queue = node.queue
            if node.priority is not None:
                priority = node.priority
        if state.caller.social_facility:
            priority = max(priority, flow.operator.social_facility_priority)
        prompts = lead
        if transfer_prompt:
            prompts = (*lead, self._prompt(state.node, "transfer_prompt"))
        state = replace(
            state,
            step=Step.DONE,
            outcome=Outcome.HANDED_OFF,
            target=queue,
            priority=priority,
            asking=None,
            running=None,
        )
        commands: tuple[Command, ...] = (Handoff(queue, priority, state.caller.customer_id),)
        if prompts:
            commands = (Play(prompts), *commands)
        return state, commands

    def _branch_queue(self, state: IvrState) -> str:
        for node_id in self._branch_node_ids(state):
            queue = self.flow.nodes[node_id].queue
            if queue is not None:
                return queue
        return self.flow.operator.queue

    def _after(self, state: IvrState, *result: Prompt) -> Out:
        """Self-service done: the result, then what the caller may do next."""
        more = self._prompt(state.node, "more_prompt")
        state = replace(
            state,
            step=Step.AFTER,
            served=(*state.served, state.node)[-MAX_PATH:],
            invalid=0,
            no_input=0,
        )
        return self._ask_key(state, *result, more, repeat=(more,))

    def _failed(self, state: IvrState) -> Out:
        return self._handoff(state, self._prompt(state.node, "error_prompt"), transfer_prompt=False)

    # --- keys ------------------------------------------------------------------------------

    def _navigation(self, state: IvrState, key: str) -> Out | None:
        keys = self._keys
        if key == keys.back:
            return self._back(self._with_key(state, key))
        if key == keys.root:
            return self._root(self._with_key(state, key))
        if keys.operator is not None and key == keys.operator:
            return self._handoff(self._with_key(state, key))
        return None

    def _invalid_key(self, state: IvrState) -> Out:
        state = replace(state, invalid=state.invalid + 1)
        if state.invalid >= self._timing.invalid_attempts:
            return self._handoff(state)
        return self._repeat(state, self._prompt(state.node, "invalid_prompt"))

    def _on_key(self, state: IvrState, key: str, now: datetime) -> Out:
        moved = self._navigation(state, key)
        if moved is not None:
            return moved
        node = self.flow.nodes[state.node]
        if state.step is Step.MENU and isinstance(node, MenuNode):
            target = node.options.get(key)
            if target is not None:
                return self._enter(self._with_key(state, key), target)
        elif state.step is Step.CHOOSE_LOCALITY and isinstance(node, OutagesNode):
            name = node.localities.get(key)
            if name is not None:
                request = Outages(None, name, node.max_items)
                return self._run(replace(self._with_key(state, key), pending=name), request)
        elif state.step is Step.CONFIRM_READING and isinstance(node, MeterReadingNode):
            if key == self._keys.confirm:
                return self._save_reading(state)
            if key == self._keys.retry:
                return self._ask_reading(replace(state, pending=None, by_voice=False), node)
        elif state.step is Step.CONFIRM_PHONE and isinstance(node, CallbackNode):
            if key == self._keys.confirm and state.pending:
                return self._run(state, CreateCallback(state.pending, self._branch_queue(state)))
            if key == self._keys.retry:
                return self._ask_phone(replace(state, pending=None))
        return self._invalid_key(state)

    def _on_no_key(self, state: IvrState, now: datetime) -> Out:
        if state.step is Step.AFTER:
            state = replace(state, step=Step.DONE, outcome=Outcome.CLOSED, ended_at=now)
            return state, (Play((self._prompt(state.node, "goodbye_prompt"),)), Hangup(True))
        limit = (
            self._timing.no_input_attempts
            if state.step is Step.MENU
            else self._timing.entry_no_input_attempts
        )
        state = replace(state, no_input=state.no_input + 1)
        if state.no_input >= limit:
            return self._handoff(state)
        return self._repeat(state)

    # --- numbers keyed in ------------------------------------------------------------------

    def _on_entry(self, state: IvrState, digits: str, now: datetime) -> Out:
        keys = self._keys
        if digits == keys.back:
            return self._back(self._with_key(state, keys.back))
        if digits == "" and keys.root == "#":
            return self._root(self._with_key(state, keys.root))
        node = self.flow.nodes[state.node]
        if not digits.isascii() or not digits.isdigit():
            return self._invalid_entry(state)
        if state.step is Step.ENTER_ACCOUNT and isinstance(node, MeterReadingNode | BalanceNode):
            if len(digits) > node.account_digits:
                return self._invalid_entry(state)
            return self._run(replace(state, pending=digits), FindAccount(digits))
        if state.step is Step.ENTER_READING and isinstance(node, MeterReadingNode):
            if len(digits) > node.max_digits:
                return self._invalid_entry(state)
            return self._confirm_reading(replace(state, pending=digits, by_voice=False))
        if state.step is Step.ENTER_APPLICATION and isinstance(node, ApplicationStatusNode):
            if len(digits) > node.max_digits:
                return self._invalid_entry(state)
            return self._run(replace(state, pending=digits), ApplicationStatus(digits))
        if state.step is Step.ENTER_PHONE and isinstance(node, CallbackNode):
            low, high = PHONE_DIGITS
            if not low <= len(digits) <= high:
                return self._invalid_entry(state)
            return self._confirm_phone(state, digits)
        raise IvrError(f"entry at step {state.step} on node {state.node!r}")  # pragma: no cover

    def _invalid_entry(self, state: IvrState) -> Out:
        state = replace(state, invalid=state.invalid + 1)
        if state.invalid >= self._timing.invalid_attempts:
            return self._handoff(state)
        return self._repeat(state, self._prompt(state.node, "entry_invalid_prompt"))

    def _no_entry(self, state: IvrState, now: datetime) -> Out:
        state = replace(state, no_input=state.no_input + 1)
        if state.no_input >= self._timing.entry_no_input_attempts:
            return self._handoff(state)
        return self._repeat(state)

    # --- self-service ----------------------------------------------------------------------

    def _ask_account(self, state: IvrState, *lead: Prompt) -> Out:
        node = self.flow.nodes[state.node]
        if not isinstance(node, MeterReadingNode | BalanceNode):
            raise IvrError(f"node {state.node!r} takes no account number")  # pragma: no cover
        state = replace(state, step=Step.ENTER_ACCOUNT)
        prompt = self._prompt(state.node, "account_prompt")
        return self._ask_digits(state, prompt, node.account_digits, *lead)

    def _ask_application(self, state: IvrState, node: ApplicationStatusNode, *lead: Prompt) -> Out:
        state = replace(state, step=Step.ENTER_APPLICATION)
        prompt = self._prompt(state.node, "application_prompt")
        return self._ask_digits(state, prompt, node.max_digits, *lead)

    def _ask_reading(self, state: IvrState, node: MeterReadingNode, *lead: Prompt) -> Out:
        if node.input == "voice" and state.voice and not state.keypad_only:
            voice = self._prompt(state.node, "voice_prompt")
            return self._run(state, HearReading(node.max_digits), *lead, voice)
        state = replace(state, step=Step.ENTER_READING)
        prompt = self._prompt(state.node, "reading_prompt")
        return self._ask_digits(state, prompt, node.max_digits, *lead)

    def _reading_fields(self, state: IvrState) -> _Fields:
        values: dict[str, Spoken] = {"value": Number(state.pending or "")}
        if state.caller.account:
            values["account"] = Digits(state.caller.account)
        return _Fields(values)

    def _confirm_reading(self, state: IvrState) -> Out:
        state = replace(state, step=Step.CONFIRM_READING, invalid=0, no_input=0)
        prompt = self._prompt(state.node, "confirm_reading_prompt", self._reading_fields(state))
        return self._ask_key(state, prompt)

    def _save_reading(self, state: IvrState) -> Out:
        caller = state.caller
        if not caller.account or not state.pending:
            raise IvrError("no account or reading to save")  # pragma: no cover
        source = ReadingSource.VOICE if state.by_voice else ReadingSource.KEYPAD
        request = SaveReading(caller.account, caller.customer_id, state.pending, source)
        return self._run(state, request)

    def _confirm_phone(self, state: IvrState, phone: str) -> Out:
        state = replace(state, step=Step.CONFIRM_PHONE, pending=phone, invalid=0, no_input=0)
        fields = _Fields({"phone": Phone(phone)})
        return self._ask_key(state, self._prompt(state.node, "callback_confirm_prompt", fields))

    def _ask_phone(self, state: IvrState) -> Out:
        state = replace(state, step=Step.ENTER_PHONE, invalid=0, no_input=0)
        prompt = self._prompt(state.node, "callback_phone_prompt")
        return self._ask_digits(state, prompt, PHONE_DIGITS[1])

    def _begin_outages(self, state: IvrState, node_id: str, node: OutagesNode) -> Out:
        caller = state.caller
        if node.use_caller_locality and caller.locality_id is not None:
            request = Outages(caller.locality_id, caller.locality_name, node.max_items)
            return self._run(state, request)
        if node.localities:
            state = replace(state, step=Step.CHOOSE_LOCALITY)
            return self._ask_key(state, self._prompt(node_id, "choose_locality_prompt"))
        return self._handoff(state, self._prompt(node_id, "unknown_locality_prompt"))

    def _record_voicemail(self, state: IvrState, node_id: str, node: VoicemailNode) -> Out:
        request = RecordVoicemail(self._branch_queue(state), node.max_seconds)
        return self._run(state, request, self._prompt(node_id, "record_prompt"))

    # --- results of the work outside -------------------------------------------------------

    def _on_result(self, state: IvrState, result: Result, now: datetime) -> Out:
        request = state.running
        if result.failed:
            return self._failed(state)
        node_id = state.node
        node = self.flow.nodes[node_id]
        fields = _Fields(dict(result.fields))
        if isinstance(request, FindAccount):
            if result.ok and result.caller is not None:
                found = replace(result.caller, phone=state.caller.phone)
                state = replace(state, caller=found, pending=None, misses=0, invalid=0)
                if isinstance(node, MeterReadingNode):
                    return self._ask_reading(state, node)
                return self._run(state, Balance(found.account or request.account))
            return self._missed(
                state, "account_not_found_prompt", lambda s, lead: self._ask_account(s, lead)
            )
        if isinstance(request, HearReading) and isinstance(node, MeterReadingNode):
            if result.ok and result.value:
                return self._confirm_reading(replace(state, pending=result.value, by_voice=True))
            if result.variant == "unavailable":
                return self._ask_reading(replace(state, keypad_only=True), node)
            state = replace(state, misses=state.misses + 1)
            not_heard = self._prompt(node_id, "not_recognised_prompt")
            keypad = state.misses >= self._timing.lookup_attempts
            return self._ask_reading(replace(state, keypad_only=keypad), node, not_heard)
        if isinstance(request, SaveReading):
            if not result.ok:
                return self._failed(state)
            prompt = self._prompt(node_id, "reading_saved_prompt", self._reading_fields(state))
            return self._after(state, prompt)
        if isinstance(request, ApplicationStatus):
            if result.ok:
                return self._after(
                    state, self._prompt(node_id, "application_status_prompt", fields)
                )
            if not isinstance(node, ApplicationStatusNode):
                raise IvrError(f"node {node_id!r} has no applications")  # pragma: no cover
            return self._missed(
                state,
                "application_not_found_prompt",
                lambda s, lead: self._ask_application(s, node, lead),
            )
        if isinstance(request, Outages):
            if not result.ok:
                return self._failed(state)
            key = "outages_found_prompt" if result.variant == "found" else "no_outages_prompt"
            return self._after(state, self._prompt(node_id, key, fields))
        if isinstance(request, Balance):
            if not result.ok:
                return self._failed(state)
            key = "debt_prompt" if result.variant == "debt" else "no_debt_prompt"
            return self._after(state, self._prompt(node_id, key, fields))
        if isinstance(request, RecordVoicemail):
            if result.ok:
                return self._after(state, self._prompt(node_id, "voicemail_saved_prompt", fields))
            state = replace(state, misses=state.misses + 1)
            empty = self._prompt(node_id, "voicemail_empty_prompt")
            if state.misses >= self._timing.lookup_attempts:
                return self._handoff(state, empty)
            again = self._prompt(node_id, "record_prompt")
            return self._run(
                state, RecordVoicemail(request.queue, request.max_seconds), empty, again
            )
        if isinstance(request, CreateCallback):
            if not result.ok:
                return self._failed(state)
            values = dict(result.fields)
            values.setdefault("phone", Phone(request.phone))
            values.setdefault("minutes", Said(f"{request.minutes} минут"))
            prompt = self._prompt(node_id, "callback_created_prompt", _Fields(values))
            return self._after(state, prompt)
        raise IvrError(f"a result with nothing running on node {node_id!r}")

    def _missed(self, state: IvrState, not_found_key: str, again: _Again) -> Out:
        """A number that was not found: say so and ask again, or hand off after the limit."""
        state = replace(state, misses=state.misses + 1, pending=None)
        not_found = self._prompt(state.node, not_found_key)
        if state.misses >= self._timing.lookup_attempts:
            return self._handoff(state, not_found)
        return again(state, not_found)
