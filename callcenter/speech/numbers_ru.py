"""Russian wording of numbers for the speech synthesiser, and Russian number words back to digits.

Pure functions, no I/O. num2words supplies the numeral word forms (cardinals and ordinals in
every case and gender) and the one/few/many plural choice; what no library does is written here:
noun agreement for the units the utility speaks (рубль, копейка, кВт·ч, час, минута...), dates,
times, phone numbers read in groups, account numbers read digit by digit, a normaliser that words
the numbers inside free text, and the parser that turns recognised number words into digits.

Cases are num2words' letters: n nominative, g genitive, d dative, a accusative, i instrumental,
p prepositional. Every unit here is inanimate, so numerals are worded as inanimate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Final, Literal

import phonenumbers
from num2words import CONVERTER_CLASSES, num2words

Case = Literal["n", "g", "d", "a", "i", "p"]
Gender = Literal["m", "f", "n"]

_CASES: Final[tuple[Case, ...]] = ("n", "g", "d", "a", "i", "p")
_RU = CONVERTER_CLASSES["ru"]


# --- numerals -----------------------------------------------------------------------------------


def cardinal(number: int, *, gender: Gender = "m", case: Case = "n") -> str:
    """`21, gender="f"` -> "двадцать одна"; `5, case="g"` -> "пяти"."""
    if number < 0:
        return f"минус {cardinal(-number, gender=gender, case=case)}"
    if gender == "m" or number < 1000:
        return _n2w(number, gender=gender, case=case)
    # num2words puts a feminine/neuter gender on the millions too ("одна миллион"):
    # only the last three digits agree with the noun, so word the rest as masculine.
    head, tail = number - number % 1000, number % 1000
    words = _n2w(head, gender="m", case=case)
    return f"{words} {_n2w(tail, gender=gender, case=case)}" if tail else words


def ordinal(number: int, *, gender: Gender = "m", case: Case = "n") -> str:
    """`3` -> "третий"; `15, gender="n", case="g"` -> "пятнадцатого"."""
    if number < 0:
        raise ValueError(f"no ordinal for a negative number: {number}")
    return str(num2words(number, lang="ru", to="ordinal", gender=gender, case=case, animate=False))


def decimal_number(value: Decimal | int | str) -> str:
    """`Decimal("12.5")` -> "двенадцать целых пять десятых"; whole values are plain cardinals."""
    amount = _as_decimal(value)
    if amount == amount.to_integral_value():
        return cardinal(int(amount))
    text = format(amount.normalize(), "f")
    return str(num2words(text, lang="ru"))


def _n2w(number: int, *, gender: Gender, case: Case) -> str:
    return str(num2words(number, lang="ru", gender=gender, case=case, animate=False))


def _as_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = Decimal(re.sub(r"\s", "", str(value)).replace(",", "."))
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return amount


# --- nouns counted by numbers --------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A counted noun: its gender, its singular and plural forms in the cases n g d a i p."""

    gender: Gender
    singular: tuple[str, str, str, str, str, str]
    plural: tuple[str, str, str, str, str, str]

    def form(self, number: int, case: Case = "n") -> str:
        """The form that agrees with `number`: 1 рубль, 2 рубля, 5 рублей; (g) 1 рубля, 5 рублей."""
        kind = _RU.pluralize(abs(number), ("one", "few", "many"))
        index = _CASES.index(case)
        if kind == "one":
            return self.singular[index]
        if case in ("n", "a"):
            # after 2-4 the noun is genitive singular, after 5-20 genitive plural
            return self.singular[1] if kind == "few" else self.plural[1]
        return self.plural[index]

    def fraction_form(self) -> str:
        """After a fraction the noun is genitive singular: 2,5 киловатт-часа."""
        return self.singular[1]


