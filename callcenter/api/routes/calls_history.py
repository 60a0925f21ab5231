"""The signed-in operator's own calls (table 9, functions 11, 12, 21): history by kind, recent
missed calls with their address-book entries, and today's statistics of received calls."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, CallHistoryDep, WorkstationRoute
from callcenter.domain.calls import Direction, Disposition
from callcenter.ports.queries import HistoryEntry, HistoryKind
from callcenter.workstation.call_history import other_party

router = APIRouter(
    prefix="/api/v1/me",
    tags=["my calls"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


class HistoryCallOut(BaseModel):
    id: uuid.UUID
    kind: HistoryKind
    direction: Direction
    number: str = Field(description="the other party: whom to call back")
    caller_number: str
    dialled_number: str | None
    customer_id: int | None
    queue_name: str | None
    started_at: datetime
    ended_at: datetime | None
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: Disposition

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "5d2c7a7e-2b8a-4a39-9f3a-0f8a2a4c1d11",
                    "kind": "missed",
                    "direction": "inbound",
                    "number": "+79157001122",
                    "caller_number": "+79157001122",
                    "dialled_number": "88001000000",
                    "customer_id": 17,
                    "queue_name": "line1",
                    "started_at": "2025-11-23T09:30:00Z",
                    "ended_at": "2025-11-23T09:31:10Z",
                    "wait_seconds": 35.0,
                    "talk_seconds": None,
                    "disposition": "abandoned",
                }
            ]
        }
    )


class BookEntryOut(BaseModel):
    book: str = Field(description="personal or corporate")
    contact_id: int
    name: str


class MissedCallOut(BaseModel):
    call_id: uuid.UUID
    number: str = Field(description="normalised, ready to dial back")
    started_at: datetime
    queue_name: str | None
    customer_id: int | None
    in_address_book: bool
    contact: BookEntryOut | None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "call_id": "5d2c7a7e-2b8a-4a39-9f3a-0f8a2a4c1d11",
                    "number": "+79157001122",
                    "started_at": "2025-11-23T09:30:00Z",
                    "queue_name": "line1",
                    "customer_id": 17,
                    "in_address_book": True,
                    "contact": {"book": "personal", "contact_id": 7, "name": "Петров"},
                }
            ]
        }
    )


class CallStatsOut(BaseModel):
    day: date = Field(description="the local (Moscow) day the figures are for")
    received: int = Field(description="inbound calls that reached me: answered + missed")
    answered: int
    missed: int
    total_talk_seconds: float
    average_talk_seconds: float | None
    average_wait_seconds: float | None = Field(description="callers' wait before I answered")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "day": "2025-11-23",
                    "received": 42,
                    "answered": 40,
                    "missed": 2,
                    "total_talk_seconds": 7380.0,
                    "average_talk_seconds": 184.5,
                    "average_wait_seconds": 21.3,
                }
            ]
        }
    )


def _call_out(entry: HistoryEntry) -> HistoryCallOut:
    c = entry.call
    return HistoryCallOut(
        id=c.id,
        kind=entry.kind,
        direction=c.direction,
        number=other_party(c),
        caller_number=c.caller_number,
        dialled_number=c.dialled_number,
        customer_id=c.customer_id,
        queue_name=c.queue_name,
        started_at=c.started_at,
        ended_at=c.ended_at,
        wait_seconds=c.wait_seconds,
        talk_seconds=c.talk_seconds,
        disposition=c.disposition,
    )


@router.get("/calls", response_model=list[HistoryCallOut], summary="My call history")
async def my_calls(
    actor: ActorDep,
    history: CallHistoryDep,
    kind: Annotated[HistoryKind | None, Query(description="empty: every kind")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[HistoryCallOut]:
    entries = await history.calls(
        actor, kind=kind, since=since, until=until, limit=limit, offset=offset
    )
    return [_call_out(e) for e in entries]


@router.get(
    "/missed",
    response_model=list[MissedCallOut],
    summary="My missed calls of the last 7 days, with whether the number is in an address book",
)
async def my_missed(
    actor: ActorDep,
    history: CallHistoryDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[MissedCallOut]:
    return [
        MissedCallOut(
            call_id=m.call.id,
            number=m.number,
            started_at=m.call.started_at,
            queue_name=m.call.queue_name,
            customer_id=m.call.customer_id,
            in_address_book=m.contact is not None,
            contact=BookEntryOut(
                book=m.contact.book, contact_id=m.contact.contact_id, name=m.contact.name
            )
            if m.contact is not None
            else None,
        )
        for m in await history.missed(actor, limit=limit)
    ]


@router.get("/stats", response_model=CallStatsOut, summary="My received calls today")
async def my_stats(actor: ActorDep, history: CallHistoryDep) -> CallStatsOut:
    s = await history.stats_today(actor)
    return CallStatsOut(
        day=s.day,
        received=s.received,
        answered=s.answered,
        missed=s.missed,
        total_talk_seconds=s.total_talk_seconds,
        average_talk_seconds=s.average_talk_seconds,
        average_wait_seconds=s.average_wait_seconds,
    )
