"""The knowledge base (table 9, function 22): fast search in any word form while registering
an appeal; supervisors and administrators write the articles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from callcenter.api.schemas.knowledge_base import (
    ArticleIn,
    ArticleOut,
    ArticlePatch,
    SearchHitOut,
)
from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    KnowledgeBaseDep,
    WorkstationRoute,
    editors_only,
)
from callcenter.workstation.knowledge_base import UNCHANGED

router = APIRouter(
    prefix="/api/v1/kb",
    tags=["knowledge base"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)

_EDITORS = editors_only(
    "Базу знаний ведут супервизоры и администраторы",
    object_type="kb_article",
)


Line = Annotated[
    int | None,
    Query(ge=1, le=3, description="this line's articles plus those for every line"),
]


@router.get("/search", response_model=list[SearchHitOut], summary="Search the knowledge base")
async def search(
    actor: ActorDep,
    kb: KnowledgeBaseDep,
    q: Annotated[
        str,
        Query(
            max_length=200,
            description="words in any form; PostgreSQL also "
            'understands "quoted phrases", or, -word',
        ),
    ],
    line: Line = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[SearchHitOut]:
    results = await kb.search(actor, q, support_line=line, limit=limit)
    return [
        SearchHitOut(
            id=r.article.id,
            title=r.article.title,
            snippet=r.snippet,
            rank=round(r.rank, 4),
            tags=list(r.article.tags),
            support_line=r.article.support_line,
            updated_at=r.article.updated_at,
        )
        for r in results
    ]


@router.get("/articles", response_model=list[ArticleOut], summary="Articles, latest first")
async def recent(
    actor: ActorDep,
    kb: KnowledgeBaseDep,
    line: Line = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ArticleOut]:
    articles = await kb.recent(actor, support_line=line, limit=limit, offset=offset)
    return [ArticleOut.model_validate(a) for a in articles]


@router.get("/articles/{article_id}", response_model=ArticleOut, summary="One article")
async def get_article(article_id: int, actor: ActorDep, kb: KnowledgeBaseDep) -> ArticleOut:
    return ArticleOut.model_validate(await kb.get(actor, article_id))


@router.post(
    "/articles",
    response_model=ArticleOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[_EDITORS("kb_article.create")],
    summary="Write an article (supervisor, administrator)",
)
async def create_article(body: ArticleIn, actor: ActorDep, kb: KnowledgeBaseDep) -> ArticleOut:
    article = await kb.create(
        actor,
        title=body.title,
        body=body.body,
        tags=body.tags,
        support_line=body.support_line,
    )
    return ArticleOut.model_validate(article)


@router.patch(
    "/articles/{article_id}",
    response_model=ArticleOut,
    dependencies=[_EDITORS("kb_article.update")],
    summary="Change an article (supervisor, administrator)",
)
async def update_article(
    article_id: int, body: ArticlePatch, actor: ActorDep, kb: KnowledgeBaseDep
) -> ArticleOut:
    article = await kb.update(
        actor,
        article_id,
        title=body.title,
        body=body.body,
        tags=body.tags,
        support_line=body.support_line if "support_line" in body.model_fields_set else UNCHANGED,
    )
    return ArticleOut.model_validate(article)
