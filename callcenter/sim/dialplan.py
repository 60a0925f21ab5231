"""A small dialplan: contexts, extensions, priorities, `${VAR}` and `$[...]` expressions.

The simulator runs every channel through a dialplan, as Asterisk does, so Newexten and VarSet
events come out with the same Context/Exten/Priority/Application/AppData as on a real PBX.
Dialplans are written in extensions.conf syntax (`exten => 101,1,NoOp(x)` / `same => n,...`)
and parsed by `parse_extensions`; contexts may also resolve unknown extensions on the fly
(`Dialplan.add_resolver`), which is how scripted callers, operators and called parties appear.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


class DialplanError(ValueError):
    pass


@dataclass(frozen=True)
class AmdVerdict:
    """What AMD() concludes about a called party, and after how long."""

    status: str  # HUMAN / MACHINE / NOTSURE / HANGUP
    cause: str  # e.g. HUMAN-800-800, LONGGREETING-1500-1500
    seconds: float


@dataclass(frozen=True)
class Step:
    app: str
    data: str = ""
    label: str | None = None


@dataclass
class Extension:
    name: str
    steps: list[Step] = field(default_factory=list)
    amd: AmdVerdict | None = None  # set for called parties, read by AMD() on the other side

    def step(self, priority: int) -> Step | None:
        if 1 <= priority <= len(self.steps):
            return self.steps[priority - 1]
        return None

    def priority_of(self, label: str) -> int | None:
        if label.isdigit():
            return int(label)
        for index, step in enumerate(self.steps, start=1):
            if step.label == label:
                return index
        return None


Resolver = Callable[[str], Extension | None]


class Dialplan:
    def __init__(self) -> None:
        self.contexts: dict[str, dict[str, Extension]] = {}
        self._resolvers: dict[str, Resolver] = {}

    def add(self, context: str, extension: Extension) -> None:
        self.contexts.setdefault(context, {})[extension.name] = extension

    def add_resolver(self, context: str, resolver: Resolver) -> None:
        """Extensions of `context` not defined statically are asked from `resolver`."""
        self._resolvers[context] = resolver
        self.contexts.setdefault(context, {})

    def find(self, context: str, exten: str) -> Extension | None:
        found = self.contexts.get(context, {}).get(exten)
        if found is not None:
            return found
        resolver = self._resolvers.get(context)
        return resolver(exten) if resolver is not None else None

    def exists(self, context: str, exten: str, priority: int = 1) -> bool:
        ext = self.find(context, exten)
        return ext is not None and ext.step(priority) is not None

    def merge(self, other: Dialplan) -> Dialplan:
        """A new dialplan: this one with `other`'s extensions and resolvers added on top."""
        merged = Dialplan()
        for source in (self, other):
            for context, extens in source.contexts.items():
                for ext in extens.values():
                    merged.add(context, ext)
            for context, resolver in source._resolvers.items():
                merged.add_resolver(context, resolver)
        return merged


_LINE = re.compile(r"^(exten|same)\s*=>\s*(.*)$", re.IGNORECASE)


def parse_extensions(text: str) -> Dialplan:
    """Parse extensions.conf text (the subset the lab and the platform use)."""
    plan = Dialplan()
    context: str | None = None
    current: Extension | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            context = line[1:-1].strip()
            current = None
            if context != "general":
                plan.contexts.setdefault(context, {})
            continue
        if context is None or context == "general":
            continue
        match = _LINE.match(line)
        if match is None:
            raise DialplanError(f"line {lineno}: cannot parse {raw!r}")
        kind, rest = match.group(1).lower(), match.group(2)
        if kind == "exten":
            name, _, rest = rest.partition(",")
            name = name.strip()
            existing = plan.contexts[context].get(name)
            current = existing if existing is not None else Extension(name)
            plan.add(context, current)
        elif current is None:
            raise DialplanError(f"line {lineno}: 'same =>' before any 'exten =>'")
        priority, _, call = rest.partition(",")
        priority = priority.strip()
        label = None
        label_match = re.fullmatch(r"(\w+)\((\w+)\)", priority)
        if label_match:
            priority, label = label_match.group(1), label_match.group(2)
        expected = len(current.steps) + 1
        if priority not in ("n", str(expected)):
            raise DialplanError(f"line {lineno}: priority {priority} out of sequence")
        app, data = _split_call(call.strip())
        current.steps.append(Step(app, data, label))
    return plan


def _strip_comment(line: str) -> str:
    out = []
    escaped = False
    for ch in line:
        if ch == ";" and not escaped:
            break
        escaped = ch == "\\"
        out.append(ch)
    return "".join(out)


def _split_call(call: str) -> tuple[str, str]:
    if "(" not in call:
        return call, ""
    app, _, rest = call.partition("(")
    if not rest.endswith(")"):
        raise DialplanError(f"unbalanced parentheses in {call!r}")
    return app.strip(), rest[:-1]


