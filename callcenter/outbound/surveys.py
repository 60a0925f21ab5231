"""Survey questionnaires (table 9, function 23): build a questionnaire with DTMF answer keys
and read its results. Running group phone surveys (function 24) is the dialer's job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callcenter.common.access import (
    AccessDenied,
    Actor,
    Conflict,
    InvalidInput,
    NotFound,
    UseCases,
)
from callcenter.domain.surveys import Question, QuestionnaireError, check_questionnaire
from callcenter.ports.queries import NewQuestion
from callcenter.ports.records import Survey, SurveyQuestion


@dataclass(frozen=True, slots=True)
class AnswerTally:
    key: str
    label: str
    count: int
    share: float  # of this question's answers, 0..1


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question: SurveyQuestion
    answered: int
    answers: list[AnswerTally]
    # keys pressed that the questionnaire does not know (a changed questionnaire, a typo)
    unexpected: dict[str, int]


@dataclass(frozen=True, slots=True)
class SurveyResults:
    survey: Survey
    respondents: int
    questions: list[QuestionResult]


class SurveysService(UseCases):
    async def list_all(self) -> Sequence[Survey]:
        async with self._sessions() as tx:
            return await tx.surveys.list_all()

    async def get(self, survey_id: int) -> Survey:
        async with self._sessions() as tx:
            survey = await tx.surveys.get(survey_id)
        if survey is None:
            raise NotFound(f"Анкета {survey_id} не найдена")
        return survey

    async def create(
        self, actor: Actor, *, name: str, description: str, questions: Sequence[Question]
    ) -> Survey:
        try:
            check_questionnaire(name, questions)
        except QuestionnaireError as exc:
            raise InvalidInput(str(exc)) from None
        name = name.strip()
        async with self.transaction(actor) as tx:
            self._require_supervisor(actor, "survey.create", "new")
            if await tx.surveys.get_by_name(name) is not None:
                raise Conflict(f"Анкета «{name}» уже есть")
            survey = await tx.surveys.create(
                name=name,
                description=description.strip(),
                questions=[
                    NewQuestion(
                        text_ru=q.text_ru.strip(),
                        answers={k: v.strip() for k, v in sorted(q.answers.items())},
                    )
                    for q in questions
                ],
            )
            await self.audit(
                tx,
                actor,
                "survey.create",
                object_type="survey",
                object_id=survey.id,
                details={"name": name, "questions": len(questions)},
            )
            return survey

    async def results(self, actor: Actor, survey_id: int) -> SurveyResults:
        async with self.transaction(actor) as tx:
            self._require_supervisor(actor, "survey.results", str(survey_id))
            survey = await tx.surveys.get(survey_id)
            if survey is None:
                raise NotFound(f"Анкета {survey_id} не найдена")
            counts = await tx.surveys.answer_counts(survey_id)
            respondents = await tx.surveys.respondent_count(survey_id)
        results = []
        for question in survey.questions:
            pressed = counts.get(question.id, {})
            answered = sum(pressed.values())
            tallies = [
                AnswerTally(
                    key=key,
                    label=label,
                    count=pressed.get(key, 0),
                    share=pressed.get(key, 0) / answered if answered else 0.0,
                )
                for key, label in sorted(question.answers.items())
            ]
            unexpected = {k: n for k, n in pressed.items() if k not in question.answers}
            results.append(QuestionResult(question, answered, tallies, unexpected))
        return SurveyResults(survey=survey, respondents=respondents, questions=results)

    @staticmethod
    def _require_supervisor(actor: Actor, action: str, object_id: str) -> None:
        if not actor.is_supervisor:
            raise AccessDenied(
                "Анкеты составляют и смотрят итоги супервизоры и администраторы",
                action=action,
                object_type="survey",
                object_id=object_id,
            )
