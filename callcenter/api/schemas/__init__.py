"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callcenter.domain.roles import Role
from callcenter.ports.pbx import PbxState


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    role: Role

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIs...",
                    "token_type": "bearer",
                    "expires_at": "2026-11-23T21:00:00Z",
                    "role": "operator",
                }
            ]
        }
    )


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    operator_id: int | None
    is_active: bool

    model_config = ConfigDict(from_attributes=True)


class DatabaseHealth(BaseModel):
    ok: bool
    backend: str
    revision: str | None = None
    latency_ms: float | None = None
    error: str | None = None


class PbxHealth(BaseModel):
    state: PbxState
    target: str
    detail: str = ""


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "down"] = Field(
        description="ok: database up and PBX linked; degraded: database up, PBX not linked; "
        "down: database unreachable"
    )
    version: str
    database: DatabaseHealth
    pbx: PbxHealth


# ----------------------------------------------------------------------------- input rules

MAX_PARAMS_BYTES = 16 * 1024


def small_json(value: dict[str, Any], *, limit: int = MAX_PARAMS_BYTES) -> dict[str, Any]:
    if len(json.dumps(value, ensure_ascii=False, default=str).encode()) > limit:
        raise ValueError(f"must be at most {limit // 1024} KB as JSON")
    return value
