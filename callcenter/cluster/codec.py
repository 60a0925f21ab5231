"""Dataclasses to JSON-ready values and back for what crosses between roles."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from enum import Enum
from typing import Any

from callcenter.domain.agents import AgentStatus, CallRef, OperatorState


def jsonable(value: Any) -> Any:
    """Dataclasses, datetimes, UUIDs and enums as plain JSON values (recursively)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def _time(raw: object) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) and raw else None


def status_to_json(status: AgentStatus) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(status)
    return data


def status_from_json(data: dict[str, Any]) -> AgentStatus:
    call = data.get("call")
    return AgentStatus(
        state=OperatorState(data["state"]),
        since=_time(data.get("since")),
        pause_reason=data.get("pause_reason"),
        call=CallRef(call["caller_uniqueid"], call["queue"], call.get("linkedid"))
        if isinstance(call, dict)
        else None,
        pending_pause=data.get("pending_pause"),
        wrap_up_until=_time(data.get("wrap_up_until")),
        missed_rings=int(data.get("missed_rings") or 0),
    )


def operator_view_status(view: dict[str, Any]) -> AgentStatus:
    """An operator's status as far as a published live view tells it."""
    queue = view.get("call_queue")
    return AgentStatus(
        state=OperatorState(view["state"]),
        since=_time(view.get("since")),
        pause_reason=view.get("pause_reason"),
        call=CallRef("", queue) if queue else None,
        pending_pause=view.get("pending_pause"),
    )
