"""Call scripts (table 9, function 16): question trees shown to the operator during a call;
the answers given along the way are saved into the appeal's parameters automatically."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callcenter.common.access import (
    AccessDenied,
    Actor,
    Clock,
    Conflict,
    InvalidInput,
    NotFound,
    Sessions,
    UseCases,
)
from callcenter.domain.call_scripts import ScriptAnswer, ScriptError, ScriptRun, parse_tree, walk
from callcenter.ports.records import Appeal, CallScript
from callcenter.workstation.appeals import AppealsService

MAX_NAME = 128
# where a run's own record goes in the appeal's parameters
SCRIPT_PARAM = "_script"


@dataclass(frozen=True, slots=True)
class ScriptRunResult:
    run: ScriptRun
    appeal: Appeal


def _checked_tree(tree: Mapping[str, Any]) -> dict[str, Any]:
    try:
        parse_tree(tree)
    except ScriptError as exc:
        raise InvalidInput(str(exc)) from None
    return dict(tree)


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"Название сценария: от 1 до {MAX_NAME} символов")
    return name


class ScriptsService(UseCases):
    def __init__(self, sessions: Sessions, *, clock: Clock, appeals: AppealsService) -> None:
        super().__init__(sessions, clock=clock)
        self._appeals = appeals

    async def list_all(self) -> Sequence[CallScript]:
        async with self._sessions() as tx:
            return await tx.scripts.list_all()

    async def get(self, script_id: int) -> CallScript:
        async with self._sessions() as tx:
            script = await tx.scripts.get(script_id)
        if script is None:
            raise NotFound(f"Сценарий {script_id} не найден")
        return script

    async def create(self, actor: Actor, *, name: str, tree: Mapping[str, Any]) -> CallScript:
        name, checked = _checked_name(name), _checked_tree(tree)
        async with self.transaction(actor) as tx:
            self._require_editor(actor, "call_script.create", "new")
            if await tx.scripts.get_by_name(name) is not None:
                raise Conflict(f"Сценарий «{name}» уже есть")
            script = await tx.scripts.create(name=name, tree=checked, updated_at=self.now())
            await self.audit(
                tx,
                actor,
                "call_script.create",
                object_type="call_script",
                object_id=script.id,
                details={"name": name},
            )
            return script

    async def update(
        self,
        actor: Actor,
        script_id: int,
        *,
        name: str | None = None,
        tree: Mapping[str, Any] | None = None,
    ) -> CallScript:
        new_name = _checked_name(name) if name is not None else None
        new_tree = _checked_tree(tree) if tree is not None else None
        async with self.transaction(actor) as tx:
            self._require_editor(actor, "call_script.update", str(script_id))
            script = await tx.scripts.get(script_id)
            if script is None:
                raise NotFound(f"Сценарий {script_id} не найден")
            if (
                new_name is not None
                and new_name != script.name
                and await tx.scripts.get_by_name(new_name) is not None
            ):
                raise Conflict(f"Сценарий «{new_name}» уже есть")
            await tx.scripts.update(script, updated_at=self.now(), name=new_name, tree=new_tree)
            await self.audit(
                tx,
                actor,
                "call_script.update",
                object_type="call_script",
                object_id=script.id,
                details={"name": script.name, "tree_changed": new_tree is not None},
            )
            return script

    async def run(
        self,
        actor: Actor,
        script_id: int,
        appeal_id: uuid.UUID,
        answers: Sequence[ScriptAnswer],
    ) -> ScriptRunResult:
        """Check the answers against the script and save them into the appeal's parameters
        (with a "_script" record of which script, which path, finished or not)."""
        async with self.transaction(actor) as tx:
            script = await tx.scripts.get(script_id)
            if script is None:
                raise NotFound(f"Сценарий {script_id} не найден")
            try:
                result = walk(parse_tree(script.tree), answers)
            except ScriptError as exc:
                raise InvalidInput(str(exc)) from None
            record = {
                "id": script.id,
                "name": script.name,
                "path": result.path,
                "finished": result.finished,
                "at": self.now().isoformat(),
            }
            appeal = await self._appeals.merge_params(
                tx, actor, appeal_id, {**result.params, SCRIPT_PARAM: record}
            )
            await self.audit(
                tx,
                actor,
                "call_script.run",
                object_type="appeal",
                object_id=appeal.id,
                details={"script_id": script.id, "params": sorted(result.params)},
            )
            return ScriptRunResult(run=result, appeal=appeal)

    @staticmethod
    def _require_editor(actor: Actor, action: str, object_id: str) -> None:
        if not actor.is_supervisor:
            raise AccessDenied(
                "Сценарии разговоров ведут супервизоры и администраторы",
                action=action,
                object_type="call_script",
                object_id=object_id,
            )