RUBLE = Unit(
    "m",
    ("рубль", "рубля", "рублю", "рубль", "рублём", "рубле"),
    ("рубли", "рублей", "рублям", "рубли", "рублями", "рублях"),
)
KOPECK = Unit(
    "f",
    ("копейка", "копейки", "копейке", "копейку", "копейкой", "копейке"),
    ("копейки", "копеек", "копейкам", "копейки", "копейками", "копейках"),
)
KILOWATT_HOUR = Unit(
    "m",
    ("киловатт-час", "киловатт-часа", "киловатт-часу", "киловатт-час", "киловатт-часом",
     "киловатт-часе"),
    ("киловатт-часы", "киловатт-часов", "киловатт-часам", "киловатт-часы", "киловатт-часами",
     "киловатт-часах"),
)  # fmt: skip
KILOWATT = Unit(
    "m",
    ("киловатт", "киловатта", "киловатту", "киловатт", "киловаттом", "киловатте"),
    ("киловатты", "киловатт", "киловаттам", "киловатты", "киловаттами", "киловаттах"),
)
HOUR = Unit(
    "m",
    ("час", "часа", "часу", "час", "часом", "часе"),
    ("часы", "часов", "часам", "часы", "часами", "часах"),
)
MINUTE = Unit(
    "f",
    ("минута", "минуты", "минуте", "минуту", "минутой", "минуте"),
    ("минуты", "минут", "минутам", "минуты", "минутами", "минутах"),
)
SECOND = Unit(
    "f",
    ("секунда", "секунды", "секунде", "секунду", "секундой", "секунде"),
    ("секунды", "секунд", "секундам", "секунды", "секундами", "секундах"),
)
DAY = Unit(
    "m",
    ("день", "дня", "дню", "день", "днём", "дне"),
    ("дни", "дней", "дням", "дни", "днями", "днях"),
)
PERCENT = Unit(
    "m",
    ("процент", "процента", "проценту", "процент", "процентом", "проценте"),
    ("проценты", "процентов", "процентам", "проценты", "процентами", "процентах"),
)
# Nouns the normaliser recognises when written out after a number ("1 минута" -> "одна минута").
COUNTED_NOUNS: Final[tuple[Unit, ...]] = (RUBLE, KOPECK, HOUR, MINUTE, SECOND, DAY, PERCENT)


def quantity(value: Decimal | int | str, unit: Unit, *, case: Case = "n") -> str:
    """`21, MINUTE` -> "двадцать одна минута"; `"2,5", KILOWATT_HOUR` -> "... киловатт-часа"."""
    amount = _as_decimal(value)
    if amount == amount.to_integral_value():
        number = int(amount)
        return f"{cardinal(number, gender=unit.gender, case=case)} {unit.form(number, case)}"
    # fractions are worded in the nominative only: oblique fractions are rare and clumsy on a phone
    return f"{decimal_number(amount)} {unit.fraction_form()}"


def money(amount: Decimal | int | str, *, case: Case = "n") -> str:
    """Roubles and kopecks: `"0,01"` -> "ноль рублей одна копейка"; zero kopecks are not said."""
    value = _as_decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "минус " if value < 0 else ""
    cents = int(abs(value) * 100)
    rubles, kopecks = divmod(cents, 100)
    words = f"{cardinal(rubles, gender=RUBLE.gender, case=case)} {RUBLE.form(rubles, case)}"
    if kopecks:
        words += (
            f" {cardinal(kopecks, gender=KOPECK.gender, case=case)} {KOPECK.form(kopecks, case)}"
        )
    return sign + words


# --- dates and times ----------------------------------------------------------------------------

MONTHS_GENITIVE: Final[tuple[str, ...]] = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


def date_words(day: date, *, case: Case = "n", with_year: bool = True) -> str:
    """`date(2024, 3, 15)` -> "пятнадцатое марта две тысячи двадцать четвёртого года".

    `case` is that of the day ("до 15 марта" -> case="g" -> "пятнадцатого марта"); the month and
    the year that follow a day are always genitive.
    """
    words = f"{ordinal(day.day, gender='n', case=case)} {MONTHS_GENITIVE[day.month - 1]}"
    if with_year:
        words += f" {ordinal(day.year, case='g')} года"
    return words


def time_words(moment: time, *, case: Case = "n") -> str:
    """`time(14, 30)` -> "четырнадцать часов тридцать минут"; whole hours omit the minutes."""
    words = quantity(moment.hour, HOUR, case=case)
    if moment.minute:
        words += f" {quantity(moment.minute, MINUTE, case=case)}"
    return words


