"""Request and response bodies of `callcenter.api.routes.calls`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict

from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.transfers import TransferKind

_EXAMPLE: dict[str, Any] = {
    "id": "5b0f4f1e-2a8d-4c31-9a55-4d1f3b6c9e10",
    "linkedid": "1795432716.0",
    "direction": "inbound",
    "caller_number": "+79161234567",
    "caller_name": "Ivanov Ivan",
    "dialled_number": "88001000000",
    "customer_id": 17,
    "started_at": "2026-11-23T11:18:36.510Z",
    "answered_at": "2026-11-23T11:18:48.410Z",
    "ended_at": "2026-11-23T11:18:51.420Z",
    "ivr_path": ["1", "2"],
    "ivr_seconds": 11.9,
    "ivr_closed": False,
    "recording_notice_version": "2025-01",
    "queue_name": "line1",
    "operator_id": 1,
    "wait_seconds": 0.4,
    "talk_seconds": 3.0,
    "disposition": "answered",
    "hangup_cause": 16,
    "transfer_count": 0,
    "is_queued_callback": False,
    "priority": 0,
}


class CallOut(BaseModel):
    id: uuid.UUID
    linkedid: str
    direction: Direction
    caller_number: str
    caller_name: str | None
    dialled_number: str | None
    customer_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ivr_path: list[str]
    ivr_seconds: float | None
    ivr_closed: bool
    recording_notice_version: str | None
    queue_name: str | None
    operator_id: int | None
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: Disposition
    hangup_cause: int | None
    transfer_count: int
    is_queued_callback: bool
    priority: int

    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [cast(JsonDict, _EXAMPLE)]}
    )


class TransferOut(BaseModel):
    kind: TransferKind
    to_target: str
    at: datetime
    from_operator_id: int | None

    model_config = ConfigDict(from_attributes=True)


class CallDetailOut(CallOut):
    transfers: list[TransferOut]


class CallPage(BaseModel):
    total: int
    items: list[CallOut]
