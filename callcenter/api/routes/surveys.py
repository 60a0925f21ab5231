"""Survey questionnaires (table 9, function 23): build them with DTMF answer keys, list them,
read their results. Group phone surveys that play them (function 24) belong to the dialer."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, SurveysDep, WorkstationRoute
from callcenter.domain.surveys import Question
from callcenter.ports.records import Survey

router = APIRouter(
    prefix="/api/v1/surveys",
    tags=["surveys"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


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


def _out(survey: Survey) -> SurveyOut:
    return SurveyOut(
        id=survey.id,
        name=survey.name,
        description=survey.description,
        questions=[
            QuestionOut(id=q.id, position=q.position, text=q.text_ru, answers=dict(q.answers))
            for q in survey.questions
        ],
    )


@router.get("", response_model=list[SurveyOut], summary="All questionnaires")
async def list_surveys(_actor: ActorDep, surveys: SurveysDep) -> list[SurveyOut]:
    return [_out(s) for s in await surveys.list_all()]


@router.get("/{survey_id}", response_model=SurveyOut, summary="One questionnaire")
async def get_survey(survey_id: int, _actor: ActorDep, surveys: SurveysDep) -> SurveyOut:
    return _out(await surveys.get(survey_id))


@router.post(
    "",
    response_model=SurveyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Build a questionnaire (supervisor, administrator)",
)
async def create_survey(body: SurveyIn, actor: ActorDep, surveys: SurveysDep) -> SurveyOut:
    survey = await surveys.create(
        actor,
        name=body.name,
        description=body.description,
        questions=[Question(text_ru=q.text, answers=q.answers) for q in body.questions],
    )
    return _out(survey)


@router.get(
    "/{survey_id}/results",
    response_model=SurveyResultsOut,
    summary="Answers collected so far (supervisor, administrator)",
)
async def results(survey_id: int, actor: ActorDep, surveys: SurveysDep) -> SurveyResultsOut:
    found = await surveys.results(actor, survey_id)
    return SurveyResultsOut(
        survey_id=found.survey.id,
        name=found.survey.name,
        respondents=found.respondents,
        questions=[
            QuestionResultOut(
                question_id=r.question.id,
                position=r.question.position,
                text=r.question.text_ru,
                answered=r.answered,
                answers=[
                    AnswerTallyOut(key=t.key, label=t.label, count=t.count, share=round(t.share, 3))
                    for t in r.answers
                ],
                unexpected=r.unexpected,
            )
            for r in found.questions
        ],
    )
