"""Request and response bodies of `callcenter.api.routes.customers`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callcenter.domain.appeals import AppealKind, AppealStatus
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.customers import CustomerCategory


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