# --- variable substitution ----------------------------------------------------------------

Lookup = Callable[[str], str | None]


def substitute(text: str, lookup: Lookup) -> str:
    """Expand `${...}` (innermost first) then `$[...]` in `text`, as pbx_substitute_variables."""
    out = text
    for _ in range(64):  # nesting depth guard
        start = _innermost(out, "${", "}")
        if start is None:
            break
        begin, end = start
        name = out[begin + 2 : end]
        value = lookup(name)
        out = out[:begin] + ("" if value is None else value) + out[end + 1 :]
    return expand_expressions(out)


def expand_expressions(text: str) -> str:
    """Replace each `$[...]` (innermost first) by its value."""
    out = text
    for _ in range(64):
        start = _innermost(out, "$[", "]")
        if start is None:
            break
        begin, end = start
        out = out[:begin] + evaluate(out[begin + 2 : end]) + out[end + 1 :]
    return out


def _innermost(text: str, opener: str, closer: str) -> tuple[int, int] | None:
    """Position of the last-opened `opener` and its matching `closer`."""
    begin = text.rfind(opener)
    if begin < 0:
        return None
    depth = 0
    for index in range(begin + len(opener), len(text)):
        ch = text[index]
        if ch in "[{(":
            depth += 1
        elif ch == closer and depth == 0:
            return begin, index
        elif ch in "]})":
            depth -= 1
    return None


def variable_lookup(variables: Mapping[str, str], builtins: Mapping[str, str]) -> Lookup:
    """Resolve names the way the simulator's channels need: functions, builtins, variables."""

    def lookup(name: str) -> str | None:
        name = name.strip()
        func = re.fullmatch(r"(\w+)\((.*)\)", name)
        if func:
            return _function(func.group(1).upper(), func.group(2), variables, builtins)
        if name in variables:
            return variables[name]
        return builtins.get(name)

    return lookup


def _function(
    name: str, arg: str, variables: Mapping[str, str], builtins: Mapping[str, str]
) -> str | None:
    if name == "CALLERID":
        key = {"num": "CALLERID(num)", "name": "CALLERID(name)"}.get(arg.strip().lower())
        return builtins.get(key) if key else None
    if name == "LEN":
        return str(len(arg))
    if name == "IF":
        cond, _, branches = arg.partition("?")
        yes, _, no = branches.partition(":")
        return yes if is_true(evaluate(expand_expressions(cond))) else no
    if name == "EXISTS":
        return "1" if arg else "0"
    if name == "UUID":  # func_uuid (Asterisk 20.12 / 22.2 and later)
        return str(uuid.uuid4())
    return None


# --- $[...] expressions -------------------------------------------------------------------

_TOKEN = re.compile(r'\s*("(?:[^"\\]|\\.)*"|!=|<=|>=|==|[=<>&|()]|[^\s=<>&|()!]+|!)')


def is_true(value: str) -> bool:
    value = value.strip().strip('"')
    return value not in ("", "0")


def evaluate(expression: str) -> str:
    """Evaluate an Asterisk `$[...]` expression: comparisons, `&`, `|`, parentheses."""
    tokens = [t for t in _TOKEN.findall(expression) if t.strip()]
    parser = _ExprParser(tokens)
    value = parser.parse_or()
    return value


class _ExprParser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse_or(self) -> str:
        left = self.parse_and()
        while self._peek() == "|":
            self._take()
            right = self.parse_and()
            left = left if is_true(left) else right
        return left

    def parse_and(self) -> str:
        left = self.parse_cmp()
        while self._peek() == "&":
            self._take()
            right = self.parse_cmp()
            left = left if is_true(left) and is_true(right) else "0"
        return left

    def parse_cmp(self) -> str:
        left = self.parse_atom()
        op = self._peek()
        if op in ("=", "==", "!=", "<", ">", "<=", ">="):
            self._take()
            right = self.parse_atom()
            return "1" if _compare(left, right, op) else "0"
        return left

    def parse_atom(self) -> str:
        token = self._peek()
        if token is None:
            return ""
        self._take()
        if token == "(":
            value = self.parse_or()
            if self._peek() == ")":
                self._take()
            return value
        if token == "!":
            return "0" if is_true(self.parse_atom()) else "1"
        if token.startswith('"') and token.endswith('"') and len(token) >= 2:
            return token[1:-1]
        return token


def _compare(left: str, right: str, op: str) -> bool:
    try:
        a: float | str = float(left)
        b: float | str = float(right)
    except ValueError:
        a, b = left, right
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if isinstance(a, float) and isinstance(b, float):
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    sa, sb = str(a), str(b)
    return {"<": sa < sb, ">": sa > sb, "<=": sa <= sb, ">=": sa >= sb}[op]
