"""Request and response bodies of `callcenter.api.routes.appeals`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

from callcenter.api.schemas import small_json
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus

_TOPIC_EXAMPLE: dict[str, JsonValue] = {
    "id": 3,
    "code": "outages.emergency",
    "name": "Аварийные отключения",
    "parent_id": 1,
    "is_complaint": False,
}


class TopicOut(BaseModel):
    id: int
    code: str
    name: str
    parent_id: int | None
    is_complaint: bool = Field(description="complaints are answered within 14 days")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [_TOPIC_EXAMPLE]},
    )


class AppealIn(BaseModel):
    text: str = Field(max_length=10_000, description="what the customer asked or reported")
    customer_id: int | None = Field(default=None, description="the customer card it belongs to")
    call_id: uuid.UUID | None = Field(default=None, description="the call it came from")
    channel: AppealChannel = AppealChannel.PHONE
    kind: AppealKind = Field(
        default=AppealKind.QUESTION,
        description="question: 1 day to hand off + 10 days to answer; complaint: 14 days "
        "(implied by a complaint topic); callback: answer promised within 30 minutes",
    )
    topic_code: str | None = Field(default=None, description="classifier code (or topic_id)")
    topic_id: int | None = None
    params: dict[str, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="call parameters, e.g. collected by a call script",
    )
    operator_id: int | None = Field(
        default=None,
        description="owner; operators always own what they register, supervisors may assign",
    )
    requested_at: AwareDatetime | None = Field(
        default=None,
        description="when the customer asked (default: now; within the last year, not in the "
        "future); deadlines run from it",
    )

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, Any]) -> dict[str, Any]:
        return small_json(value)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "Нет света с 8 утра, ул. Луговая, 5",
                    "customer_id": 17,
                    "call_id": "5d2c7a7e-2b8a-4a39-9f3a-0f8a2a4c1d11",
                    "channel": "phone",
                    "kind": "question",
                    "topic_code": "outages.emergency",
                    "params": {"account_number": "6901000017", "outage_since": "08:00"},
                },
                {
                    "text": "Уточнить сумму перерасчёта и перезвонить",
                    "customer_id": 17,
                    "kind": "callback",
                    "topic_code": "billing",
                },
            ]
        }
    )


class StatusHistoryOut(BaseModel):
    from_status: AppealStatus | None
    to_status: AppealStatus
    changed_by: int | None
    at: datetime
    comment: str

    model_config = ConfigDict(from_attributes=True)


class StatusChangeIn(BaseModel):
    status: AppealStatus
    comment: str = Field(
        default="", max_length=2000, description="required when closing an unanswered appeal"
    )
    assign_to_operator_id: int | None = Field(
        default=None, description="with handed_off: the specialist who takes the appeal over"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "handed_off", "comment": "В РЭС", "assign_to_operator_id": 9},
                {"status": "extended", "comment": "Нужен выезд на место"},
                {"status": "closed", "comment": "Нет контактных данных заявителя"},
            ]
        }
    )


class AppealEditIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000, description="the corrected text")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"text": "Нет света с 8 утра, ул. Луговая, 5, кв. 2"}]}
    )
