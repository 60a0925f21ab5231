"""Request and response bodies of `callcenter.api.routes.knowledge_base`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ArticleIn(BaseModel):
    title: str = Field(max_length=255)
    body: str = Field(max_length=100_000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    support_line: int | None = Field(default=None, ge=1, le=3, description="empty: every line")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Замена прибора учёта",
                    "body": "Счётчик меняют по заявке; поверка раз в 16 лет для однофазных.",
                    "tags": ["счётчик", "учёт"],
                    "support_line": 2,
                }
            ]
        }
    )


class ArticlePatch(BaseModel):
    """Only the fields present are changed; "support_line": null makes it for every line."""

    title: str | None = Field(default=None, max_length=255)
    body: str | None = Field(default=None, max_length=100_000)
    tags: list[str] | None = Field(default=None, max_length=50)
    support_line: int | None = Field(default=None, ge=1, le=3)

    model_config = ConfigDict(json_schema_extra={"examples": [{"tags": ["счётчик", "поверка"]}]})


class ArticleOut(BaseModel):
    id: int
    title: str
    body: str
    tags: list[str]
    support_line: int | None
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True)


class SearchHitOut(BaseModel):
    id: int
    title: str
    snippet: str = Field(description="the part of the text around the first match")
    rank: float = Field(description="higher is better; comparable within one answer only")
    tags: list[str]
    support_line: int | None
    updated_at: datetime

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 5,
                    "title": "Передача показаний счётчика",
                    "snippet": "Показания счётчика принимаются с 15 по 25 число…",
                    "rank": 1.06,
                    "tags": ["показания"],
                    "support_line": 2,
                    "updated_at": "2025-11-20T08:00:00Z",
                }
            ]
        }
    )
