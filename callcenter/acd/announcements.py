"""What a waiting caller hears, in Russian: the expected wait, the callback offer and its
confirmation. Numbers are worded here (the synthesiser gets no digits to guess at)."""

from __future__ import annotations

from callcenter.domain.acd import wait_minutes
from callcenter.speech.numbers_ru import MINUTE, phone_words, quantity

# Beyond this the estimate is too rough to be worth a number.
LONGEST_ANNOUNCED_MINUTES = 60
# Below this the operator is about to answer: no point in holding the caller with a speech.
SILENT_BELOW_SECONDS = 20.0

ALL_BUSY = "Все операторы заняты."
STAY_ON_LINE = "Пожалуйста, оставайтесь на линии."
# the callback leg never went through the IVR: the recording notice is said here
CALLBACK_GREETING = (
    "Здравствуйте! Это обратный звонок из контакт-центра. Разговор записывается. "
    "Соединяем вас с оператором."
)
CALLBACK_NO_NUMBER = (
    f"К сожалению, ваш номер не определился, и перезвонить мы не сможем. {STAY_ON_LINE}"
)
CALLBACK_ALREADY = "Обратный звонок на ваш номер уже заказан. До свидания."


def wait_phrase(seconds: float) -> str:
    """The expected wait in whole minutes, rounded up: "Оператор ответит примерно через две
    минуты." """
    if seconds < 60:
        return "Оператор ответит менее чем через минуту."
    minutes = wait_minutes(seconds)
    if minutes > LONGEST_ANNOUNCED_MINUTES:
        return "Оператор ответит более чем через час."
    return f"Оператор ответит примерно через {quantity(minutes, MINUTE, case='a')}."


def callback_offer(digit: str) -> str:
    return f"Чтобы мы перезвонили вам, не теряя вашей очереди, нажмите {_key(digit)}."


def callback_booked(number: str) -> str:
    return (
        f"Спасибо! Мы перезвоним вам на номер {phone_words(number)}, как только подойдёт "
        "ваша очередь. До свидания."
    )


def join_announcement(expected: float | None, *, offer_callback: bool, digit: str) -> str | None:
    """What a caller hears when they join a queue; None: nothing (they are answered at once)."""
    if expected is None:
        return f"{ALL_BUSY} {STAY_ON_LINE}"
    if expected < SILENT_BELOW_SECONDS:
        return None
    text = f"{ALL_BUSY} {wait_phrase(expected)}"
    if offer_callback:
        text += " " + callback_offer(digit)
    return text


def periodic_announcement(expected: float | None, *, offer_callback: bool, digit: str) -> str:
    """What a waiting caller hears every so often."""
    if expected is None:
        text = f"{ALL_BUSY} {STAY_ON_LINE}"
    elif expected < SILENT_BELOW_SECONDS:
        text = "Оператор скоро ответит. " + STAY_ON_LINE
    else:
        text = f"{wait_phrase(expected)} {STAY_ON_LINE}"
    if offer_callback:
        text += " " + callback_offer(digit)
    return text


_KEY_WORDS = {
    "0": "ноль",
    "1": "один",
    "2": "два",
    "3": "три",
    "4": "четыре",
    "5": "пять",
    "6": "шесть",
    "7": "семь",
    "8": "восемь",
    "9": "девять",
    "*": "звёздочку",
    "#": "решётку",
}


def _key(digit: str) -> str:
    return _KEY_WORDS.get(digit, digit)
