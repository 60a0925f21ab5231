"""Watching colleagues (table 9, functions 15 and 17): the states of the operators the
viewer's line may see, and the list of call queues."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from callcenter.common.access import Actor, UseCases, viewer_for
from callcenter.db.models import Operator, Queue
from callcenter.db.repositories import operator_states as states_repo
from callcenter.db.repositories import operators as operators_repo
from callcenter.db.repositories import queues as queues_repo
from callcenter.domain.agents import OperatorState
from callcenter.domain.visibility import operator_lines_visible


@dataclass(frozen=True, slots=True)
class OperatorStateView:
    operator: Operator
    state: OperatorState
    since: datetime | None  # None: never logged in
    pause_reason: str | None


@dataclass(frozen=True, slots=True)
class StateBoard:
    lines: list[int]
    operators: list[OperatorStateView]


@dataclass(frozen=True, slots=True)
class QueueView:
    queue: Queue
    members: int
    # member operators by current state (operators with no state count as logged out)
    member_states: dict[OperatorState, int] = field(default_factory=dict)


class OperatorsViewService(UseCases):
    async def states(self, actor: Actor) -> StateBoard:
        async with self._sessions() as session:
            viewer = await viewer_for(session, actor)
            lines = sorted(operator_lines_visible(viewer))
            operators = await operators_repo.list_all(session, support_lines=lines) if lines else []
            current = await states_repo.current_states(session, [o.id for o in operators])
        board = []
        for operator in operators:
            row = current.get(operator.id)
            board.append(
                OperatorStateView(
                    operator=operator,
                    state=OperatorState(row.state) if row else OperatorState.LOGGED_OUT,
                    since=row.started_at if row else None,
                    pause_reason=row.pause_reason if row else None,
                )
            )
        board.sort(key=lambda v: (v.operator.support_line, v.operator.extension))
        return StateBoard(lines=lines, operators=board)

    async def queues(self, actor: Actor) -> list[QueueView]:
        async with self._sessions() as session:
            queues = await queues_repo.list_all(session)
            member_ids = {m.operator_id for q in queues for m in q.members}
            current = await states_repo.current_states(session, member_ids)
        views = []
        for queue in queues:
            counts: Counter[OperatorState] = Counter()
            for member in queue.members:
                row = current.get(member.operator_id)
                counts[OperatorState(row.state) if row else OperatorState.LOGGED_OUT] += 1
            views.append(
                QueueView(queue=queue, members=len(queue.members), member_states=dict(counts))
            )
        return views
