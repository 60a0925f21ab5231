from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.repositories import knowledge_base as kb_repo
from tests.adapters.db.conftest import NOW

SessionFactory = async_sessionmaker[AsyncSession]


async def _fill(session_factory: SessionFactory) -> None:
    async with session_factory.begin() as session:
        await kb_repo.create(
            session,
            title="Передача показаний счётчика",
            body="Показания принимаются с 15 по 25 число.",
            tags=["показания"],
            support_line=2,
            updated_at=NOW,
        )
        await kb_repo.create(
            session,
            title="Аварийное отключение",
            body="Уточните адрес; скидка 100% не положена.",
            tags=["авария", "РЭС"],
            support_line=1,
            updated_at=NOW,
        )
        await kb_repo.create(
            session,
            title="Сроки рассмотрения обращений",
            body="Ответ на обращение — в течение 10 дней; счётчик не влияет.",
            updated_at=NOW,
        )


async def _titles(session_factory: SessionFactory, query: str, **kw: int) -> list[str]:
    async with session_factory() as session:
        return [a.title for a in await kb_repo.search(session, query, **kw)]


async def test_search_ignores_case_of_cyrillic_and_needs_every_word(
    session_factory: SessionFactory,
) -> None:
    await _fill(session_factory)
    assert await _titles(session_factory, "СЧЁТЧИК") == [
        "Передача показаний счётчика",
        "Сроки рассмотрения обращений",
    ]
    assert await _titles(session_factory, "счётчик  ПОКАЗАНИЯ") == ["Передача показаний счётчика"]
    assert await _titles(session_factory, "рэс") == ["Аварийное отключение"]  # a tag
    assert await _titles(session_factory, "холодильник") == []


async def test_search_for_a_line_includes_articles_for_every_line(
    session_factory: SessionFactory,
) -> None:
    await _fill(session_factory)
    assert await _titles(session_factory, "счётчик", support_line=1) == [
        "Сроки рассмотрения обращений"
    ]
    assert await _titles(session_factory, "", limit=2) == [
        "Аварийное отключение",
        "Передача показаний счётчика",
    ]


async def test_like_wildcards_in_the_query_are_taken_literally(
    session_factory: SessionFactory,
) -> None:
    await _fill(session_factory)
    assert await _titles(session_factory, "_") == []
    assert await _titles(session_factory, "100%") == ["Аварийное отключение"]
    assert await _titles(session_factory, "%") == ["Аварийное отключение"]


async def test_an_edited_article_is_found_by_its_new_words(
    session_factory: SessionFactory,
) -> None:
    await _fill(session_factory)
    async with session_factory.begin() as session:
        [article] = await kb_repo.search(session, "аварийное")
        await kb_repo.update(
            session,
            article,
            body="Сообщите дежурному диспетчеру.",
            updated_at=NOW + timedelta(days=1),
        )
    assert await _titles(session_factory, "диспетчеру") == ["Аварийное отключение"]
    assert await _titles(session_factory, "адрес") == []
    async with session_factory() as session:
        stored = await kb_repo.get(session, article.id)
    assert stored is not None
    assert stored.updated_at == NOW + timedelta(days=1)
