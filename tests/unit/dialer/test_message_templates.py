from __future__ import annotations

import pytest

from callcenter.domain.message_templates import MessageTemplate, TemplateError, ValueKind
from callcenter.speech.numbers_ru import speakable_text

DEBT = (
    "Уважаемый абонент! Задолженность {debt:money}. Отключение {day:date} в {at:time}. "
    "Заявка № {application}."
)


def test_fields_and_kinds_are_read_from_the_template() -> None:
    template = MessageTemplate.parse(DEBT)
    assert template.fields == {
        "debt": ValueKind.MONEY,
        "day": ValueKind.DATE,
        "at": ValueKind.TIME,
        "application": ValueKind.TEXT,
    }


def test_rendered_text_is_what_the_russian_voice_reads_correctly() -> None:
    template = MessageTemplate.parse(DEBT)
    text = template.render(
        {"debt": "1 234,5", "day": "2026-03-15", "at": "9:05", "application": "4512"}
    )
    assert text == (
        "Уважаемый абонент! Задолженность 1234,50 руб. Отключение 15.03.2026 в 09:05. "
        "Заявка № 4512."
    )
    spoken = speakable_text(text)
    assert "одна тысяча двести тридцать четыре рубля пятьдесят копеек" in spoken
    assert "пятнадцатое марта" in spoken
    assert "четыре пять один два" in spoken


def test_every_problem_of_a_contact_is_listed_in_russian() -> None:
    template = MessageTemplate.parse(DEBT)
    problems = template.check({"debt": "много", "day": "31.02.2026", "at": "25:00"})
    assert problems == [
        "поле «debt»: «много» — не сумма в рублях",
        "поле «day»: «31.02.2026» — не дата (ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)",
        "поле «at»: «25:00» — не время (ЧЧ:ММ)",
        "нет значения поля «application»",
    ]
    with pytest.raises(TemplateError, match="не сумма"):
        template.render({"debt": "-", "day": "01.01.2026", "at": "10:00", "application": "1"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "пустой"),
        ("Сумма {debt:euro}", "неизвестный тип"),
        ("Сумма {долг}", "латинские"),
        ("Сумма {debt", "непарная"),
        ("{a:money} и {a:date}", "разными типами"),
    ],
)
def test_bad_templates_are_refused(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        MessageTemplate.parse(text)


def test_values_cannot_inject_placeholders_or_control_characters() -> None:
    template = MessageTemplate.parse("Здравствуйте, {name}!")
    assert template.render({"name": "{debt:money}\nИван"}) == "Здравствуйте, (debt:money) Иван!"
