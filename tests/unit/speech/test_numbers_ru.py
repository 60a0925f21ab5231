"""Russian wording of numbers: what a caller hears when the IVR says amounts, dates and numbers."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from callcenter.speech.numbers_ru import (
    DAY,
    HOUR,
    KILOWATT,
    KILOWATT_HOUR,
    KOPECK,
    MINUTE,
    PERCENT,
    Case,
    Gender,
    Unit,
    cardinal,
    date_words,
    decimal_number,
    digits_words,
    money,
    ordinal,
    phone_words,
    quantity,
    speakable_text,
    time_words,
)


@pytest.mark.parametrize(
    ("number", "gender", "case", "expected"),
    [
        (0, "m", "n", "ноль"),
        (1, "m", "n", "один"),
        (1, "f", "n", "одна"),
        (1, "n", "n", "одно"),
        (2, "f", "n", "две"),
        (5, "m", "g", "пяти"),
        (11, "m", "n", "одиннадцать"),
        (21, "f", "n", "двадцать одна"),
        (101, "f", "g", "ста одной"),
        (1000, "m", "n", "одна тысяча"),
        (2000, "m", "n", "две тысячи"),
        (5000, "m", "n", "пять тысяч"),
        (21000, "m", "n", "двадцать одна тысяча"),
        # num2words alone says "одна миллион одна": only the last digits agree with the noun
        (1_000_001, "f", "n", "один миллион одна"),
        (2_000_002, "n", "n", "два миллиона два"),
        (2_000_000, "f", "n", "два миллиона"),
        (1_001, "f", "a", "одну тысячу одну"),
        (-3, "m", "n", "минус три"),
    ],
)
def test_cardinal(number: int, gender: Gender, case: Case, expected: str) -> None:
    assert cardinal(number, gender=gender, case=case) == expected


@pytest.mark.parametrize(
    ("number", "gender", "case", "expected"),
    [
        (1, "m", "n", "первый"),
        (2, "f", "n", "вторая"),
        (3, "n", "n", "третье"),
        (11, "m", "n", "одиннадцатый"),
        (21, "m", "g", "двадцать первого"),
        (101, "m", "n", "сто первый"),
        (2000, "m", "g", "двухтысячного"),
        (2024, "m", "p", "две тысячи двадцать четвёртом"),
        (1, "m", "a", "первый"),  # inanimate accusative: "на первый этаж", not "первого"
    ],
)
def test_ordinal(number: int, gender: Gender, case: Case, expected: str) -> None:
    assert ordinal(number, gender=gender, case=case) == expected


def test_ordinal_of_a_negative_number_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ordinal(-1)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "ноль рублей"),
        ("0,01", "ноль рублей одна копейка"),
        (Decimal("0.02"), "ноль рублей две копейки"),
        (1, "один рубль"),
        ("2.00", "два рубля"),
        ("5", "пять рублей"),
        ("11.11", "одиннадцать рублей одиннадцать копеек"),
        ("12.12", "двенадцать рублей двенадцать копеек"),
        ("21.21", "двадцать один рубль двадцать одна копейка"),
        ("22.22", "двадцать два рубля двадцать две копейки"),
        ("101.05", "сто один рубль пять копеек"),
        ("111", "сто одиннадцать рублей"),
        ("1234,56", "одна тысяча двести тридцать четыре рубля пятьдесят шесть копеек"),
        ("1 000 001", "один миллион один рубль"),
        ("1000001.01", "один миллион один рубль одна копейка"),
        ("1000000", "один миллион рублей"),
        ("-15.5", "минус пятнадцать рублей пятьдесят копеек"),
        ("0.005", "ноль рублей одна копейка"),  # rounded half up to kopecks
    ],
)
def test_money(amount: str | int | Decimal, expected: str) -> None:
    assert money(amount) == expected


def test_money_in_the_genitive() -> None:
    assert money("21.01", case="g") == "двадцати одного рубля одной копейки"
    assert money("5", case="g") == "пяти рублей"


def test_money_refuses_what_is_not_a_number() -> None:
    with pytest.raises(ValueError, match="not a number"):
        money("сто")


@pytest.mark.parametrize(
    ("value", "unit", "case", "expected"),
    [
        (1, KILOWATT_HOUR, "n", "один киловатт-час"),
        (2, KILOWATT_HOUR, "n", "два киловатт-часа"),
        (5, KILOWATT_HOUR, "n", "пять киловатт-часов"),
        (11, KILOWATT_HOUR, "n", "одиннадцать киловатт-часов"),
        (21, KILOWATT_HOUR, "n", "двадцать один киловатт-час"),
        (101, KILOWATT_HOUR, "n", "сто один киловатт-час"),
        (1_000_001, KILOWATT_HOUR, "n", "один миллион один киловатт-час"),
        ("2,5", KILOWATT_HOUR, "n", "две целых пять десятых киловатт-часа"),
        (15, KILOWATT, "n", "пятнадцать киловатт"),
        (1, MINUTE, "n", "одна минута"),
        (1, MINUTE, "a", "одну минуту"),
        (3, MINUTE, "a", "три минуты"),
        (21, MINUTE, "g", "двадцати одной минуты"),
        (30, MINUTE, "g", "тридцати минут"),
        (5, MINUTE, "i", "пятью минутами"),
        (1, HOUR, "n", "один час"),
        (3, HOUR, "n", "три часа"),
        (2, DAY, "n", "два дня"),
        (12, DAY, "n", "двенадцать дней"),
        (3, PERCENT, "n", "три процента"),
        (1, KOPECK, "d", "одной копейке"),
    ],
)
def test_quantity_agrees_number_and_noun(
    value: int | str, unit: Unit, case: Case, expected: str
) -> None:
    assert quantity(value, unit, case=case) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.5", "двенадцать целых пять десятых"),
        ("0,01", "ноль целых одна сотая"),
        ("7.0", "семь"),
    ],
)
def test_decimal_number(value: str, expected: str) -> None:
    assert decimal_number(value) == expected


@pytest.mark.parametrize(
    ("day", "case", "with_year", "expected"),
    [
        (date(2024, 3, 15), "n", True, "пятнадцатое марта две тысячи двадцать четвёртого года"),
        (date(2024, 3, 15), "g", False, "пятнадцатого марта"),
        (date(2000, 1, 1), "n", True, "первое января двухтысячного года"),
        (date(2023, 12, 31), "n", False, "тридцать первое декабря"),
        (date(2021, 5, 2), "p", False, "втором мая"),
    ],
)
def test_date_words(day: date, case: Case, with_year: bool, expected: str) -> None:
    assert date_words(day, case=case, with_year=with_year) == expected


@pytest.mark.parametrize(
    ("moment", "case", "expected"),
    [
        (time(14, 30), "n", "четырнадцать часов тридцать минут"),
        (time(1, 1), "n", "один час одна минута"),
        (time(2, 22), "n", "два часа двадцать две минуты"),
        (time(21, 0), "n", "двадцать один час"),
        (time(0, 5), "n", "ноль часов пять минут"),
        (time(10, 0), "g", "десяти часов"),
        (time(21, 21), "g", "двадцати одного часа двадцати одной минуты"),
    ],
)
def test_time_words(moment: time, case: Case, expected: str) -> None:
    assert time_words(moment, case=case) == expected


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        # undivided Russian numbers are grouped by the phone plan, in the national form
        (
            "+79161234567",
            "восемь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь",
        ),
        ("88001000000", "восемь, восемьсот, сто, ноль ноль, ноль ноль"),
        # written groups are kept as written
        ("8 800 100-00-00", "восемь, восемьсот, сто, ноль ноль, ноль ноль"),
        (
            "+7 (8422) 12-34-05",
            "плюс семь, восемьдесят четыре, двадцать два, двенадцать, тридцать четыре, ноль пять",
        ),
        # foreign numbers in the international form
        (
            "+442071838750",
            "плюс сорок четыре, двадцать, семьдесят один, восемьдесят три, восемьдесят семь, "
            "пятьдесят",
        ),
        # short and unknown numbers
        ("112", "сто двенадцать"),
        ("01", "ноль один"),
        ("+123", "плюс сто двадцать три"),
        ("1234567", "сто двадцать три, сорок пять, шестьдесят семь"),
        ("123456", "двенадцать, тридцать четыре, пятьдесят шесть"),
    ],
)
def test_phone_numbers_are_read_in_groups(number: str, expected: str) -> None:
    assert phone_words(number) == expected


def test_phone_number_without_digits_is_refused() -> None:
    with pytest.raises(ValueError, match="no digits"):
        phone_words("нет")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("1234567890", "один два три четыре пять шесть семь восемь девять ноль"),
        ("0012", "ноль ноль один два"),
        ("12-05/7", "один два, ноль пять дробь семь"),
        ("ТП 001", "ТП, ноль ноль один"),
        ("12\t34", "один два, три четыре"),
    ],
)
def test_account_and_application_numbers_digit_by_digit(code: str, expected: str) -> None:
    assert digits_words(code) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Задолженность 1234,56 руб.",
            "Задолженность одна тысяча двести тридцать четыре рубля пятьдесят шесть копеек.",
        ),
        ("К оплате 0,01 руб.", "К оплате ноль рублей одна копейка."),
        ("Долг 5 руб. Оплатите.", "Долг пять рублей. Оплатите."),
        ("Долг 5 руб. 20 коп. за май", "Долг пять рублей двадцать копеек за май"),
        ("Итого 1 000 001 ₽", "Итого один миллион один рубль"),
        ("Сумма 21 руб. 5 коп.", "Сумма двадцать один рубль пять копеек."),
        (
            "Показания 12345 кВт·ч приняты",
            "Показания двенадцать тысяч триста сорок пять киловатт-часов приняты",
        ),
        ("Расход 101 кВт*ч", "Расход сто один киловатт-час"),
        ("Мощность 15 кВт", "Мощность пятнадцать киловатт"),
        ("Рост на 2,5%", "Рост на две целых пять десятых процента"),
        (
            "Отключение с 10:00 до 14:30",
            "Отключение с десяти часов до четырнадцати часов тридцати минут",
        ),
        ("Начало в 9:05", "Начало в девять часов пять минут"),
        (
            "Дата: 15.03.2024.",
            "Дата: пятнадцатое марта две тысячи двадцать четвёртого года.",
        ),
        ("Передайте показания до 25 числа", "Передайте показания до двадцати пяти числа"),
        ("Оплатите до 15 марта", "Оплатите до пятнадцатого марта"),
        ("в 2024 году", "в две тысячи двадцать четвёртом году"),
        ("Заявка № 2024/17 принята", "Заявка номер два ноль два четыре дробь один семь принята"),
        ("Вы 3-й в очереди", "Вы третий в очереди"),
        ("Ожидание около 1 минуты", "Ожидание около одной минуты"),
        ("Ожидание 1 минута", "Ожидание одна минута"),
        ("Перезвоним через 21 минуту", "Перезвоним через двадцать одну минуту"),
        ("в течение 30 минут", "в течение тридцати минут"),
        (
            "Звоните 8 800 100-00-00",
            "Звоните восемь, восемьсот, сто, ноль ноль, ноль ноль",
        ),
        ("Нажмите 1", "Нажмите один"),
        ("Цифры 31.02.2024 не дата", "Цифры тридцать один два две тысячи двадцать четыре не дата"),
        ("Без чисел.", "Без чисел."),
    ],
)
def test_speakable_text_words_numbers_inside_free_text(text: str, expected: str) -> None:
    assert speakable_text(text) == expected


def test_speakable_text_leaves_no_digit_behind() -> None:
    text = "Долг 1 234,56 руб. на 01.02.2025, 350 кВт·ч, звонок в 18:45, заявка № 77-12/3."
    assert not any(ch.isdigit() for ch in speakable_text(text))
