"""Caller identification (table 9, function 18): the customer card by phone number or
account, with recent calls and appeals. Every lookup is audited (personal data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from callcenter.api.schemas.customers import (
    CardAppealOut,
    CardCallOut,
    CustomerCardOut,
    LookupOut,
)
from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    CustomerCardsDep,
    WorkstationRoute,
)
from callcenter.workstation.customer_cards import CustomerCard

router = APIRouter(
    prefix="/api/v1/customers",
    tags=["customers"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


def _card(card: CustomerCard) -> CustomerCardOut:
    c = card.customer
    return CustomerCardOut(
        id=c.id,
        account_number=c.account_number,
        full_name=c.full_name,
        category=c.category,
        address=c.address,
        locality=c.locality.name if c.locality is not None else None,
        phones=[p.phone for p in c.phones],
        email=c.email,
        balance_kopecks=c.balance_kopecks,
        recent_calls=[
            CardCallOut(
                id=call.id,
                direction=call.direction,
                caller_number=call.caller_number,
                started_at=call.started_at,
                operator_id=call.operator_id,
                queue_name=call.queue_name,
                talk_seconds=call.talk_seconds,
                disposition=call.disposition,
            )
            for call in card.calls
        ],
        recent_appeals=[
            CardAppealOut(
                id=a.id,
                number=a.number,
                kind=a.kind,
                status=a.status,
                topic_id=a.topic_id,
                created_at=a.created_at,
                text=a.text[:200],
            )
            for a in card.appeals
        ],
    )


@router.get(
    "/lookup",
    response_model=LookupOut,
    summary="Identify the caller by phone number or account (audited)",
)
async def lookup(
    actor: ActorDep,
    cards: CustomerCardsDep,
    phone: Annotated[
        str | None, Query(max_length=32, description="any usual spelling: 8 915 700-11-22")
    ] = None,
    account: Annotated[str | None, Query(max_length=32)] = None,
) -> LookupOut:
    found = await cards.lookup(actor, phone=phone, account=account)
    return LookupOut(query=found.query, customers=[_card(c) for c in found.cards])
