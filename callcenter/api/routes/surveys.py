"""Survey questionnaires (table 9, function 23): build them with DTMF answer keys, list them,
read their results. Group phone surveys that play them (function 24) belong to the dialer."""

from __future__ import annotations

from fastapi import APIRouter, status

from callcenter.api.schemas.surveys import (
    AnswerTallyOut,
    QuestionOut,
    QuestionResultOut,
    SurveyIn,
    SurveyOut,
    SurveyResultsOut,
)
from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    SurveysDep,
    WorkstationRoute,
    editors_only,
)
from callcenter.domain.surveys import Question
from callcenter.ports.records import Survey

router = APIRouter(
    prefix="/api/v1/surveys",
    tags=["surveys"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)

_EDITORS = editors_only(
    "Анкеты составляют и смотрят итоги супервизоры и администраторы",
    object_type="survey",
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
    dependencies=[_EDITORS("survey.create")],
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
