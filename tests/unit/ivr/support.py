"""Helpers for the IVR tests: the shipped flow, small flows built in code, command helpers."""

from __future__ import annotations

import copy
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from callcenter.domain.ivr import (
    AskDigits,
    AskKey,
    Command,
    Handoff,
    Hangup,
    Input,
    IvrMachine,
    IvrState,
    Play,
    Run,
)
from callcenter.domain.ivr_schema import Flow, MenuNode, parse_flow

REPO = Path(__file__).resolve().parents[3]
MAIN_FLOW_FILE = REPO / "ivr_flows" / "main.yaml"
QUEUES = frozenset({"line1", "line2", "line3", "branch-overflow"})
T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def main_document() -> dict[str, Any]:
    document = yaml.safe_load(MAIN_FLOW_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def main_flow() -> Flow:
    return parse_flow(main_document(), known_queues=QUEUES)


SHARED_PROMPTS = {
    "invalid_prompt": "Такого пункта нет.",
    "entry_invalid_prompt": "Номер введён неверно.",
    "transfer_prompt": "Соединяю с оператором.",
    "error_prompt": "Сервис недоступен.",
    "more_prompt": "Главное меню — решётка.",
    "goodbye_prompt": "До свидания.",
}


def menu(prompt: str, options: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"type": "menu", "prompt": prompt, "options": options, **extra}


def operator(queue: str = "line1", **extra: Any) -> dict[str, Any]:
    return {"type": "operator", "queue": queue, **extra}


def small_document(nodes: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A minimal valid flow document around `nodes` (the start node is `main`)."""
    document: dict[str, Any] = {
        "name": "small",
        "start": "main",
        "notice_version": "t1",
        "greeting_prompt": "Здравствуйте.",
        "notice_prompt": "Разговор записывается.",
        "prompts": dict(SHARED_PROMPTS),
        "nodes": nodes,
    }
    document.update(copy.deepcopy(extra))
    return document


def chain_of_menus(levels: int) -> dict[str, dict[str, Any]]:
    """main -> m2 -> ... -> m<levels>, the last menu offering an operator."""
    nodes: dict[str, dict[str, Any]] = {}
    names = ["main", *[f"m{n}" for n in range(2, levels + 1)]]
    for here, deeper in zip(names, [*names[1:], "op"], strict=True):
        nodes[here] = menu(f"Уровень {here}: нажмите 1.", {"1": deeper})
    nodes["op"] = operator()
    return nodes


# --- commands ------------------------------------------------------------------------------


def waiting(commands: tuple[Command, ...]) -> Command:
    """The command the call waits on (the last one); everything before it is a Play."""
    assert commands, "the stepper gave no command"
    *before, last = commands
    assert all(isinstance(c, Play) for c in before), commands
    assert isinstance(last, AskKey | AskDigits | Run | Handoff | Hangup), commands
    return last


def said(commands: tuple[Command, ...]) -> list[str]:
    """Where each prompt said by the commands comes from, in order."""
    wheres: list[str] = []
    for command in commands:
        if isinstance(command, Play | AskKey | AskDigits):
            wheres.extend(p.where for p in command.prompts)
    return wheres


def fields_of(commands: tuple[Command, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for command in commands:
        if isinstance(command, Play | AskKey | AskDigits):
            for prompt in command.prompts:
                values.update(dict(prompt.fields))
    return values


class Walk:
    """Feeds inputs to a machine, keeping the latest state and commands."""

    def __init__(self, machine: IvrMachine, state: IvrState, commands: tuple[Command, ...]):
        self.machine = machine
        self.state = state
        self.commands = commands
        self.now = state.started_at

    def __call__(self, *events: Input) -> tuple[Command, ...]:
        for event in events:
            self.now += timedelta(seconds=3)
            self.state, self.commands = self.machine.step(self.state, event, self.now)
        return self.commands

    @property
    def last(self) -> Command:
        return waiting(self.commands)


def key_paths(flow: Flow) -> dict[str, list[str]]:
    """For every node, the shortest list of option keys that leads to it from the start."""
    paths: dict[str, list[str]] = {flow.start: []}
    queue = deque([flow.start])
    while queue:
        node_id = queue.popleft()
        node = flow.nodes[node_id]
        if isinstance(node, MenuNode):
            for key, target in sorted(node.options.items()):
                if target not in paths:
                    paths[target] = [*paths[node_id], key]
                    queue.append(target)
    return paths
