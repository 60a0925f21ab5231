"""Knowledge-base articles and a simple substring search over them.

A stop-gap until full-text search: every word of the query must occur in the article's
title, body or tags, case-insensitively (Cyrillic included, on both backends).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import KbArticle


def search_text(title: str, body: str, tags: Sequence[str]) -> str:
    return " ".join([title, body, *tags]).casefold()


async def get(session: AsyncSession, article_id: int) -> KbArticle | None:
    return await session.get(KbArticle, article_id)


async def create(
    session: AsyncSession,
    *,
    title: str,
    body: str,
    updated_at: datetime,
    tags: Sequence[str] = (),
    support_line: int | None = None,
) -> KbArticle:
    article = KbArticle(
        title=title,
        body=body,
        tags=list(tags),
        support_line=support_line,
        updated_at=updated_at,
        search_text=search_text(title, body, tags),
    )
    session.add(article)
    await session.flush()
    return article


async def update(
    session: AsyncSession,
    article: KbArticle,
    *,
    updated_at: datetime,
    title: str | None = None,
    body: str | None = None,
    tags: Sequence[str] | None = None,
) -> KbArticle:
    if title is not None:
        article.title = title
    if body is not None:
        article.body = body
    if tags is not None:
        article.tags = list(tags)
    article.updated_at = updated_at
    article.search_text = search_text(article.title, article.body, article.tags)
    await session.flush()
    return article


async def search(
    session: AsyncSession, query: str, *, support_line: int | None = None, limit: int = 20
) -> list[KbArticle]:
    """Articles containing every word of `query`; for a line, its own and general ones."""
    stmt = select(KbArticle)
    for word in query.casefold().split():
        stmt = stmt.where(KbArticle.search_text.contains(word, autoescape=True))
    if support_line is not None:
        stmt = stmt.where(
            or_(KbArticle.support_line.is_(None), KbArticle.support_line == support_line)
        )
    stmt = stmt.order_by(KbArticle.title, KbArticle.id).limit(limit)
    return list(await session.scalars(stmt))
