"""Request and response bodies of `callcenter.api.routes.calls_history`."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from callcenter.domain.calls import Direction, Disposition
from callcenter.ports.queries import HistoryKind


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
