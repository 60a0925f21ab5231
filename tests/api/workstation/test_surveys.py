"""Survey questionnaires over HTTP: built with DTMF answer keys by supervisors, listed for
everyone, results counted from the answers collected."""

from __future__ import annotations

from typing import Any

import httpx

from callcenter.db.repositories import surveys as surveys_repo
from tests.api.workstation.support import START, Sessions, Staff, audit_entries

SURVEYS = "/api/v1/surveys"

QUESTIONNAIRE: dict[str, Any] = {
    "name": "Качество обслуживания",
    "description": "После обращения",
    "questions": [
        {"text": "Ваш вопрос решён? Да — 1, нет — 2", "answers": {"1": "Да", "2": "Нет"}},
        {"text": "Оцените вежливость от 1 до 5", "answers": {str(k): str(k) for k in range(1, 6)}},
    ],
}


async def test_supervisor_builds_a_questionnaire_everyone_can_read(
    client: httpx.AsyncClient, staff: Staff, session_factory: Sessions
) -> None:
    created = await client.post(SURVEYS, json=QUESTIONNAIRE, headers=staff.h("sveta"))
    assert created.status_code == 201, created.text
    survey = created.json()
    assert [(q["position"], q["answers"]) for q in survey["questions"]] == [
        (1, {"1": "Да", "2": "Нет"}),
        (2, {"1": "1", "2": "2", "3": "3", "4": "4", "5": "5"}),
    ]
    listed = (await client.get(SURVEYS, headers=staff.h("anna"))).json()
    assert [s["name"] for s in listed] == ["Качество обслуживания"]
    got = await client.get(f"{SURVEYS}/{survey['id']}", headers=staff.h("anna"))
    assert got.json() == survey
    assert len(await audit_entries(session_factory, "survey.create")) == 1


async def test_questionnaires_are_checked(client: httpx.AsyncClient, staff: Staff) -> None:
    star = {**QUESTIONNAIRE, "questions": [{"text": "?", "answers": {"1": "Да", "*": "Нет"}}]}
    reply = await client.post(SURVEYS, json=star, headers=staff.h("sveta"))
    assert reply.status_code == 422
    assert "0-9" in reply.json()["detail"]
    assert (
        await client.post(SURVEYS, json=QUESTIONNAIRE, headers=staff.h("anna"))
    ).status_code == 403
    await client.post(SURVEYS, json=QUESTIONNAIRE, headers=staff.h("sveta"))
    again = await client.post(SURVEYS, json=QUESTIONNAIRE, headers=staff.h("admin"))
    assert again.status_code == 409


async def test_results_count_the_keys_pressed(
    client: httpx.AsyncClient, staff: Staff, session_factory: Sessions
) -> None:
    survey = (await client.post(SURVEYS, json=QUESTIONNAIRE, headers=staff.h("sveta"))).json()
    first, second = (q["id"] for q in survey["questions"])
    async with session_factory.begin() as session:
        for question_id, key in [
            (first, "1"),
            (first, "1"),
            (first, "2"),
            (second, "5"),
            (second, "9"),
        ]:
            await surveys_repo.record_answer(
                session, survey_id=survey["id"], question_id=question_id, answer_key=key, at=START
            )
    reply = await client.get(f"{SURVEYS}/{survey['id']}/results", headers=staff.h("sveta"))
    assert reply.status_code == 200
    results = reply.json()["questions"]
    assert results[0]["answered"] == 3
    assert [(a["key"], a["count"], a["share"]) for a in results[0]["answers"]] == [
        ("1", 2, 0.667),
        ("2", 1, 0.333),
    ]
    assert results[1]["unexpected"] == {"9": 1}
    assert [a["count"] for a in results[1]["answers"]] == [0, 0, 0, 0, 1]
    refused = await client.get(f"{SURVEYS}/{survey['id']}/results", headers=staff.h("anna"))
    assert refused.status_code == 403