# --- phone numbers and codes --------------------------------------------------------------------

_DIGITS: Final[tuple[str, ...]] = tuple(cardinal(d) for d in range(10))
_NON_DIGITS = re.compile(r"\D+")


def digits_words(code: str) -> str:
    """Account and application numbers, digit by digit: "12-05/7" -> "один два, ноль пять дробь
    семь".

    A dash or space becomes a pause (a comma for the synthesiser), "/" is read "дробь", letters are
    kept for the synthesiser to say.
    """
    parts: list[str] = []
    for token in re.findall(r"\d|/|[\s\-_.]+|[^\d/\s\-_.]+", code.strip()):
        if token.isdigit():
            parts.append(_DIGITS[int(token)])
        elif token == "/":
            parts.append("дробь")
        elif not token.strip().strip("-_.") and parts:
            parts[-1] += ","
        else:
            parts.append(token)
    return " ".join(parts).rstrip(",")


def phone_words(number: str, *, region: str = "RU") -> str:
    """A phone number read in groups: "8 800 100-00-00" -> "восемь, восемьсот, сто, ноль ноль,
    ноль ноль".

    A number written with separators is read in the groups it is written in. An undivided one is
    grouped by the phone plan (phonenumbers): Russian numbers in their national form (8 916
    123-45-67), foreign ones in the international form (плюс 44 ...); anything else as head + pairs.
    """
    prefix = "плюс " if number.strip().startswith("+") else ""
    groups = [g for g in _NON_DIGITS.split(number) if g]
    if not groups:
        raise ValueError(f"no digits in phone number {number!r}")
    if len(groups) == 1:
        planned = _plan_groups(number, region)
        if planned is None:
            groups = _split_long_group(groups[0])
        else:
            prefix = "плюс " if planned[0] == "+" else ""
            groups = [g for g in planned if g != "+"]
    spoken = [words for group in groups for words in _phone_group(group)]
    return prefix + ", ".join(spoken)


