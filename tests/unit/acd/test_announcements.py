"""What waiting callers hear, in Russian."""

from __future__ import annotations

from callcenter.acd import announcements as say
from callcenter.acd.callbacks import dialable_number


def test_expected_wait_in_minutes_agrees_with_the_number() -> None:
    assert say.wait_phrase(100) == "Оператор ответит примерно через две минуты."
    assert say.wait_phrase(61) == "Оператор ответит примерно через две минуты."
    assert say.wait_phrase(60) == "Оператор ответит примерно через одну минуту."
    assert say.wait_phrase(300) == "Оператор ответит примерно через пять минут."
    assert say.wait_phrase(21 * 60) == "Оператор ответит примерно через двадцать одну минуту."
    assert say.wait_phrase(45) == "Оператор ответит менее чем через минуту."
    assert say.wait_phrase(2 * 3600) == "Оператор ответит более чем через час."


def test_join_announcement() -> None:
    assert say.join_announcement(5, offer_callback=False, digit="2") is None
    assert say.join_announcement(None, offer_callback=False, digit="2") == (
        "Все операторы заняты. Пожалуйста, оставайтесь на линии."
    )
    text = say.join_announcement(130, offer_callback=True, digit="2")
    assert text == (
        "Все операторы заняты. Оператор ответит примерно через три минуты. "
        "Чтобы мы перезвонили вам, не теряя вашей очереди, нажмите два."
    )


def test_callback_confirmation_reads_the_number() -> None:
    text = say.callback_booked("89161234567")
    assert "восемь, девятьсот шестнадцать, сто двадцать три, сорок пять, шестьдесят семь" in text
    assert not any(ch.isdigit() for ch in text)


def test_dialable_numbers() -> None:
    assert dialable_number("+79161234567") == "89161234567"
    assert dialable_number("8 (916) 123-45-67") == "89161234567"
    assert dialable_number("9161234567") == "89161234567"
    assert dialable_number("+74822123456") == "84822123456"
    assert dialable_number("anonymous") is None
    assert dialable_number("+441234567890") is None  # no international callbacks
    assert dialable_number("88001000000") is None  # not a subscriber number
    assert dialable_number(None) is None
