"""Watching colleagues (table 9, functions 15 and 17): the states of the operators the
viewer's line may see, and the list of call queues."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from callcenter.common.access import Actor, UseCases, viewer_for
from callcenter.domain.agents import OperatorState
from callcenter.domain.visibility import operator_lines_visible
from callcenter.ports.records import Operator, Queue


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
        async with self._sessions() as tx:
            viewer = await viewer_for(tx, actor)
            lines = sorted(operator_lines_visible(viewer))
            operators = await tx.operators.list_all(support_lines=lines) if lines else []
            current = await tx.operator_states.current_states([o.id for o in operators])
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
        async with self._sessions() as tx:
            queues = await tx.queues.list_all()
            member_ids = {m.operator_id for q in queues for m in q.members}
            current = await tx.operator_states.current_states(member_ids)
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
