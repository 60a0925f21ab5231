"""Request and response bodies of `callcenter.api.routes.operators`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callcenter.domain.agents import OperatorState
from callcenter.domain.queues import QueueStrategy


class OperatorStateOut(BaseModel):
    operator_id: int
    extension: str
    full_name: str
    support_line: int
    state: OperatorState
    since: datetime | None = Field(description="when the state began; empty: never logged in")
    pause_reason: str | None


class StateBoardOut(BaseModel):
    lines: list[int] = Field(description="the support lines the signed-in user may watch")
    operators: list[OperatorStateOut]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lines": [1, 2],
                    "operators": [
                        {
                            "operator_id": 1,
                            "extension": "101",
                            "full_name": "Смирнова Ольга Викторовна",
                            "support_line": 1,
                            "state": "on_call",
                            "since": "2025-11-23T09:28:00Z",
                            "pause_reason": None,
                        }
                    ],
                }
            ]
        }
    )


class QueueOut(BaseModel):
    id: int
    name: str
    support_line: int | None
    description: str
    strategy: QueueStrategy
    wait_target_seconds: int
    is_overflow: bool
    members: int
    member_states: dict[OperatorState, int] = Field(description="members by their current state")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "name": "line1",
                    "support_line": 1,
                    "description": "Отключения, качество электроэнергии, контакты",
                    "strategy": "leastrecent",
                    "wait_target_seconds": 40,
                    "is_overflow": False,
                    "members": 8,
                    "member_states": {"ready": 3, "on_call": 4, "paused": 1},
                }
            ]
        }
    )
