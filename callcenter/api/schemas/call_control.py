"""Request and response bodies of `callcenter.api.routes.call_control`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.schemas.customers import CustomerCardOut
from callcenter.workstation.call_control import (
    RedialStatus,
    TargetKind,
)


class DialIn(BaseModel):
    number: str = Field(min_length=1, max_length=32, description="public number or extension")

    model_config = ConfigDict(json_schema_extra={"examples": [{"number": "8 (915) 700-11-22"}]})


class DialOut(BaseModel):
    channel_id: str = Field(description="the new call's ChannelId (and linkedid, CALL_UUID)")
    channel: str = Field(description="the operator's phone that rings first")
    number: str
    context: str


class ChannelIn(BaseModel):
    channel: str = Field(min_length=1, max_length=128)

    model_config = ConfigDict(json_schema_extra={"examples": [{"channel": "1763891234.42"}]})


class TransferIn(BaseModel):
    channel: str = Field(
        min_length=1,
        max_length=128,
        description="your own leg (PJSIP/101-…: BlindTransfer/Atxfer) or the caller's "
        "channel / uniqueid (Redirect)",
    )
    target_kind: TargetKind
    target: str = Field(
        default="",
        max_length=32,
        description="operator: extension; line: 1-3; ivr: empty; external: a number",
    )
    attended: bool = False

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"channel": "PJSIP/101-0000000a", "target_kind": "line", "target": "2"},
                {
                    "channel": "PJSIP/101-0000000a",
                    "target_kind": "operator",
                    "target": "102",
                    "attended": True,
                },
                {"channel": "1763891234.42", "target_kind": "external", "target": "+79157001122"},
            ]
        }
    )


class TransferOut(BaseModel):
    channel: str
    context: str
    exten: str


class ConferenceIn(BaseModel):
    room: str = Field(pattern=r"^9\d\d$", description="a room of the conference context, 9NN")
    channels: list[str] = Field(default_factory=list, max_length=10)
    invite: list[str] = Field(
        default_factory=list, max_length=5, description="numbers to call into the room"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "room": "901",
                    "channels": ["1763891234.42", "PJSIP/101-0000000a"],
                    "invite": ["205"],
                }
            ]
        }
    )


class InvitedOut(BaseModel):
    channel_id: str
    channel: str
    number: str


class ParticipantOut(BaseModel):
    channel: str
    uniqueid: str
    caller_id_num: str
    caller_id_name: str
    muted: bool
    talking: bool
    answered_seconds: int


class ModerateIn(BaseModel):
    channel: str = Field(min_length=1, max_length=128)
    action: Literal["kick", "mute", "unmute"]

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"channel": "PJSIP/205-00000011", "action": "mute"}]}
    )


class LiveCallOut(BaseModel):
    linkedid: str = Field(description="the caller's channel uniqueid (use it as `channel`)")
    call_id: uuid.UUID
    direction: str
    caller_number: str
    dialled_number: str | None
    queue_name: str | None
    operator_interface: str | None
    operator_channel: str | None = Field(
        default=None,
        description="the operator's own leg now talking (use it for an attended transfer)",
    )
    started_at: datetime
    answered_at: datetime | None


class RedialIn(BaseModel):
    number: str = Field(min_length=1, max_length=32)
    attempts: int = Field(default=3, ge=1, le=10)
    interval_seconds: float = Field(default=60.0, ge=0.05, le=3600.0)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"number": "+79157001122", "attempts": 3, "interval_seconds": 60}]
        }
    )


class RedialOut(BaseModel):
    id: uuid.UUID
    number: str
    attempts: int
    made: int
    interval_seconds: float
    status: RedialStatus
    channel_ids: list[str]
    last_error: str | None


class ScreenPopOut(BaseModel):
    type: Literal["screen_pop"] = "screen_pop"
    linkedid: str | None
    caller_number: str | None
    queue: str | None
    ivr_path: list[str]
    customers: list[CustomerCardOut] = Field(description="cards with recent calls and appeals")
