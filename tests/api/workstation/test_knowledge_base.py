"""Knowledge base over HTTP: Russian words in different forms find each other on both
backends (PostgreSQL full-text search, SQLite word-prefix fallback); editing is for
supervisors and administrators."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.workstation.support import Sessions, Staff, audit_entries

ARTICLES = "/api/v1/kb/articles"

CONTENT = [
    {
        "title": "Передача показаний счётчика",
        "body": "Показания принимаются с 15 по 25 число каждого месяца.",
        "tags": ["показания"],
        "support_line": 2,
    },
    {
        "title": "Сроки рассмотрения обращений",
        "body": "Ответ на обращение — в течение 10 дней; замена счетчиков не влияет на срок.",
        "tags": [],
        "support_line": None,
    },
    {
        "title": "Аварийные отключения",
        "body": "Уточните адрес и номер ТП; сообщите диспетчеру РЭС.",
        "tags": ["авария"],
        "support_line": 1,
    },
]


@pytest.fixture
async def articles(client: httpx.AsyncClient, staff: Staff) -> list[dict[str, Any]]:
    created = []
    for article in CONTENT:
        reply = await client.post(ARTICLES, json=article, headers=staff.h("sveta"))
        assert reply.status_code == 201, reply.text
        created.append(reply.json())
    return created


async def titles(client: httpx.AsyncClient, staff: Staff, q: str, **params: Any) -> list[str]:
    reply = await client.get(
        "/api/v1/kb/search", params={"q": q, **params}, headers=staff.h("anna")
    )
    assert reply.status_code == 200, reply.text
    return [hit["title"] for hit in reply.json()]


@pytest.mark.parametrize("query", ["счётчик", "счетчики", "счетчика", "СЧЁТЧИКОМ"])
async def test_every_form_of_a_word_finds_both_articles_title_match_first(
    client: httpx.AsyncClient, staff: Staff, articles: list[dict[str, Any]], query: str
) -> None:
    assert await titles(client, staff, query) == [
        "Передача показаний счётчика",
        "Сроки рассмотрения обращений",
    ]


async def test_every_word_must_match_and_line_filter_keeps_general_articles(
    client: httpx.AsyncClient, staff: Staff, articles: list[dict[str, Any]]
) -> None:
    assert await titles(client, staff, "показания счётчиков") == ["Передача показаний счётчика"]
    assert await titles(client, staff, "холодильник") == []
    assert await titles(client, staff, "   ") == []
    assert await titles(client, staff, "счетчики", line=1) == ["Сроки рассмотрения обращений"]
    assert await titles(client, staff, "авария") == ["Аварийные отключения"]  # a tag


async def test_hits_carry_a_snippet_around_the_match(
    client: httpx.AsyncClient, staff: Staff, articles: list[dict[str, Any]]
) -> None:
    reply = await client.get(
        "/api/v1/kb/search", params={"q": "диспетчер"}, headers=staff.h("anna")
    )
    (hit,) = reply.json()
    assert "диспетчеру РЭС" in hit["snippet"]
    assert hit["rank"] > 0


async def test_editing_is_for_supervisors_and_changes_are_found(
    client: httpx.AsyncClient,
    staff: Staff,
    articles: list[dict[str, Any]],
    session_factory: Sessions,
) -> None:
    first = articles[0]
    refused = await client.post(ARTICLES, json=CONTENT[0], headers=staff.h("anna"))
    assert refused.status_code == 403
    refused = await client.patch(
        f"{ARTICLES}/{first['id']}", json={"title": "x"}, headers=staff.h("anna")
    )
    assert refused.status_code == 403

    changed = await client.patch(
        f"{ARTICLES}/{first['id']}",
        json={
            "body": "Передать показания можно через IVR: наберите номер лицевого счёта.",
            "support_line": None,
        },
        headers=staff.h("admin"),
    )
    assert changed.status_code == 200
    assert changed.json()["support_line"] is None
    assert changed.json()["title"] == "Передача показаний счётчика"
    assert await titles(client, staff, "лицевой счёт") == ["Передача показаний счётчика"]
    kept = await client.patch(
        f"{ARTICLES}/{first['id']}", json={"tags": ["IVR"]}, headers=staff.h("admin")
    )
    assert kept.json()["support_line"] is None

    got = await client.get(f"{ARTICLES}/{first['id']}", headers=staff.h("anna"))
    assert got.json()["tags"] == ["IVR"]
    assert (await client.get(f"{ARTICLES}/999999", headers=staff.h("anna"))).status_code == 404
    assert len(await audit_entries(session_factory, "kb_article.update")) == 2
    denied = await audit_entries(session_factory, "access_denied", user_id=staff["anna"].user_id)
    assert len(denied) == 2
