"""Meter readings said in Russian words, turned into the digits the caller meant."""

from __future__ import annotations

import pytest

from callcenter.speech.numbers_ru import NUMBER_WORDS, cardinal, words_to_digits


@pytest.mark.parametrize(
    ("words", "digits"),
    [
        # digit by digit
        ("три пять семь", "357"),
        ("ноль ноль один два", "0012"),
        ("девять девять девять девять девять", "99999"),
        ("один", "1"),
        ("одна", "1"),
        ("ноль", "0"),
        # compositional
        ("триста пятьдесят семь", "357"),
        ("сто", "100"),
        ("сто один", "101"),
        ("сто одиннадцать", "111"),
        ("девятнадцать", "19"),
        ("двадцать один", "21"),
        ("тысяча", "1000"),
        ("одна тысяча двести", "1200"),
        ("две тысячи пять", "2005"),
        ("тысяча двадцать", "1020"),
        ("пятьдесят тысяч триста", "50300"),
        ("сто двадцать три тысячи четыреста пятьдесят шесть", "123456"),
        # groups, the way people say long numbers
        ("двадцать три сорок пять", "2345"),
        ("двенадцать триста сорок", "12340"),
        ("сто двадцать три ноль ноль семь", "123007"),
        ("ноль семь", "07"),
        ("двадцать ноль", "200"),
        ("двадцать десять", "2010"),
        ("сто двести", "100200"),
        # what a recogniser may return
        ("Триста  Пятьдесят", "350"),
        (["четыре", "два"], "42"),
    ],
)
def test_words_to_digits(words: str | list[str], digits: str) -> None:
    assert words_to_digits(words) == digits


@pytest.mark.parametrize(
    "words",
    [
        "",
        "[unk]",
        "три [unk] пять",
        "тысяча тысяч",
        "тысяч",
        "ноль тысяч",
        "три рубля",
        "двадцать один кВт",
    ],
)
def test_what_is_not_a_reading_gives_none(words: str) -> None:
    assert words_to_digits(words) is None


@pytest.mark.parametrize("number", [0, 1, 2, 5, 11, 21, 101, 999, 1000, 2024, 45678, 999999])
def test_the_wording_of_a_number_reads_back_to_the_same_digits(number: int) -> None:
    words = cardinal(number)
    assert words_to_digits(words) == str(number)
    assert set(words.split()) <= set(NUMBER_WORDS)
