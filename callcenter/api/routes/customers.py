"""Caller identification (table 9, function 18): the customer card by phone number or
account, with recent calls and appeals. Every lookup is audited (personal data)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.workstation import (
    ERROR_RESPONSES,
    ActorDep,
    CustomerCardsDep,
    WorkstationRoute,
)
from callcenter.domain.appeals import AppealKind, AppealStatus
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.customers import CustomerCategory
from callcenter.workstation.customer_cards import CustomerCard

router = APIRouter(
    prefix="/api/v1/customers",
    tags=["customers"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)


class CardCallOut(BaseModel):
    id: uuid.UUID
    direction: Direction
    caller_number: str
    started_at: datetime
    operator_id: int | None
    queue_name: str | None
    talk_seconds: float | None
    disposition: Disposition


class CardAppealOut(BaseModel):
    id: uuid.UUID
    number: str
    kind: AppealKind
    status: AppealStatus
    topic_id: int | None
    created_at: datetime
    text: str = Field(description="first 200 characters")


class CustomerCardOut(BaseModel):
    id: int
    account_number: str
    full_name: str
    category: CustomerCategory
    address: str
    locality: str | None
    phones: list[str]
    email: str | None
    balance_kopecks: int = Field(description="positive: the customer owes this much")
    recent_calls: list[CardCallOut]
    recent_appeals: list[CardAppealOut]


class LookupOut(BaseModel):
    query: str = Field(description="the normalised number or the account looked up")
    customers: list[CustomerCardOut] = Field(
        description="empty: unknown caller; several: a shared number"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "+79157001122",
                    "customers": [
                        {
                            "id": 1,
                            "account_number": "6901000001",
                            "full_name": "Иванов Сергей Петрович",
                            "category": "individual",
                            "address": "г. Тверь, ул. Советская, д. 10, кв. 5",
                            "locality": "Тверь",
                            "phones": ["+79157001122"],
                            "email": None,
                            "balance_kopecks": 125050,
                            "recent_calls": [],
                            "recent_appeals": [
                                {
                                    "id": "0b7f7f0e-6f0c-4a4e-8d0e-3f3d2a1b9c55",
                                    "number": "20251120-0003",
                                    "kind": "question",
                                    "status": "answered",
                                    "topic_id": 9,
                                    "created_at": "2025-11-20T07:10:00Z",
                                    "text": "Не принимаются показания через IVR",
                                }
                            ],
                        }
                    ],
                }
            ]
        }
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