def _plan_groups(number: str, region: str) -> list[str] | None:
    """The groups the phone plan writes `number` in ("+" first for an international form)."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.region_code_for_number(parsed) == region:
        shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return [g for g in _NON_DIGITS.split(shown) if g]
    shown = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return ["+", *(g for g in _NON_DIGITS.split(shown) if g)]


def _split_long_group(digits: str) -> list[str]:
    # the Russian habit: pairs from the right, a head of 2 or 3 digits (1234567 -> 123-45-67)
    if len(digits) <= 4:
        return [digits]  # 112, 0123: one group
    head_len = 2 if len(digits) % 2 == 0 else 3 if len(digits) >= 7 else 1
    head, rest = digits[:head_len], digits[head_len:]
    return [head, *(rest[i : i + 2] for i in range(0, len(rest), 2))]


def _phone_group(group: str) -> list[str]:
    if len(group) > 3:
        # "7183" is said as two pairs, "71834" as 718-34
        first = 3 if len(group) % 2 else 2
        return _phone_group(group[:first]) + [
            w for i in range(first, len(group), 2) for w in _phone_group(group[i : i + 2])
        ]
    if group.startswith("0") and len(group) > 1:
        return [" ".join(_DIGITS[int(d)] for d in group)]
    return [cardinal(int(group))]


# --- number words back to digits (speech recognition of meter readings) -------------------------

_WORD_VALUES: Final[dict[str, int]] = {
    "ноль": 0, "нуль": 0,
    "один": 1, "одна": 1, "одно": 1, "два": 2, "две": 2, "три": 3, "четыре": 4,
    "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9,
    "десять": 10, "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14,
    "пятнадцать": 15, "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18,
    "девятнадцать": 19,
    "двадцать": 20, "тридцать": 30, "сорок": 40, "пятьдесят": 50, "шестьдесят": 60,
    "семьдесят": 70, "восемьдесят": 80, "девяносто": 90,
    "сто": 100, "двести": 200, "триста": 300, "четыреста": 400, "пятьсот": 500,
    "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
}  # fmt: skip
_THOUSAND_WORDS: Final[frozenset[str]] = frozenset({"тысяча", "тысячи", "тысяч"})
# Every word a caller may use to say a meter reading: the recogniser's grammar.
NUMBER_WORDS: Final[tuple[str, ...]] = (*_WORD_VALUES, *sorted(_THOUSAND_WORDS))


def words_to_digits(words: str | Sequence[str]) -> str | None:
    """The digits a caller said, or None when the words are not a number.

    Both habits are understood and may be mixed: digit by digit ("три пять семь" -> "357"),
    compositional ("триста пятьдесят семь" -> "357", "две тысячи пять" -> "2005"), and groups
    ("двадцать три сорок пять" -> "2345"). Leading zeros are kept ("ноль семь" -> "07").
    """
    tokens = words.lower().replace("ё", "е").split() if isinstance(words, str) else list(words)
    if not tokens:
        return None
    out: list[str] = []
    i = 0
    while i < len(tokens):
        parsed = _parse_number(tokens, i)
        if parsed is None:
            return None
        value, i = parsed
        out.append(str(value))
    return "".join(out)


def _parse_number(tokens: Sequence[str], start: int) -> tuple[int, int] | None:
    """One number at tokens[start:]: [below-thousand] [тысяч*] [below-thousand]."""
    if tokens[start] in ("ноль", "нуль"):
        return 0, start + 1  # a zero is always its own digit
    value, i = _below_thousand(tokens, start)
    if i < len(tokens) and tokens[i] in _THOUSAND_WORDS:
        if i == start and tokens[i] != "тысяча":
            return None  # "тысяч" needs a number before it; "тысяча" alone is one thousand
        thousands = value if i > start else 1
        i += 1
        rest, after = (0, i) if i >= len(tokens) else _below_thousand(tokens, i)
        if after < len(tokens) and tokens[after] in _THOUSAND_WORDS:
            return None  # "тысяча тысяч" is not a meter reading
        return thousands * 1000 + rest, after
    if i == start:
        return None  # not a number word
    return value, i


def _below_thousand(tokens: Sequence[str], start: int) -> tuple[int, int]:
    """The longest hundreds-tens-units run at tokens[start:] (each slot at most once, in order)."""
    i, total = start, 0
    slots = ((100, 1000), (20, 100), (10, 20), (1, 10))  # value ranges, in the order they may come
    for low, high in slots:
        if i >= len(tokens):
            break
        value = _WORD_VALUES.get(tokens[i])
        if value is None or not low <= value < high:
            continue
        total += value
        i += 1
        if low == 10:  # a teen closes the number
            break
        if low == 20 and i < len(tokens) and _WORD_VALUES.get(tokens[i], 0) >= 10:
            break  # "двадцать десять" is two numbers, not thirty
    return total, i


# --- free text -----------------------------------------------------------------------------------

# Prepositions that set the case of the number after them ("до 15:00" -> "до пятнадцати часов").
_PREPOSITION_CASE: Final[dict[str, Case]] = {
    **dict.fromkeys(
        ("до", "от", "с", "со", "после", "около", "из", "без", "для", "кроме", "свыше",
         "более", "менее", "больше", "меньше", "выше", "ниже", "в течение", "течение"),
        "g",
    ),
    "к": "d", "ко": "d",
    **dict.fromkeys(("в", "во", "на", "за", "через", "про"), "a"),
    **dict.fromkeys(("о", "об", "при"), "p"),
}  # fmt: skip

_NUM = r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+"
_DEC = rf"(?:{_NUM})(?:[,.]\d+)?"
_MONTH_ALT = "|".join(MONTHS_GENITIVE)
_NOUN_FORMS: Final[dict[str, Unit]] = {
    form: unit for unit in COUNTED_NOUNS for form in (*unit.singular, *unit.plural)
}
_ORDINAL_ENDINGS: Final[dict[str, tuple[Gender, Case]]] = {
    "й": ("m", "n"), "ый": ("m", "n"), "ий": ("m", "n"), "я": ("f", "n"), "ая": ("f", "n"),
    "е": ("n", "n"), "ое": ("n", "n"), "го": ("m", "g"), "му": ("m", "d"), "м": ("m", "p"),
    "ю": ("f", "a"), "ой": ("f", "g"),
}  # fmt: skip

_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    ("phone", r"(?:\+7|(?<!\d)8)[\s\-]*\(?\d{3,5}\)?[\s\-]*\d{1,3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)"),
    ("date", r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)(?:\s*(?:г\.|года?))?"),
    ("time", r"(?<!\d)([01]?\d|2[0-3]):([0-5]\d)(?!\d)"),
    ("number_sign", r"№\s*([0-9][\w\-/]*)"),
    (
        "money",
        rf"(?<![\d,.])({_DEC})\s*(?:руб(?:лей|ля|ль)?\.?|₽|р\.)"
        r"(?:\s*(\d{1,2})\s*коп(?:еек|ейки|ейка|\.)?)?",
    ),
    ("kopecks", r"(?<![\d,.])(\d{1,2})\s*коп(?:еек|ейки|ейка|\.)?(?!\w)"),
    ("kwh", rf"(?<![\d,.])({_DEC})\s*(?:кВт\s*[·⋅*.\-]?\s*ч|киловатт-час\w*)(?!\w)"),
    ("kw", rf"(?<![\d,.])({_DEC})\s*кВт(?!\w)"),
    ("percent", rf"(?<![\d,.])({_DEC})\s*%"),
    ("day_month", rf"(?<!\d)(\d{{1,2}})\s+({_MONTH_ALT})(?:\s+(\d{{4}})(?:\s*(?:г\.|года?))?)?"),
    ("year", r"(?<!\d)(\d{4})\s*(году|года|год|г\.)(?!\w)"),
    ("ordinal", r"(?<!\d)(\d+)-(ый|ий|ая|ое|й|я|е|го|му|м|ю|ой)(?!\w)"),
    ("counted", rf"(?<![\d,.])({_NUM})\s+({'|'.join(sorted(_NOUN_FORMS, key=len, reverse=True))})"
     r"(?!\w)"),
    ("decimal", rf"(?<![\d,.])({_NUM})[,.](\d+)(?![\d])"),
    ("number", rf"(?<![\d,.])({_NUM})(?!\d)"),
)  # fmt: skip
_TEXT_NUMBERS = re.compile(
    "|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS), re.IGNORECASE
)
# Each pattern alone, to read its own groups back from what the combined pattern found.
_PATTERN_BY_KIND: Final[dict[str, re.Pattern[str]]] = {
    name: re.compile(pattern, re.IGNORECASE) for name, pattern in _PATTERNS
}
_YEAR_FORMS: Final[dict[Case, str]] = {"n": "год", "g": "года", "p": "году"}
_SENTENCE_END = re.compile(r"\s*(?:$|[A-ZА-ЯЁ])")
_LAST_WORD = re.compile(r"(\w+(?:\s+\w+)?)\s*$")


def speakable_text(text: str) -> str:
    """Free text with every number worded for the Russian voice.

    "Задолженность 1234,56 руб." -> "Задолженность одна тысяча двести тридцать четыре рубля
    пятьдесят шесть копеек". Understands money (руб., коп., ₽), кВт·ч, кВт, %, dates
    (15.03.2024, 15 марта), times (14:30), phone numbers, "№ 123" (digit by digit), "3-й", nouns
    written after a number ("1 минута") and plain numbers. A preposition before a number sets its
    case ("до 15:00" -> "до пятнадцати часов").
    """
    return _TEXT_NUMBERS.sub(lambda m: _word_match(m, text), text)


def _case_before(text: str, start: int) -> Case:
    match = _LAST_WORD.search(text[:start])
    if match is None:
        return "n"
    two_words = " ".join(match.group(1).lower().split())
    if two_words in _PREPOSITION_CASE:
        return _PREPOSITION_CASE[two_words]
    return _PREPOSITION_CASE.get(two_words.split()[-1], "n")


def _plain(number: str) -> int:
    return int(re.sub(r"\D", "", number))


# Each handler gets the groups of its own pattern ("" when absent), the case the words before
# the match ask for, and the whole matched text.
_Groups = tuple[str, ...]


def _say_date(g: _Groups, case: Case, whole: str) -> str:
    try:
        return date_words(date(int(g[2]), int(g[1]), int(g[0])), case=case)
    except ValueError:  # 31.02.2024: not a date, say the numbers
        return " ".join(cardinal(int(part)) for part in g[:3])


def _say_money(g: _Groups, case: Case, whole: str) -> str:
    amount = _as_decimal(g[0]) + (Decimal(int(g[1])) / 100 if g[1] else 0)
    return money(amount, case=case)


def _say_day_month(g: _Groups, case: Case, whole: str) -> str:
    month = MONTHS_GENITIVE.index(g[1].lower()) + 1
    year = int(g[2]) if g[2] else 2000  # a leap year, so that 29 февраля passes
    try:
        return date_words(date(year, month, int(g[0])), case=case, with_year=bool(g[2]))
    except ValueError:
        return whole


def _say_year(g: _Groups, case: Case, whole: str) -> str:
    year_case: Case = _YEAR_NOUN_CASES.get(g[1].lower(), "g")
    return f"{ordinal(int(g[0]), case=year_case)} {_YEAR_FORMS[year_case]}"


def _say_ordinal(g: _Groups, case: Case, whole: str) -> str:
    gender, ending_case = _ORDINAL_ENDINGS[g[1].lower()]
    return ordinal(int(g[0]), gender=gender, case=ending_case)


def _say_counted(g: _Groups, case: Case, whole: str) -> str:
    noun = g[1].lower()
    unit = _NOUN_FORMS[noun]
    return quantity(_plain(g[0]), unit, case=_noun_case(unit, noun, case))


_YEAR_NOUN_CASES: Final[dict[str, Case]] = {"году": "p", "год": "n", "года": "g"}
_HANDLERS: Final[dict[str, Callable[[_Groups, Case, str], str]]] = {
    "phone": lambda g, case, whole: phone_words(whole),
    "date": _say_date,
    "time": lambda g, case, whole: time_words(time(int(g[0]), int(g[1])), case=case),
    "number_sign": lambda g, case, whole: f"номер {digits_words(g[0])}",
    "money": _say_money,
    "kopecks": lambda g, case, whole: quantity(int(g[0]), KOPECK, case=case),
    "kwh": lambda g, case, whole: quantity(g[0], KILOWATT_HOUR, case=case),
    "kw": lambda g, case, whole: quantity(g[0], KILOWATT, case=case),
    "percent": lambda g, case, whole: quantity(g[0], PERCENT, case=case),
    "day_month": _say_day_month,
    "year": _say_year,
    "ordinal": _say_ordinal,
    "counted": _say_counted,
    "decimal": lambda g, case, whole: decimal_number(f"{_plain(g[0])}.{g[1]}"),
    "number": lambda g, case, whole: cardinal(_plain(g[0]), case=case),
}


def _word_match(m: re.Match[str], text: str) -> str:
    kind = m.lastgroup or "number"
    whole = m.group(0)
    own = _PATTERN_BY_KIND[kind].match(whole)
    if own is None:  # cannot happen: the same pattern matched this very text a moment ago
        return whole
    words = _HANDLERS[kind](own.groups(default=""), _case_before(text, m.start()), whole)
    if whole.endswith(".") and _SENTENCE_END.match(text, m.end()):
        words += "."  # "руб." closed the sentence too: keep the full stop (and its pause)
    return words


def _noun_case(unit: Unit, noun: str, context: Case) -> Case:
    """The case to word "<number> <noun>" in: the context's when the written noun fits it
    ("до 5 минут"), else the first case the written form shows ("на 1 минуту" -> accusative)."""
    order: tuple[Case, ...] = ("n", "a", "g", "d", "i", "p")
    shown = [
        case
        for case in order
        if noun in (unit.singular[_CASES.index(case)], unit.plural[_CASES.index(case)])
    ]
    return context if context in shown or not shown else shown[0]
