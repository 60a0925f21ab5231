"""Call scripts (table 9, function 16): question trees for the operator; running one saves
the answers into the appeal's parameters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, ScriptsDep, WorkstationRoute
from callcenter.domain.call_scripts import ScriptAnswer
from callcenter.ports.records import CallScript

router = APIRouter(
    prefix="/api/v1/scripts",
    tags=["call scripts"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)

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


def _out(script: CallScript) -> ScriptOut:
    return ScriptOut(
        id=script.id, name=script.name, tree=dict(script.tree), updated_at=script.updated_at
    )


def _tree(tree: TreeIn) -> dict[str, Any]:
    return tree.model_dump(mode="json")


@router.get("", response_model=list[ScriptOut], summary="All call scripts")
async def list_scripts(_actor: ActorDep, scripts: ScriptsDep) -> list[ScriptOut]:
    return [_out(s) for s in await scripts.list_all()]


@router.get("/{script_id}", response_model=ScriptOut, summary="One call script")
async def get_script(script_id: int, _actor: ActorDep, scripts: ScriptsDep) -> ScriptOut:
    return _out(await scripts.get(script_id))


@router.post(
    "",
    response_model=ScriptOut,
    status_code=status.HTTP_201_CREATED,
    summary="Write a call script (supervisor, administrator)",
)
async def create_script(body: ScriptIn, actor: ActorDep, scripts: ScriptsDep) -> ScriptOut:
    return _out(await scripts.create(actor, name=body.name, tree=_tree(body.tree)))


@router.patch(
    "/{script_id}",
    response_model=ScriptOut,
    summary="Change a call script (supervisor, administrator)",
)
async def update_script(
    script_id: int, body: ScriptPatch, actor: ActorDep, scripts: ScriptsDep
) -> ScriptOut:
    tree = _tree(body.tree) if body.tree is not None else None
    return _out(await scripts.update(actor, script_id, name=body.name, tree=tree))


@router.post(
    "/{script_id}/run",
    response_model=RunOut,
    summary="Save the answers given along a script into the appeal's parameters",
)
async def run_script(script_id: int, body: RunIn, actor: ActorDep, scripts: ScriptsDep) -> RunOut:
    answers = [ScriptAnswer(node=a.node, value=a.value) for a in body.answers]
    result = await scripts.run(actor, script_id, body.appeal_id, answers)
    return RunOut(
        appeal_id=result.appeal.id,
        saved=result.run.params,
        params=dict(result.appeal.params),
        path=result.run.path,
        finished=result.run.finished,
        next_node=result.run.next_node,
    )
