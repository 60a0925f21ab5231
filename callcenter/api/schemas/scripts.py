"""Request and response bodies of `callcenter.api.routes.scripts`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_TREE_EXAMPLE: dict[str, Any] = {
    "start": "reason",
    "nodes": {
        "reason": {
            "text": "Что случилось?",
            "param": "reason",
            "options": [
                {"value": "no_power", "label": "Нет электроэнергии", "next": "since"},
                {"value": "low_voltage", "label": "Низкое напряжение", "next": None},
            ],
        },
        "since": {"text": "С какого времени нет света?", "param": "outage_since", "next": None},
    },
}


class OptionIn(BaseModel):
    value: str = Field(max_length=64)
    label: str = Field(max_length=255)
    next: str | None = None


class NodeIn(BaseModel):
    text: str = Field(max_length=2000, description="what the operator says or asks")
    param: str = Field(max_length=64, description="appeal parameter the answer is saved as")
    options: list[OptionIn] = Field(default_factory=list, description="empty: a free answer")
    next: str | None = Field(default=None, description="next node of a free answer")


class TreeIn(BaseModel):
    start: str
    nodes: dict[str, NodeIn] = Field(max_length=200)

    model_config = ConfigDict(json_schema_extra={"examples": [_TREE_EXAMPLE]})


class ScriptIn(BaseModel):
    name: str = Field(max_length=128)
    tree: TreeIn

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Отключение электроэнергии", "tree": _TREE_EXAMPLE}]
        }
    )


class ScriptPatch(BaseModel):
    name: str | None = Field(default=None, max_length=128)
    tree: TreeIn | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Нет света: уточнение адреса"}]}
    )


class ScriptOut(BaseModel):
    id: int
    name: str
    tree: dict[str, Any]
    updated_at: datetime


class AnswerIn(BaseModel):
    node: str
    value: str = Field(max_length=1000)


class RunIn(BaseModel):
    appeal_id: uuid.UUID
    answers: list[AnswerIn] = Field(max_length=200, description="in the order they were given")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appeal_id": "0b7f7f0e-6f0c-4a4e-8d0e-3f3d2a1b9c55",
                    "answers": [
                        {"node": "reason", "value": "no_power"},
                        {"node": "since", "value": "с 8 утра"},
                    ],
                }
            ]
        }
    )


class RunOut(BaseModel):
    appeal_id: uuid.UUID
    saved: dict[str, str] = Field(description="the parameters this run wrote into the appeal")
    params: dict[str, Any] = Field(description="all of the appeal's parameters now")
    path: list[str]
    finished: bool
    next_node: str | None = Field(description="the node to ask next when not finished")
