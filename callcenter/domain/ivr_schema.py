"""IVR flows as data: the schema of a flow file (`ivr_flows/*.yaml`) and its structural rules.

A flow is a tree of nodes under one root menu. Rules from the service standard (`002_*.txt`,
table 6) checked here: at most 4 menu levels (the root menu is level 1, a node chosen from a
level-N menu is level N+1; the operator is the 5th level), at most 4 options per level, every
node reachable from the root, every node, queue and prompt a flow names exists. The 15-second
limit on what a level says needs the speech synthesiser, so `inbound.flows` measures it.

Keys that hold caller-facing text are named `prompt` or end in `_prompt` (the contract of
`callcenter.speech.prompts`, which renders them ahead of calls); nothing else is said. A prompt
with `{field}` names is a template completed during the call; the fields each prompt may use
are listed in `TEMPLATE_FIELDS`. Prompts shared by many nodes live under the flow's `prompts:`
and a node may override any of them with a key of the same name.

Pure: no I/O. `parse_flow(document)` validates a loaded YAML document and returns the `Flow`,
or raises `FlowInvalid` with every issue found (node and problem).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callcenter.domain.dialplan import FIRST_LINE_QUEUE

MAX_LEVELS = 4  # menu levels; the operator is the 5th (table 6: "4+1")
MAX_OPTIONS = 4  # choices on one level
ALL_KEYS = "0123456789*#"
OPTION_KEYS = "0123456789"
NODE_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")  # fits the call record's IVR path entries
_FIELD = re.compile(r"\{([A-Za-z_]\w*)\}")
_ANY_BRACE_FIELD = re.compile(r"\{[^{}]*\}")

# Which `{fields}` each prompt may use: what the call knows when that prompt is said.
TEMPLATE_FIELDS: Mapping[str, frozenset[str]] = {
    "confirm_reading_prompt": frozenset({"value", "account"}),
    "reading_saved_prompt": frozenset({"value", "account"}),
    "application_status_prompt": frozenset({"number", "status", "updated"}),
    "outages_found_prompt": frozenset({"locality", "count", "outages"}),
    "no_outages_prompt": frozenset({"locality"}),
    "debt_prompt": frozenset({"amount", "account"}),
    "no_debt_prompt": frozenset({"amount", "account"}),
    "voicemail_saved_prompt": frozenset({"number"}),
    "callback_confirm_prompt": frozenset({"phone"}),
    "callback_created_prompt": frozenset({"phone", "number", "minutes"}),
}

# Typical values of those fields, as the voice says them: `flows check` renders each template
# with them, so a template that would overrun the 15 s at a level is caught before a call.
SAMPLE_FIELDS: Mapping[str, str] = {
    "value": "двенадцать тысяч триста сорок пять",
    "account": "шесть девять ноль один ноль ноль ноль ноль ноль один",
    "number": "два пять ноль ноль один ноль один",
    "status": "Договор подписан, готовятся технические условия",
    "updated": "пятнадцатого марта",
    "locality": "Вышний Волочёк",
    "count": "два",
    "outages": (
        "плановое отключение пятнадцатого марта с десяти до шестнадцати часов; "
        "аварийное отключение с девяти часов, время восстановления уточняется"
    ),
    "amount": "одна тысяча восемьсот сорок пять рублей пятьдесят копеек",
    "phone": "плюс семь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь",
    "minutes": "тридцати минут",
}

# Prompts the stepper says on any node; each must be in the flow's `prompts:` (or on the node).
COMMON_PROMPTS: tuple[str, ...] = (
    "invalid_prompt",  # a key that does nothing here (then the level's prompt again)
    "entry_invalid_prompt",  # a number keyed in that cannot be right (then the request again)
    "transfer_prompt",  # before the hand-off to an operator
    "error_prompt",  # a self-service lookup failed: said instead of transfer_prompt
    "more_prompt",  # after self-service: what the caller may do next
    "goodbye_prompt",  # the IVR ends the call after self-service
)


@dataclass(frozen=True)
class FlowIssue:
    """One problem of a flow: which node (None: the flow itself) and what is wrong."""

    node: str | None
    problem: str

    def __str__(self) -> str:
        return f"node {self.node!r}: {self.problem}" if self.node else self.problem


class FlowInvalid(Exception):
    """A flow document breaks the schema or the standard's rules; `issues` lists every problem."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


