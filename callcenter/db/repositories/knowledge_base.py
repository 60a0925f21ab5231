"""Knowledge-base articles and a simple substring search over them.

A stop-gap until full-text search: every word of the query must occur in the article's
title, body or tags, case-insensitively (Cyrillic included, on both backends).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnClause, Select, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from callcenter.db.models import KbArticle
from callcenter.domain import kb_search
from callcenter.ports.queries import KbHit


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


# ---- full-text search (added for the operator workstation) ----
#
# PostgreSQL: to_tsvector('russian', search_text) @@ websearch_to_tsquery('russian', :q),
# ranked with ts_rank plus a boost when the title matches. The configuration is written as a
# literal (not a bound parameter) so the planner can use an expression index on exactly
#     to_tsvector('russian'::regconfig, search_text)
# SQLite: word-prefix matching of crudely stemmed query words (domain.kb_search) against the
# case-folded `search_text`, narrowed in SQL by substring and ranked in Python.

_RUSSIAN: ColumnClause[Any] = literal_column("'russian'")
_TITLE_BOOST = 1.0


def _line_filter(stmt: Select[Any], support_line: int | None) -> Select[Any]:
    if support_line is None:
        return stmt
    return stmt.where(or_(KbArticle.support_line.is_(None), KbArticle.support_line == support_line))


async def full_text_search(
    session: AsyncSession, query: str, *, support_line: int | None = None, limit: int = 20
) -> list[KbHit]:
    """Articles matching `query` in any word form, best first; for a line, its own and
    general ones. An empty query (or one of stop words only) finds nothing."""
    if not query.strip():
        return []
    if session.get_bind().dialect.name == "postgresql":
        return await _search_postgres(session, query, support_line, limit)
    return await _search_fallback(session, query, support_line, limit)


async def _search_postgres(
    session: AsyncSession, query: str, support_line: int | None, limit: int
) -> list[KbHit]:
    # "ё" and "е" stem alike in PostgreSQL's russian dictionary, but the query is folded the
    # same way as the stored text anyway so that both sides always agree
    tsquery = func.websearch_to_tsquery(_RUSSIAN, kb_search.normalise(query))
    document = func.to_tsvector(_RUSSIAN, KbArticle.search_text)
    title_hit = func.to_tsvector(_RUSSIAN, func.lower(KbArticle.title)).op("@@")(tsquery)
    rank = (func.ts_rank(document, tsquery) + case((title_hit, _TITLE_BOOST), else_=0.0)).label(
        "rank"
    )
    stmt = select(KbArticle, rank).where(document.op("@@")(tsquery))
    stmt = _line_filter(stmt, support_line).order_by(rank.desc(), KbArticle.title, KbArticle.id)
    rows = await session.execute(stmt.limit(limit))
    return [KbHit(article=a, rank=float(r)) for a, r in rows]


async def _search_fallback(
    session: AsyncSession, query: str, support_line: int | None, limit: int
) -> list[KbHit]:
    stems = kb_search.query_stems(query)
    if not stems:
        return []
    folded = func.replace(KbArticle.search_text, "ё", "е")
    stmt = select(KbArticle)
    for s in stems:
        stmt = stmt.where(folded.contains(s, autoescape=True))
    candidates = await session.scalars(_line_filter(stmt, support_line))
    hits = []
    for article in candidates:
        found = kb_search.match(stems, article.title, article.search_text)
        if found is not None:
            hits.append(KbHit(article=article, rank=found.score))
    hits.sort(key=lambda h: (-h.rank, h.article.title, h.article.id))
    return hits[:limit]


async def list_recent(
    session: AsyncSession, *, support_line: int | None = None, limit: int = 20, offset: int = 0
) -> list[KbArticle]:
    """Articles, most recently updated first (the knowledge base's front page)."""
    stmt = _line_filter(select(KbArticle), support_line)
    stmt = stmt.order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
    return list(await session.scalars(stmt.limit(limit).offset(offset)))


async def update_line(
    session: AsyncSession, article: KbArticle, support_line: int | None, *, updated_at: datetime
) -> KbArticle:
    """Move an article to a line (None: every line); `update` leaves the line alone."""
    article.support_line = support_line
    article.updated_at = updated_at
    await session.flush()
    return article
