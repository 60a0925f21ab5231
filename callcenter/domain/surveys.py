"""Phone survey questionnaires answered by DTMF (pure rules for building one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# '*' and '#' stay free for "repeat the question" and "end of input" in the IVR
DTMF_ANSWER_KEYS = frozenset("0123456789")
MAX_QUESTIONS = 20
MAX_NAME = 128


class QuestionnaireError(ValueError):
    """The questionnaire cannot be played to callers as it is (the message is Russian)."""


@dataclass(frozen=True, slots=True)
class Question:
    text_ru: str
    answers: Mapping[str, str]  # DTMF key -> label


def check_questionnaire(name: str, questions: Sequence[Question]) -> None:
    if not name.strip():
        raise QuestionnaireError("У анкеты должно быть название")
    if len(name.strip()) > MAX_NAME:
        raise QuestionnaireError(f"Название анкеты длиннее {MAX_NAME} символов")
    if not questions:
        raise QuestionnaireError("В анкете нет ни одного вопроса")
    if len(questions) > MAX_QUESTIONS:
        raise QuestionnaireError(f"В анкете больше {MAX_QUESTIONS} вопросов: по телефону это долго")
    for number, question in enumerate(questions, start=1):
        if not question.text_ru.strip():
            raise QuestionnaireError(f"Вопрос {number}: пустой текст")
        if len(question.answers) < 2:
            raise QuestionnaireError(f"Вопрос {number}: нужно хотя бы два варианта ответа")
        for key, label in question.answers.items():
            if key not in DTMF_ANSWER_KEYS:
                raise QuestionnaireError(
                    f"Вопрос {number}: ответ «{key}» — не клавиша 0-9 тонального набора"
                )
            if not label.strip():
                raise QuestionnaireError(f"Вопрос {number}: у клавиши {key} нет подписи")
