"""A small reader for Asterisk's .conf format, and its own tests.

Enough of the format to check the shipped configuration the way Asterisk reads it:
`[section]`, templates `[name](!)`, inheritance `[name](tpl1,tpl2)` (inherited settings come
first, as in Asterisk), `key = value` and `key => value`, `;` comments (`\\;` is a literal
semicolon), `;-- block --;` comments, `#include` / `#tryinclude` lines; and for
extensions.conf, `exten => X,prio[(label)],App(args)` with `same => n[(label)],App(args)`.
Used by test_asterisk_conf*.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest


class ConfSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    line: int


@dataclass
class Section:
    name: str
    line: int
    template: bool = False
    inherits: tuple[str, ...] = ()
    settings: list[Setting] = field(default_factory=list)


@dataclass
class ConfFile:
    name: str
    sections: list[Section]
    includes: list[str]

    def real_sections(self) -> list[Section]:
        return [s for s in self.sections if not s.template]

    def section(self, name: str) -> Section:
        found = [s for s in self.real_sections() if s.name == name]
        if not found:
            raise KeyError(f"{self.name}: no section [{name}]")
        return found[0]

    def resolved(self, name: str) -> list[Setting]:
        """The section's settings after template inheritance, in Asterisk's order."""
        return self._resolve(self.section(name))

    def _resolve(self, section: Section) -> list[Setting]:
        out: list[Setting] = []
        for parent in section.inherits:
            candidates = [s for s in self.sections if s.name == parent]
            if not candidates:
                raise KeyError(f"{self.name}: [{section.name}] inherits unknown [{parent}]")
            out.extend(self._resolve(candidates[0]))
        return out + section.settings

    def values(self, section: str, key: str) -> list[str]:
        return [s.value for s in self.resolved(section) if s.key.lower() == key.lower()]

    def get(self, section: str, key: str) -> str | None:
        """The last value, which is what most modules end up using."""
        found = self.values(section, key)
        return found[-1] if found else None


_HEADER = re.compile(r"\[([^\]]+)\](?:\(([^)]*)\))?")


def _strip_comment(line: str) -> str:
    out = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out)


def parse_conf(text: str, *, name: str = "<text>") -> ConfFile:
    sections: list[Section] = []
    includes: list[str] = []
    in_block = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw
        if in_block:
            if "--;" not in line:
                continue
            line = line.split("--;", 1)[1]
            in_block = False
        if ";--" in line and "\\;--" not in line:
            before, after = line.split(";--", 1)
            if "--;" in after:
                line = before + after.split("--;", 1)[1]
            else:
                line, in_block = before, True
        line = _strip_comment(line).strip()
        if not line:
            continue
        if line.startswith("#"):
            directive, _, arg = line.partition(" ")
            if directive not in {"#include", "#tryinclude"}:
                raise ConfSyntaxError(f"{name}:{lineno}: unsupported directive {directive}")
            includes.append(arg.strip().strip('"'))
            continue
        header = _HEADER.fullmatch(line)
        if header:
            options = [o.strip() for o in (header.group(2) or "").split(",") if o.strip()]
            sections.append(
                Section(
                    name=header.group(1).strip(),
                    line=lineno,
                    template="!" in options,
                    inherits=tuple(o for o in options if o not in {"!", "+"}),
                )
            )
            continue
        if "=" not in line:
            raise ConfSyntaxError(f"{name}:{lineno}: no '=' in {raw!r}")
        if not sections:
            raise ConfSyntaxError(f"{name}:{lineno}: setting before any [section]")
        key, _, value = line.partition("=")
        value = value.removeprefix(">")
        sections[-1].settings.append(Setting(key.strip(), value.strip(), lineno))
    if in_block:
        raise ConfSyntaxError(f"{name}: unterminated ;-- block comment")
    return ConfFile(name, sections, includes)


# --- extensions.conf -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    context: str
    exten: str
    priority: int
    label: str | None
    app: str
    args: str
    line: int

    @property
    def is_pattern(self) -> bool:
        return self.exten.startswith("_")


@dataclass
class Context:
    name: str
    extens: dict[str, list[Step]] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)

    def steps(self) -> list[Step]:
        return [step for steps in self.extens.values() for step in steps]


_PRIORITY = re.compile(r"(?P<prio>\d+|n|hint)(?:\((?P<label>[^)]*)\))?")


def split_app(text: str) -> tuple[str, str]:
    """`App(args)` -> (App, args): args run to the last `)`, as pbx_config reads them."""
    text = text.strip()
    if "(" not in text:
        return text, ""
    app, _, rest = text.partition("(")
    end = rest.rfind(")")
    return app.strip(), rest[:end] if end >= 0 else rest


def parse_dialplan(conf: ConfFile) -> dict[str, Context]:
    contexts: dict[str, Context] = {}
    for section in conf.real_sections():
        if section.name in {"general", "globals"}:
            continue
        ctx = contexts.setdefault(section.name, Context(section.name))
        last_exten: str | None = None
        last_prio = 0
        for setting in section.settings:
            key = setting.key.lower()
            if key == "include":
                ctx.includes.append(setting.value)
                continue
            if key == "exten":
                exten, _, rest = setting.value.partition(",")
                exten = exten.strip()
            elif key == "same":
                if last_exten is None:
                    raise ConfSyntaxError(f"line {setting.line}: 'same' before any 'exten'")
                exten, rest = last_exten, setting.value
            else:
                raise ConfSyntaxError(f"line {setting.line}: unknown dialplan key {setting.key}")
            prio_text, _, app_text = rest.partition(",")
            match = _PRIORITY.fullmatch(prio_text.strip())
            if match is None:
                raise ConfSyntaxError(f"line {setting.line}: bad priority {prio_text!r}")
            if match.group("prio") == "hint":
                continue
            if match.group("prio") == "n":
                if exten != last_exten:
                    raise ConfSyntaxError(f"line {setting.line}: 'n' starts extension {exten}")
                prio = last_prio + 1
            else:
                prio = int(match.group("prio"))
                if key == "exten" and exten in ctx.extens and prio == 1:
                    raise ConfSyntaxError(f"line {setting.line}: extension {exten} defined twice")
            app, args = split_app(app_text)
            step = Step(ctx.name, exten, prio, match.group("label"), app, args, setting.line)
            ctx.extens.setdefault(exten, []).append(step)
            last_exten, last_prio = exten, prio
    return contexts


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 1
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            end = pattern.index("]", i)
            out.append("[" + pattern[i + 1 : end].replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        upper = ch.upper()
        if upper == "X":
            out.append("[0-9]")
        elif upper == "Z":
            out.append("[1-9]")
        elif upper == "N":
            out.append("[2-9]")
        elif ch == ".":
            out.append(".+")
        elif ch == "!":
            out.append(".*")
        elif ch != "-":  # dashes are only eye candy in extensions
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out))


def exten_matches(exten: str, dialled: str) -> bool:
    """Does extension `exten` (literal or `_pattern`) match the dialled string?"""
    dialled = dialled.replace("-", "")
    if exten.startswith("_"):
        return _pattern_regex(exten).fullmatch(dialled) is not None
    return exten.replace("-", "") == dialled


def expand_filter_set(spec: str) -> set[str]:
    """The characters FILTER(<spec>,...) keeps, read the way func_strings.c reads them."""

    def one(at: int) -> tuple[str, int]:
        if spec.startswith("\\x", at):
            digits = re.match(r"[0-9A-Fa-f]{1,2}", spec[at + 2 :])
            assert digits is not None, spec
            return chr(int(digits.group(), 16)), 2 + len(digits.group())
        return spec[at], 1

    allowed: set[str] = set()
    i = 0
    while i < len(spec):
        first, used = one(i)
        i += used
        if i < len(spec) and spec[i] == "-" and i + 1 < len(spec):
            last, used = one(i + 1)
            i += used + 1
            allowed.update(chr(c) for c in range(ord(first), ord(last) + 1))
        else:
            allowed.add(first)
    return allowed


# --- the reader's own tests --------------------------------------------------------------


def test_sections_templates_and_inheritance_read_like_asterisk() -> None:
    conf = parse_conf(
        "[general]\nkey = 1 ; comment\n[tpl](!)\na => x\nb = y\\;z\n[real](tpl)\na = own\n"
    )
    assert [s.name for s in conf.real_sections()] == ["general", "real"]
    assert conf.values("real", "a") == ["x", "own"]
    assert conf.get("real", "b") == "y;z"
    assert conf.get("general", "key") == "1"


def test_block_comments_and_includes() -> None:
    conf = parse_conf("[a]\n;-- gone\nstill = gone --;\nkept = 1\n#tryinclude site.conf\n")
    assert conf.get("a", "kept") == "1"
    assert conf.get("a", "still") is None
    assert conf.includes == ["site.conf"]


def test_a_line_without_equals_is_an_error() -> None:
    with pytest.raises(ConfSyntaxError, match="no '='"):
        parse_conf("[a]\nnonsense\n")


def test_dialplan_steps_labels_and_same_lines() -> None:
    conf = parse_conf(
        "[globals]\nX = 1\n[ctx]\nexten => s,1,NoOp(a,b)\n same => n(lbl),Set(Y=${X})\n"
        "exten => _9XX,1,Goto(ctx,s,lbl)\ninclude => other\n"
    )
    ctx = parse_dialplan(conf)["ctx"]
    assert [(s.priority, s.label, s.app, s.args) for s in ctx.extens["s"]] == [
        (1, None, "NoOp", "a,b"),
        (2, "lbl", "Set", "Y=${X}"),
    ]
    assert ctx.includes == ["other"]
    assert ctx.extens["_9XX"][0].is_pattern


def test_pattern_matching_follows_asterisk_rules() -> None:
    assert exten_matches("_X.", "101")
    assert not exten_matches("_X.", "1")
    assert exten_matches("_[1-7]XX", "101")
    assert not exten_matches("_[1-7]XX", "801")
    assert exten_matches("_+7XXXXXXXXXX", "+79161234567")
    assert exten_matches("branch-overflow", "branchoverflow")
    assert exten_matches("_*1X.", "*1101")


def test_filter_sets_read_like_func_strings() -> None:
    assert expand_filter_set("-0-9A-Fa-f") == set("-0123456789ABCDEFabcdef")
    assert expand_filter_set("+0-9") == set("+0123456789")
    assert expand_filter_set("a \\x80-\\x81") == {"a", " ", "\x80", "\x81"}
