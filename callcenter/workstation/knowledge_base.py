"""The knowledge base (table 9, function 22): fast search while the operator registers an
appeal, and upkeep of the articles by supervisors and administrators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from callcenter.common.access import AccessDenied, Actor, InvalidInput, NotFound, UseCases
from callcenter.domain import kb_search
from callcenter.domain.visibility import SUPPORT_LINES
from callcenter.ports.records import KbArticle

MAX_TITLE = 255
MAX_QUERY = 200


class Unchanged(Enum):
    """Marks an optional argument left alone (where None is itself a meaningful value)."""

    TOKEN = "unchanged"


UNCHANGED = Unchanged.TOKEN


@dataclass(frozen=True, slots=True)
class KbResult:
    article: KbArticle
    rank: float
    snippet: str


def _check_line(line: int | None) -> None:
    if line is not None and line not in SUPPORT_LINES:
        raise InvalidInput("Линия поддержки — 1, 2 или 3 (или пусто: для всех линий)")


def _clean_tags(tags: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))


class KnowledgeBaseService(UseCases):
    async def search(
        self, actor: Actor, query: str, *, support_line: int | None = None, limit: int = 20
    ) -> list[KbResult]:
        query = query.strip()
        if len(query) > MAX_QUERY:
            raise InvalidInput(f"Запрос длиннее {MAX_QUERY} символов")
        _check_line(support_line)
        async with self._sessions() as tx:
            hits = await tx.knowledge_base.full_text_search(
                query, support_line=support_line, limit=limit
            )
        stems = kb_search.query_stems(query)
        return [
            KbResult(
                article=h.article, rank=h.rank, snippet=kb_search.snippet(stems, h.article.body)
            )
            for h in hits
        ]

    async def recent(
        self, actor: Actor, *, support_line: int | None = None, limit: int = 20, offset: int = 0
    ) -> Sequence[KbArticle]:
        _check_line(support_line)
        async with self._sessions() as tx:
            return await tx.knowledge_base.list_recent(
                support_line=support_line, limit=limit, offset=offset
            )

    async def get(self, actor: Actor, article_id: int) -> KbArticle:
        async with self._sessions() as tx:
            article = await tx.knowledge_base.get(article_id)
        if article is None:
            raise NotFound(f"Статья {article_id} не найдена")
        return article

    async def create(
        self,
        actor: Actor,
        *,
        title: str,
        body: str,
        tags: Sequence[str] = (),
        support_line: int | None = None,
    ) -> KbArticle:
        title, body = _clean_title(title), _clean_body(body)
        _check_line(support_line)
        async with self.transaction(actor) as tx:
            self._require_editor(actor, "kb_article.create", "new")
            article = await tx.knowledge_base.create(
                title=title,
                body=body,
                tags=_clean_tags(tags),
                support_line=support_line,
                updated_at=self.now(),
            )
            await self.audit(
                tx,
                actor,
                "kb_article.create",
                object_type="kb_article",
                object_id=article.id,
                details={"title": title},
            )
            return article

    async def update(
        self,
        actor: Actor,
        article_id: int,
        *,
        title: str | None = None,
        body: str | None = None,
        tags: Sequence[str] | None = None,
        support_line: int | Unchanged | None = UNCHANGED,
    ) -> KbArticle:
        """Change the given fields; `support_line=None` makes the article one for every line."""
        clean_title = _clean_title(title) if title is not None else None
        clean_body = _clean_body(body) if body is not None else None
        async with self.transaction(actor) as tx:
            self._require_editor(actor, "kb_article.update", str(article_id))
            article = await tx.knowledge_base.get(article_id)
            if article is None:
                raise NotFound(f"Статья {article_id} не найдена")
            now = self.now()
            await tx.knowledge_base.update(
                article,
                updated_at=now,
                title=clean_title,
                body=clean_body,
                tags=_clean_tags(tags) if tags is not None else None,
            )
            changed = [
                name
                for name, value in (("title", title), ("body", body), ("tags", tags))
                if value is not None
            ]
            if not isinstance(support_line, Unchanged):
                _check_line(support_line)
                await tx.knowledge_base.update_line(article, support_line, updated_at=now)
                changed.append("support_line")
            await self.audit(
                tx,
                actor,
                "kb_article.update",
                object_type="kb_article",
                object_id=article.id,
                details={"fields": changed},
            )
            return article

    @staticmethod
    def _require_editor(actor: Actor, action: str, object_id: str) -> None:
        if not actor.is_supervisor:
            raise AccessDenied(
                "Базу знаний ведут супервизоры и администраторы",
                action=action,
                object_type="kb_article",
                object_id=object_id,
            )


def _clean_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidInput("У статьи должен быть заголовок")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"Заголовок длиннее {MAX_TITLE} символов")
    return title


def _clean_body(body: str) -> str:
    if not body.strip():
        raise InvalidInput("Текст статьи пуст")
    return body.strip()
