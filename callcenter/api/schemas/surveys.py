"""Request and response bodies of `callcenter.api.routes.surveys`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QuestionIn(BaseModel):
    text: str = Field(max_length=1000, description="read to the called customer")
    answers: dict[str, str] = Field(description="DTMF key 0-9 -> answer label")


class SurveyIn(BaseModel):
    name: str = Field(max_length=128)
    description: str = Field(default="", max_length=4000)
    questions: list[QuestionIn] = Field(max_length=20)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Качество обслуживания",
                    "description": "После обращения в call-центр",
                    "questions": [
                        {
                            "text": "Ваш вопрос решён? Да — 1, нет — 2",
                            "answers": {"1": "Да", "2": "Нет"},
                        },
                        {
                            "text": "Оцените вежливость оператора от 1 до 5",
                            "answers": {str(k): str(k) for k in range(1, 6)},
                        },
                    ],
                }
            ]
        }
    )


class QuestionOut(BaseModel):
    id: int
    position: int
    text: str
    answers: dict[str, str]


class SurveyOut(BaseModel):
    id: int
    name: str
    description: str
    questions: list[QuestionOut]


class AnswerTallyOut(BaseModel):
    key: str
    label: str
    count: int
    share: float


class QuestionResultOut(BaseModel):
    question_id: int
    position: int
    text: str
    answered: int
    answers: list[AnswerTallyOut]
    unexpected: dict[str, int] = Field(description="keys pressed that are not among the answers")


class SurveyResultsOut(BaseModel):
    survey_id: int
    name: str
    respondents: int = Field(description="calls that answered at least one question")
    questions: list[QuestionResultOut]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "survey_id": 1,
                    "name": "Качество обслуживания",
                    "respondents": 3,
                    "questions": [
                        {
                            "question_id": 1,
                            "position": 1,
                            "text": "Ваш вопрос решён? Да — 1, нет — 2",
                            "answered": 3,
                            "answers": [
                                {"key": "1", "label": "Да", "count": 2, "share": 0.667},
                                {"key": "2", "label": "Нет", "count": 1, "share": 0.333},
                            ],
                            "unexpected": {},
                        }
                    ],
                }
            ]
        }
    )
