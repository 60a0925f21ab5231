"""Call records for supervisors: `GET /api/v1/calls` and `GET /api/v1/calls/{id}`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict

from callcenter.api.deps import SessionDep, SupervisorDep
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.transfers import TransferKind
from callcenter.ports.queries import CallFilter

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])

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


@router.get("", response_model=CallPage, summary="Call records, newest first (supervisor)")
async def list_calls(
    _user: SupervisorDep,
    tx: SessionDep,
    since: Annotated[datetime | None, Query(description="started at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="started before (ISO 8601)")] = None,
    number: Annotated[str | None, Query(max_length=32, description="caller or dialled")] = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    operator_id: int | None = None,
    disposition: Disposition | None = None,
    direction: Direction | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CallPage:
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise HTTPException(
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"{name} needs a time zone, e.g. 2026-11-23T08:00:00+03:00",
            )
    flt = CallFilter(
        since=since,
        until=until,
        number=number,
        queue_name=queue,
        operator_id=operator_id,
        disposition=disposition,
        direction=direction,
        limit=limit,
        offset=offset,
    )
    rows = await tx.calls.search(flt)
    total = await tx.calls.count(flt)
    return CallPage(total=total, items=[CallOut.model_validate(r) for r in rows])


@router.get("/{call_id}", response_model=CallDetailOut, summary="One call with its transfers")
async def get_call(call_id: uuid.UUID, _user: SupervisorDep, tx: SessionDep) -> CallDetailOut:
    row = await tx.calls.get(call_id)
    if row is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="no such call")
    transfers = await tx.calls.transfers(call_id)
    base = CallOut.model_validate(row).model_dump()
    return CallDetailOut(**base, transfers=[TransferOut.model_validate(t) for t in transfers])
