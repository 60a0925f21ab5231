"""Call scripts: question trees an operator walks with a caller (pure).

A script is stored as JSON:

    {"start": "reason",
     "nodes": {
       "reason": {"text": "Что случилось?", "param": "reason",
                  "options": [{"value": "no_power", "label": "Нет света", "next": "since"},
                              {"value": "other", "label": "Другое"}]},
       "since":  {"text": "С какого времени нет света?", "param": "outage_since"}}}

A node with `options` takes one of their values; a node without takes free text and goes
to its own `next`. A missing or null `next` ends the script. Every answer is saved under
the node's `param` in the appeal's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_FREE_ANSWER = 1000


class ScriptError(ValueError):
    """A script tree or a run through it is not valid (the message is Russian)."""


@dataclass(frozen=True, slots=True)
class ScriptOption:
    value: str
    label: str
    next: str | None


@dataclass(frozen=True, slots=True)
class ScriptNode:
    id: str
    text: str
    param: str
    options: tuple[ScriptOption, ...]
    next: str | None

    @property
    def is_choice(self) -> bool:
        return bool(self.options)

    def successors(self) -> list[str]:
        targets = [o.next for o in self.options] if self.options else [self.next]
        return [t for t in targets if t is not None]


@dataclass(frozen=True, slots=True)
class ScriptTree:
    start: str
    nodes: Mapping[str, ScriptNode]


@dataclass(frozen=True, slots=True)
class ScriptAnswer:
    node: str
    value: str


@dataclass(frozen=True, slots=True)
class ScriptRun:
    params: dict[str, str]
    path: list[str]
    next_node: str | None

    @property
    def finished(self) -> bool:
        return self.next_node is None


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}: поле «{key}» должно быть непустой строкой")
    return value.strip()


def _optional_ref(raw: Mapping[str, Any], where: str) -> str | None:
    value = raw.get("next")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ScriptError(f"{where}: «next» должно быть именем узла или null")
    return value


def _parse_node(node_id: str, raw: Any) -> ScriptNode:
    where = f"узел «{node_id}»"
    if not isinstance(raw, Mapping):
        raise ScriptError(f"{where}: ожидался объект")
    options_raw = raw.get("options") or []
    if not isinstance(options_raw, Sequence) or isinstance(options_raw, str):
        raise ScriptError(f"{where}: «options» должно быть списком")
    options = []
    for i, opt in enumerate(options_raw, start=1):
        if not isinstance(opt, Mapping):
            raise ScriptError(f"{where}, вариант {i}: ожидался объект")
        options.append(
            ScriptOption(
                value=_text(opt, "value", f"{where}, вариант {i}"),
                label=_text(opt, "label", f"{where}, вариант {i}"),
                next=_optional_ref(opt, f"{where}, вариант {i}"),
            )
        )
    values = [o.value for o in options]
    if len(set(values)) != len(values):
        raise ScriptError(f"{where}: значения вариантов повторяются")
    if options and raw.get("next") is not None:
        raise ScriptError(f"{where}: у узла с вариантами переход задаётся в каждом варианте")
    param = _text(raw, "param", where)
    if param.startswith("_"):
        # "_..." keys of the appeal's parameters are the platform's own (e.g. "_script")
        raise ScriptError(f"{where}: имя параметра не может начинаться с «_»")
    return ScriptNode(
        id=node_id,
        text=_text(raw, "text", where),
        param=param,
        options=tuple(options),
        next=None if options else _optional_ref(raw, where),
    )


def parse_tree(raw: Any) -> ScriptTree:
    """Check a stored/submitted tree and return it parsed; ScriptError says what is wrong.

    Every `next` must name a node, every node must be reachable from `start` (an orphan is
    almost always a typo) and there must be no cycle (the call would never end).
    """
    if not isinstance(raw, Mapping):
        raise ScriptError("Сценарий должен быть объектом с полями «start» и «nodes»")
    nodes_raw = raw.get("nodes")
    if not isinstance(nodes_raw, Mapping) or not nodes_raw:
        raise ScriptError("В сценарии нет ни одного узла («nodes»)")
    nodes = {str(k): _parse_node(str(k), v) for k, v in nodes_raw.items()}
    start = raw.get("start")
    if not isinstance(start, str) or start not in nodes:
        raise ScriptError("«start» должно быть именем одного из узлов")
    for node in nodes.values():
        for target in node.successors():
            if target not in nodes:
                raise ScriptError(f"узел «{node.id}»: переход к несуществующему узлу «{target}»")
    _check_acyclic_and_reachable(start, nodes)
    return ScriptTree(start=start, nodes=nodes)


def _check_acyclic_and_reachable(start: str, nodes: Mapping[str, ScriptNode]) -> None:
    # iterative depth-first search: white (unseen), grey (on the current path), black (done)
    grey: set[str] = set()
    black: set[str] = set()
    stack: list[tuple[str, int]] = [(start, 0)]
    grey.add(start)
    while stack:
        node_id, index = stack[-1]
        successors = nodes[node_id].successors()
        if index < len(successors):
            stack[-1] = (node_id, index + 1)
            target = successors[index]
            if target in grey:
                raise ScriptError(f"сценарий зацикливается на узле «{target}»")
            if target not in black:
                grey.add(target)
                stack.append((target, 0))
        else:
            grey.discard(node_id)
            black.add(node_id)
            stack.pop()
    orphans = sorted(set(nodes) - black)
    if orphans:
        raise ScriptError(f"узлы недостижимы из начала сценария: {', '.join(orphans)}")


def walk(tree: ScriptTree, answers: Sequence[ScriptAnswer]) -> ScriptRun:
    """Follow `answers` from the start; they must follow the tree's path, in order.

    A run may stop before the end (the caller hung up, the question was settled): what was
    answered is still returned, with the node that would come next.
    """
    params: dict[str, str] = {}
    path: list[str] = []
    current: str | None = tree.start
    for i, answer in enumerate(answers, start=1):
        if current is None:
            raise ScriptError(f"ответ {i}: сценарий уже закончился")
        if answer.node != current:
            raise ScriptError(
                f"ответ {i}: ожидался ответ на узел «{current}», а не «{answer.node}»"
            )
        node = tree.nodes[current]
        value = answer.value.strip()
        if node.is_choice:
            chosen = next((o for o in node.options if o.value == value), None)
            if chosen is None:
                allowed = ", ".join(o.value for o in node.options)
                raise ScriptError(f"узел «{node.id}»: допустимые ответы — {allowed}")
            current = chosen.next
        else:
            if not value:
                raise ScriptError(f"узел «{node.id}»: пустой ответ")
            if len(value) > MAX_FREE_ANSWER:
                raise ScriptError(f"узел «{node.id}»: ответ длиннее {MAX_FREE_ANSWER} символов")
            current = node.next
        params[node.param] = value
        path.append(node.id)
    return ScriptRun(params=params, path=path, next_node=current)
