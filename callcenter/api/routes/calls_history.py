"""The signed-in operator's own calls (table 9, functions 11, 12, 21): history by kind, recent
missed calls with their address-book entries, and today's statistics of received calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from callcenter.api.schemas.calls_history import (
    BookEntryOut,
    CallStatsOut,
    HistoryCallOut,
    MissedCallOut,
)
from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, CallHistoryDep, WorkstationRoute
from callcenter.ports.queries import HistoryEntry, HistoryKind
from callcenter.workstation.call_history import other_party

router = APIRouter(
    prefix="/api/v1/me",
    tags=["my calls"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
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