def _single_key(value: str, allowed: str = ALL_KEYS) -> str:
    if len(value) != 1 or value not in allowed:
        raise ValueError(f"must be one key of {allowed!r}, got {value!r}")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Keys(_Model):
    """Keys that work the same on every level (the standard: back, root menu, operator)."""

    back: str = "*"
    root: str = "#"
    operator: str | None = "0"  # None: no operator key in this flow (no input still reaches one)
    confirm: str = "1"  # "yes, that is right" after a value is read back
    retry: str = "2"  # "no, let me enter it again"

    @field_validator("back", "root", "operator", "confirm", "retry")
    @classmethod
    def _one_key(cls, value: str | None) -> str | None:
        return None if value is None else _single_key(value)

    @model_validator(mode="after")
    def _distinct(self) -> Keys:
        navigation = [k for k in (self.back, self.root, self.operator) if k is not None]
        if len(set(navigation)) != len(navigation):
            raise ValueError("back, root and operator keys must differ")
        if self.confirm == self.retry or {self.confirm, self.retry} & set(navigation):
            raise ValueError("confirm and retry keys must differ from each other and navigation")
        return self

    @property
    def navigation(self) -> frozenset[str]:
        return frozenset(k for k in (self.back, self.root, self.operator) if k is not None)


class Timing(_Model):
    key_timeout_s: float = Field(default=5.0, ge=1.0, le=30.0)  # wait for a key after a prompt
    entry_timeout_s: float = Field(default=7.0, ge=2.0, le=30.0)  # wait for (more) digits
    invalid_attempts: int = Field(default=3, ge=1, le=5)  # wrong keys before the operator
    # silent menu prompts before the operator: 1 = a phone without tone dialling gets an
    # operator right after the first prompt (the standard)
    no_input_attempts: int = Field(default=1, ge=1, le=3)
    entry_no_input_attempts: int = Field(default=2, ge=1, le=3)  # silent number requests
    lookup_attempts: int = Field(default=2, ge=1, le=5)  # unknown accounts, applications...

    @property
    def key_timeout_ms(self) -> int:
        return round(self.key_timeout_s * 1000)

    @property
    def entry_timeout_ms(self) -> int:
        return round(self.entry_timeout_s * 1000)


class OperatorDefaults(_Model):
    queue: str = FIRST_LINE_QUEUE  # where a caller goes when no node on the way names a queue
    priority: int = Field(default=0, ge=0, le=100)
    # customers whose outages are handled first (hospitals, schools): intelligent routing
    social_facility_priority: int = Field(default=10, ge=0, le=100)


class _Node(_Model):
    title: str = ""  # for people reading the flow and reports; never said
    queue: str | None = None  # operator queue of this branch (inherited by deeper nodes)
    priority: int | None = Field(default=None, ge=0, le=100)
    # any common prompt may be overridden on a node
    invalid_prompt: str | None = None
    entry_invalid_prompt: str | None = None
    transfer_prompt: str | None = None
    error_prompt: str | None = None
    more_prompt: str | None = None
    goodbye_prompt: str | None = None

    def required_prompts(self) -> tuple[str, ...]:
        """Prompt keys this node says (on top of its own `prompt`, if it has one)."""
        return ()

    def own_prompts(self) -> Iterator[tuple[str, str]]:
        """(key, text) of every prompt written on the node itself."""
        for key, value in self:
            if (key == "prompt" or key.endswith("_prompt")) and isinstance(value, str):
                yield key, value


