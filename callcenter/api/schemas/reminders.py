"""Request and response bodies of `callcenter.api.routes.reminders`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from callcenter.domain.reminders import ReminderKind


class ReminderIn(BaseModel):
    due_at: AwareDatetime = Field(description="in the future, within a year")
    text: str = Field(max_length=2000)
    appeal_id: uuid.UUID | None = Field(default=None, description="the appeal it is about")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "due_at": "2030-11-23T10:00:00+03:00",
                    "text": "Перезвонить Иванову по перерасчёту",
                    "appeal_id": "0b7f7f0e-6f0c-4a4e-8d0e-3f3d2a1b9c55",
                }
            ]
        }
    )


class ReminderOut(BaseModel):
    id: int
    due_at: datetime
    text: str
    kind: ReminderKind = Field(description="automatic: an appeal deadline; manual: set by hand")
    appeal_id: uuid.UUID | None
    created_at: datetime
    done_at: datetime | None

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 41,
                    "due_at": "2025-11-23T21:30:00Z",
                    "text": "Обращение 20251123-0007: до срока передачи специалисту осталось 12 ч",
                    "kind": "automatic",
                    "appeal_id": "0b7f7f0e-6f0c-4a4e-8d0e-3f3d2a1b9c55",
                    "created_at": "2025-11-23T09:30:00Z",
                    "done_at": None,
                }
            ]
        },
    )


class ReminderPage(BaseModel):
    items: list[ReminderOut]
    total: int
