"""Call records for supervisors: `GET /api/v1/calls` and `GET /api/v1/calls/{id}`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from callcenter.api.deps import SessionDep, SupervisorDep
from callcenter.api.schemas.calls import (
    CallDetailOut,
    CallOut,
    CallPage,
    TransferOut,
)
from callcenter.domain import phones
from callcenter.domain.calls import Direction, Disposition
from callcenter.ports.queries import CallFilter

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])


@router.get("", response_model=CallPage, summary="Call records, newest first (supervisor)")
async def list_calls(
    _user: SupervisorDep,
    tx: SessionDep,
    since: Annotated[datetime | None, Query(description="started at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="started before (ISO 8601)")] = None,
    number: Annotated[
        str | None,
        Query(max_length=32, description="caller or dialled, any spelling: +7…, 8…, 8 (…) …"),
    ] = None,
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
        # stored in E.164; older rows may keep another spelling: any of them matches
        number_forms=tuple(phones.search_forms(number)) if number else (),
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