class MenuNode(_Node):
    type: Literal["menu"]
    prompt: str
    options: dict[str, str]  # key -> node id

    @field_validator("options", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        # YAML reads `1: outages` with an integer key: accept it as the key "1"
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value


class OperatorNode(_Node):
    type: Literal["operator"]
    queue: str  # required here


class InfoNode(_Node):
    """Says something (contacts, office hours); the caller then goes on as after self-service."""

    type: Literal["info"]
    prompt: str


class MeterReadingNode(_Node):
    type: Literal["meter_reading"]
    input: Literal["keypad", "voice"] = "keypad"
    max_digits: int = Field(default=8, ge=1, le=12)
    account_digits: int = Field(default=16, ge=4, le=20)  # longest account number accepted
    account_prompt: str | None = None
    account_not_found_prompt: str | None = None
    reading_prompt: str | None = None
    voice_prompt: str | None = None
    not_recognised_prompt: str | None = None
    confirm_reading_prompt: str | None = None
    reading_saved_prompt: str | None = None

    def required_prompts(self) -> tuple[str, ...]:
        keys: tuple[str, ...] = (
            "account_prompt",
            "account_not_found_prompt",
            "reading_prompt",
            "confirm_reading_prompt",
            "reading_saved_prompt",
        )
        if self.input == "voice":
            keys += ("voice_prompt", "not_recognised_prompt")
        return keys


class ApplicationStatusNode(_Node):
    type: Literal["application_status"]
    max_digits: int = Field(default=12, ge=1, le=20)
    application_prompt: str | None = None
    application_not_found_prompt: str | None = None
    application_status_prompt: str | None = None

    def required_prompts(self) -> tuple[str, ...]:
        return (
            "application_prompt",
            "application_not_found_prompt",
            "application_status_prompt",
        )


class OutagesNode(_Node):
    type: Literal["outages"]
    use_caller_locality: bool = True  # a known caller hears their own locality at once
    localities: dict[str, str] = Field(default_factory=dict)  # key -> locality name
    max_items: int = Field(default=3, ge=1, le=5)  # outages said; the rest are counted
    choose_locality_prompt: str | None = None
    unknown_locality_prompt: str | None = None
    outages_found_prompt: str | None = None
    no_outages_prompt: str | None = None

    @field_validator("localities", mode="before")
    @classmethod
    def _keys_as_text(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    def required_prompts(self) -> tuple[str, ...]:
        keys: tuple[str, ...] = ("outages_found_prompt", "no_outages_prompt")
        if self.localities:
            keys += ("choose_locality_prompt",)
        else:
            keys += ("unknown_locality_prompt",)
        return keys


class BalanceNode(_Node):
    type: Literal["balance"]
    account_digits: int = Field(default=16, ge=4, le=20)
    account_prompt: str | None = None
    account_not_found_prompt: str | None = None
    debt_prompt: str | None = None
    no_debt_prompt: str | None = None

    def required_prompts(self) -> tuple[str, ...]:
        return ("account_prompt", "account_not_found_prompt", "debt_prompt", "no_debt_prompt")


class VoicemailNode(_Node):
    type: Literal["voicemail"]
    max_seconds: int = Field(default=120, ge=10, le=600)
    record_prompt: str | None = None
    voicemail_saved_prompt: str | None = None
    voicemail_empty_prompt: str | None = None

    def required_prompts(self) -> tuple[str, ...]:
        return ("record_prompt", "voicemail_saved_prompt", "voicemail_empty_prompt")


class CallbackNode(_Node):
    type: Literal["callback"]
    callback_confirm_prompt: str | None = None
    callback_phone_prompt: str | None = None
    callback_created_prompt: str | None = None

    def required_prompts(self) -> tuple[str, ...]:
        return ("callback_confirm_prompt", "callback_phone_prompt", "callback_created_prompt")


AnyNode = (
    MenuNode
    | OperatorNode
    | InfoNode
    | MeterReadingNode
    | ApplicationStatusNode
    | OutagesNode
    | BalanceNode
    | VoicemailNode
    | CallbackNode
)
Node = Annotated[AnyNode, Field(discriminator="type")]
SELF_SERVICE_TYPES = frozenset(
    {"meter_reading", "application_status", "outages", "balance", "voicemail", "callback", "info"}
)
NODE_TYPES: tuple[str, ...] = (
    "menu",
    "operator",
    "info",
    "meter_reading",
    "application_status",
    "outages",
    "balance",
    "voicemail",
    "callback",
)


class Flow(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    title: str = ""
    language: Literal["ru"] = "ru"
    start: str
    # which "this call is recorded" notice plays (the call record stores it)
    notice_version: str = Field(min_length=1, max_length=32)
    greeting_prompt: str
    notice_prompt: str
    keys: Keys = Keys()
    timing: Timing = Timing()
    operator: OperatorDefaults = OperatorDefaults()
    prompts: dict[str, str] = Field(default_factory=dict)
    nodes: dict[str, Node]

    def node(self, node_id: str) -> AnyNode:
        return self.nodes[node_id]

    def prompt_text(self, node_id: str | None, key: str) -> str:
        """The text of `key` for a node: its own, else the flow's shared one."""
        if node_id is not None:
            own = getattr(self.nodes[node_id], key, None)
            if isinstance(own, str):
                return own
        if key in self.prompts:
            return self.prompts[key]
        own = getattr(self, key, None)
        if isinstance(own, str):
            return own
        raise KeyError(f"flow {self.name!r} has no {key} for node {node_id!r}")

    def menu_children(self) -> dict[str, list[str]]:
        return {
            node_id: list(node.options.values())
            for node_id, node in self.nodes.items()
            if isinstance(node, MenuNode)
        }

    def all_prompts(self) -> Iterator[tuple[str | None, str, str]]:
        """(node id or None, key path, text) of every prompt written in the flow."""
        yield None, "greeting_prompt", self.greeting_prompt
        yield None, "notice_prompt", self.notice_prompt
        for key, text in self.prompts.items():
            yield None, f"prompts.{key}", text
        for node_id, node in self.nodes.items():
            for key, text in node.own_prompts():
                yield node_id, f"nodes.{node_id}.{key}", text


def template_fields(text: str) -> list[str]:
    return _FIELD.findall(text)


def fill_template(text: str, fields: Mapping[str, str]) -> str:
    """`{name}` replaced by fields[name]; nothing else is interpreted (no format spec, no
    attribute access), so a flow file cannot reach into objects."""
    return _FIELD.sub(lambda m: fields.get(m.group(1), m.group(0)), text)


def sample_text(text: str) -> str:
    return fill_template(text, SAMPLE_FIELDS)


# --- parsing ---------------------------------------------------------------------------------


def _issue_from_error(error: Mapping[str, Any]) -> FlowIssue:
    loc = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    node: str | None = None
    if len(loc) >= 2 and loc[0] == "nodes":
        node = loc[1]
        # the discriminated union puts the node type in the location: drop it
        rest = loc[3:] if len(loc) > 2 and loc[2] in NODE_TYPES else loc[2:]
    else:
        rest = loc
    if error.get("type") == "union_tag_invalid":
        message = f"unknown node type; the types are: {', '.join(NODE_TYPES)}"
    elif error.get("type") == "union_tag_not_found":
        message = f"has no `type`; the types are: {', '.join(NODE_TYPES)}"
    where = ".".join(rest)
    return FlowIssue(node, f"{where}: {message}" if where else message)


def parse_flow(document: object, *, known_queues: Collection[str] | None = None) -> Flow:
    """Validate a loaded flow document: schema first, then the standard's rules.

    `known_queues`: the queues calls may be handed to (None: not checked).
    """
    if not isinstance(document, dict):
        raise FlowInvalid([FlowIssue(None, "a flow file must be a mapping (name:, start:, ...)")])
    try:
        flow = Flow.model_validate(document)
    except ValidationError as exc:
        raise FlowInvalid([_issue_from_error(e) for e in exc.errors()]) from None
    issues = check_structure(flow, known_queues=known_queues)
    if issues:
        raise FlowInvalid(issues)
    return flow


# --- the standard's rules --------------------------------------------------------------------


@dataclass(frozen=True)
class FlowShape:
    levels: dict[str, int]  # node id -> level (root menu: 1), deepest way there
    parents: dict[str, list[str]]  # node id -> menus that lead to it


def shape_of(flow: Flow) -> tuple[FlowShape, list[FlowIssue]]:
    """Levels of the nodes reachable from the start, and loops among menus (as issues)."""
    children = flow.menu_children()
    levels: dict[str, int] = {}
    parents: dict[str, list[str]] = {}
    issues: list[FlowIssue] = []
    on_way: list[str] = []

    def visit(node_id: str, level: int) -> None:
        if node_id in on_way:
            loop = " -> ".join([*on_way[on_way.index(node_id) :], node_id])
            issues.append(
                FlowIssue(node_id, f"menus loop ({loop}); use the root or back key instead")
            )
            return
        if levels.get(node_id, 0) >= level:
            return
        levels[node_id] = level
        on_way.append(node_id)
        for child in children.get(node_id, []):
            if child in flow.nodes:
                if node_id not in parents.setdefault(child, []):
                    parents[child].append(node_id)
                visit(child, level + 1)
        on_way.pop()

    if flow.start in flow.nodes:
        visit(flow.start, 1)
    return FlowShape(levels, parents), issues


def check_structure(flow: Flow, *, known_queues: Collection[str] | None = None) -> list[FlowIssue]:
    issues: list[FlowIssue] = []
    keys = flow.keys
    for node_id in flow.nodes:
        if not NODE_ID.fullmatch(node_id):
            issues.append(
                FlowIssue(node_id, "node ids are lower-case letters, digits and _ (at most 32)")
            )
    start = flow.nodes.get(flow.start)
    if start is None:
        issues.append(FlowIssue(None, f"start: there is no node {flow.start!r}"))
    elif not isinstance(start, MenuNode):
        issues.append(FlowIssue(flow.start, "the start node must be a menu"))

    for node_id, node in flow.nodes.items():
        if isinstance(node, MenuNode):
            issues.extend(_menu_issues(flow, node_id, node))
        if isinstance(node, OutagesNode):
            issues.extend(_choice_issues(node_id, node.localities, keys, "localities"))
    issues.extend(_level_issues(flow))
    issues.extend(_queue_issues(flow, known_queues))
    issues.extend(_prompt_issues(flow))
    return issues


def _choice_issues(
    node_id: str, choices: Mapping[str, str], keys: Keys, what: str
) -> Iterator[FlowIssue]:
    if len(choices) > MAX_OPTIONS:
        yield FlowIssue(
            node_id,
            f"{what}: {len(choices)} choices on one level; the standard allows at most "
            f"{MAX_OPTIONS}",
        )
    for key in choices:
        if len(key) != 1 or key not in OPTION_KEYS:
            yield FlowIssue(node_id, f"{what}: key {key!r} must be one digit 0-9")
        elif key in keys.navigation:
            yield FlowIssue(node_id, f"{what}: key {key!r} is taken by the back/root/operator keys")


def _menu_issues(flow: Flow, node_id: str, node: MenuNode) -> Iterator[FlowIssue]:
    yield from _choice_issues(node_id, node.options, flow.keys, "options")
    if not node.options:
        yield FlowIssue(node_id, "a menu needs at least one option")
    for key, target in node.options.items():
        if target not in flow.nodes:
            yield FlowIssue(node_id, f"option {key}: there is no node {target!r}")
        elif target == flow.start:
            yield FlowIssue(
                node_id, f"option {key} leads to the root menu; the {flow.keys.root} key does that"
            )


def _level_issues(flow: Flow) -> Iterator[FlowIssue]:
    shape, loops = shape_of(flow)
    yield from loops
    for node_id, node in flow.nodes.items():
        level = shape.levels.get(node_id)
        if level is None:
            if flow.start in flow.nodes:
                yield FlowIssue(node_id, f"not reachable from the start menu {flow.start!r}")
            continue
        limit = MAX_LEVELS + 1 if isinstance(node, OperatorNode) else MAX_LEVELS
        if level > limit:
            yield FlowIssue(
                node_id,
                f"is on level {level}; the standard allows {MAX_LEVELS} menu levels with the "
                f"operator as level {MAX_LEVELS + 1}",
            )


def _queue_issues(flow: Flow, known_queues: Collection[str] | None) -> Iterator[FlowIssue]:
    if known_queues is None:
        return
    known = sorted(known_queues)
    if flow.operator.queue not in known_queues:
        yield FlowIssue(
            None, f"operator.queue: no queue {flow.operator.queue!r} (known: {', '.join(known)})"
        )
    for node_id, node in flow.nodes.items():
        if node.queue is not None and node.queue not in known_queues:
            yield FlowIssue(node_id, f"queue: no queue {node.queue!r} (known: {', '.join(known)})")


def _prompt_issues(flow: Flow) -> Iterator[FlowIssue]:
    used_keys = set(COMMON_PROMPTS)
    for node in flow.nodes.values():
        used_keys.update(node.required_prompts())
    for key in flow.prompts:
        if not key.endswith("_prompt"):
            yield FlowIssue(None, f"prompts.{key}: shared prompt names end in _prompt")
        elif key not in used_keys:
            yield FlowIssue(None, f"prompts.{key}: no node of this flow says a prompt by that name")
    for node_id, node in flow.nodes.items():
        for key in (*COMMON_PROMPTS, *node.required_prompts()):
            try:
                flow.prompt_text(node_id, key)
            except KeyError:
                yield FlowIssue(
                    node_id, f"needs {key}: write it on the node or under the flow's prompts:"
                )
    for owner, where, text in flow.all_prompts():
        key = where.rsplit(".", 1)[-1]
        allowed = TEMPLATE_FIELDS.get(key, frozenset())
        if not text.strip():
            yield FlowIssue(owner, f"{where} is empty")
        for name in template_fields(text):
            if name not in allowed:
                known = ", ".join(f"{{{f}}}" for f in sorted(allowed)) or "none"
                yield FlowIssue(owner, f"{where} uses {{{name}}}; fields known there: {known}")
        leftover = [m for m in _ANY_BRACE_FIELD.findall(text) if not _FIELD.fullmatch(m)]
        if leftover:
            yield FlowIssue(owner, f"{where}: {leftover[0]} is not a {{field}} name")
