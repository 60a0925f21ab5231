"""Phone survey questionnaires (answered by DTMF) and the answers collected."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import Survey, SurveyQuestion, SurveyResponse
from callcenter.ports.queries import NewQuestion


async def get(session: AsyncSession, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)


async def get_by_name(session: AsyncSession, name: str) -> Survey | None:
    result = await session.scalars(select(Survey).where(Survey.name == name))
    return result.one_or_none()


async def list_all(session: AsyncSession) -> list[Survey]:
    return list(await session.scalars(select(Survey).order_by(Survey.name)))


async def create(
    session: AsyncSession, *, name: str, description: str, questions: Sequence[NewQuestion]
) -> Survey:
    """A survey with its questions numbered 1.. in the given order."""
    survey = Survey(
        name=name,
        description=description,
        questions=[
            SurveyQuestion(position=i, text_ru=q.text_ru, answers=dict(q.answers))
            for i, q in enumerate(questions, start=1)
        ],
    )
    session.add(survey)
    await session.flush()
    return survey


async def record_answer(
    session: AsyncSession,
    *,
    survey_id: int,
    question_id: int,
    answer_key: str,
    at: datetime,
    call_id: uuid.UUID | None = None,
    contact_id: int | None = None,
) -> SurveyResponse:
    """Store one DTMF answer (the group-survey dialer calls this for every key pressed)."""
    response = SurveyResponse(
        survey_id=survey_id,
        question_id=question_id,
        answer_key=answer_key,
        at=at,
        call_id=call_id,
        contact_id=contact_id,
    )
    session.add(response)
    await session.flush()
    return response


async def answer_counts(session: AsyncSession, survey_id: int) -> dict[int, dict[str, int]]:
    """question id -> {answer key -> how many times it was pressed}."""
    stmt = (
        select(SurveyResponse.question_id, SurveyResponse.answer_key, func.count())
        .where(SurveyResponse.survey_id == survey_id)
        .group_by(SurveyResponse.question_id, SurveyResponse.answer_key)
    )
    counts: dict[int, dict[str, int]] = {}
    for question_id, key, n in await session.execute(stmt):
        counts.setdefault(question_id, {})[key] = n
    return counts


async def respondent_count(session: AsyncSession, survey_id: int) -> int:
    """How many calls answered at least one of the survey's questions."""
    stmt = select(func.count(func.distinct(SurveyResponse.call_id))).where(
        SurveyResponse.survey_id == survey_id, SurveyResponse.call_id.is_not(None)
    )
    return await session.scalar(stmt) or 0
