"""Call scripts (table 9, function 16): question trees for the operator; running one saves
the answers into the appeal's parameters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from callcenter.api.schemas.scripts import (
    RunIn,
    RunOut,
    ScriptIn,
    ScriptOut,
    ScriptPatch,
    TreeIn,
)
from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    ScriptsDep,
    WorkstationRoute,
    editors_only,
)
from callcenter.domain.call_scripts import ScriptAnswer
from callcenter.ports.records import CallScript

router = APIRouter(
    prefix="/api/v1/scripts",
    tags=["call scripts"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)

_EDITORS = editors_only(
    "Сценарии разговоров ведут супервизоры и администраторы",
    object_type="call_script",
)


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
    dependencies=[_EDITORS("call_script.create")],
    summary="Write a call script (supervisor, administrator)",
)
async def create_script(body: ScriptIn, actor: ActorDep, scripts: ScriptsDep) -> ScriptOut:
    return _out(await scripts.create(actor, name=body.name, tree=_tree(body.tree)))


@router.patch(
    "/{script_id}",
    response_model=ScriptOut,
    dependencies=[_EDITORS("call_script.update")],
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
