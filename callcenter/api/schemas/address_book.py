"""Request and response bodies of `callcenter.api.routes.address_book`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CorporateContactIn(BaseModel):
    name: str = Field(max_length=255)
    department: str = Field(default="", max_length=255)
    position: str = Field(default="", max_length=255)
    phone: str | None = Field(default=None, max_length=32)
    extension: str | None = Field(default=None, max_length=16)
    email: str | None = Field(default=None, max_length=255)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Дежурный диспетчер",
                    "department": "Диспетчерская служба Тверского РЭС",
                    "position": "Диспетчер",
                    "phone": "+7 4822 34-56-01",
                    "extension": "501",
                    "email": "dispatch.tver@example.ru",
                }
            ]
        }
    )


class CorporateContactOut(BaseModel):
    id: int
    name: str
    department: str
    position: str
    phone: str | None
    extension: str | None
    email: str | None

    model_config = ConfigDict(from_attributes=True)


class CorporatePage(BaseModel):
    items: list[CorporateContactOut]
    total: int


class PersonalContactIn(BaseModel):
    name: str = Field(max_length=255)
    phone: str = Field(max_length=32, description="any usual spelling; stored as +7XXXXXXXXXX")
    note: str = Field(default="", max_length=4000)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Петров, мастер участка", "phone": "8 (915) 700-11-22"}]
        }
    )


class PersonalContactPatch(BaseModel):
    name: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=4000)

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "звонить после 14:00"}]})


class PersonalContactOut(BaseModel):
    id: int
    name: str
    phone: str
    note: str
    created_at: datetime

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "name": "Петров, мастер участка",
                    "phone": "+79157001122",
                    "note": "",
                    "created_at": "2025-11-23T09:30:00Z",
                }
            ]
        },
    )


class PersonalPage(BaseModel):
    items: list[PersonalContactOut]
    total: int


class FromCallIn(BaseModel):
    call_id: uuid.UUID = Field(description="one of my calls, e.g. from GET /api/v1/me/missed")
    name: str = Field(max_length=255)
    note: str = Field(default="", max_length=4000)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"call_id": "5d2c7a7e-2b8a-4a39-9f3a-0f8a2a4c1d11", "name": "Сидорова А. П."}
            ]
        }
    )
