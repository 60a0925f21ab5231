"""Message templates of auto-informing: one text for the voice, the SMS and the e-mail.

A template is Russian text with placeholders filled from a contact's values:

    "Уважаемый {name}! Задолженность {debt:money}. Отключение {date:date} с {from:time}.
     Заявка № {application}."

`{field}` inserts the value as it is; `{field:kind}` checks and writes it in the form the
Russian voice reads correctly (speech/numbers_ru words every number when the prompt is
rendered) and a person reads naturally in an SMS:

    money   1234.5 / "1 234,50"      -> "1234,50 руб."   (said: "... рублей пятьдесят копеек")
    date    2026-03-15 / 15.03.2026  -> "15.03.2026"
    time    9:05 / 09:05             -> "09:05"
    number  an integer               -> "42"
    text    anything (the default)

Pure: no I/O. Errors are Russian (they are shown to the supervisor per CSV row).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum

MAX_TEMPLATE_CHARS = 1000
MAX_VALUE_CHARS = 200
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ValueKind(StrEnum):
    TEXT = "text"
    MONEY = "money"
    DATE = "date"
    TIME = "time"
    NUMBER = "number"


class TemplateError(ValueError):
    """The template or a value cannot be used (the message is Russian)."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    kind: ValueKind


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    text: str
    placeholders: tuple[Placeholder, ...]

    @property
    def fields(self) -> dict[str, ValueKind]:
        return {p.name: p.kind for p in self.placeholders}

    @classmethod
    def parse(cls, text: str) -> MessageTemplate:
        if not text.strip():
            raise TemplateError("текст сообщения пустой")
        if len(text) > MAX_TEMPLATE_CHARS:
            raise TemplateError(f"текст сообщения длиннее {MAX_TEMPLATE_CHARS} символов")
        if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
            raise TemplateError("непарная фигурная скобка в тексте сообщения")
        found: dict[str, ValueKind] = {}
        for match in _PLACEHOLDER.finditer(text):
            name, _, kind_text = match.group(1).strip().partition(":")
            name = name.strip()
            if not _FIELD.fullmatch(name):
                raise TemplateError(
                    f"«{{{match.group(1)}}}»: имя поля — латинские буквы, цифры и _"
                )
            try:
                kind = ValueKind(kind_text.strip() or "text")
            except ValueError:
                kinds = ", ".join(k.value for k in ValueKind)
                raise TemplateError(
                    f"«{{{match.group(1)}}}»: неизвестный тип «{kind_text}» (можно: {kinds})"
                ) from None
            if found.get(name, kind) is not kind:
                raise TemplateError(f"поле «{name}» указано с разными типами")
            found[name] = kind
        return cls(text, tuple(Placeholder(n, k) for n, k in found.items()))

    def check(self, values: Mapping[str, object]) -> list[str]:
        """Every problem with `values` for this template (empty when it can be filled)."""
        problems = []
        for placeholder in self.placeholders:
            try:
                format_value(placeholder, values.get(placeholder.name))
            except TemplateError as exc:
                problems.append(str(exc))
        return problems

    def render(self, values: Mapping[str, object]) -> str:
        problems = self.check(values)
        if problems:
            raise TemplateError("; ".join(problems))
        fields = self.fields

        def fill(match: re.Match[str]) -> str:
            name = match.group(1).partition(":")[0].strip()
            value = format_value(Placeholder(name, fields[name]), values.get(name))
            if value.endswith(".") and self.text.startswith(".", match.end()):
                value = value[:-1]  # "{debt:money}." is "... руб.", not "... руб.."
            return value

        return " ".join(_PLACEHOLDER.sub(fill, self.text).split())


def format_value(placeholder: Placeholder, raw: object) -> str:
    name = placeholder.name
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise TemplateError(f"нет значения поля «{name}»")
    kind = placeholder.kind
    if kind is ValueKind.MONEY:
        return f"{_money(raw, name)} руб."
    if kind is ValueKind.DATE:
        return _date(raw, name).strftime("%d.%m.%Y")
    if kind is ValueKind.TIME:
        return _time(raw, name).strftime("%H:%M")
    if kind is ValueKind.NUMBER:
        return str(_integer(raw, name))
    text = _CONTROL.sub(" ", str(raw)).strip()
    if len(text) > MAX_VALUE_CHARS:
        raise TemplateError(f"поле «{name}» длиннее {MAX_VALUE_CHARS} символов")
    # braces in a value must not look like placeholders to a later pass
    return text.replace("{", "(").replace("}", ")")


def _money(raw: object, name: str) -> str:
    if isinstance(raw, bool):
        raise TemplateError(f"поле «{name}»: «{raw}» — не сумма")
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise TemplateError(f"поле «{name}»: «{raw}» — не сумма в рублях") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
        raise TemplateError(f"поле «{name}»: сумма «{raw}» вне допустимых пределов")
    return f"{amount.quantize(Decimal('0.01')):f}".replace(".", ",")


def _date(raw: object, name: str) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no zone
        except ValueError:
            continue
    raise TemplateError(f"поле «{name}»: «{raw}» — не дата (ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)")


def _time(raw: object, name: str) -> time:
    if isinstance(raw, time):
        return raw
    match = re.fullmatch(r"\s*(\d{1,2})[:.](\d{2})\s*", str(raw))
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise TemplateError(f"поле «{name}»: «{raw}» — не время (ЧЧ:ММ)")


def _integer(raw: object, name: str) -> int:
    if isinstance(raw, bool):
        raise TemplateError(f"поле «{name}»: «{raw}» — не целое число")
    if isinstance(raw, int):
        return raw
    text = str(raw).strip().replace(" ", "")
    if re.fullmatch(r"-?\d{1,15}", text):
        return int(text)
    raise TemplateError(f"поле «{name}»: «{raw}» — не целое число")
