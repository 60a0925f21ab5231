"""Request and response bodies of `callcenter.api.routes.recordings`."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callcenter.domain.calls import Direction
from callcenter.domain.recordings import RecordingState
from callcenter.ports.queries import RecordingListItem
from callcenter.ports.records import Voicemail
from callcenter.storage.recordings import ExportFormat

PREFIX = "/api/v1/recordings"


MAX_BULK_EXPORT = 500


class RecordingOut(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID | None
    appeal_id: uuid.UUID | None
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    size_bytes: int | None
    state: RecordingState
    archived: bool
    rule_name: str | None
    caller_number: str | None
    dialled_number: str | None
    direction: Direction | None
    operator_id: int | None
    queue_name: str | None
    audio_url: str

    @classmethod
    def of(cls, item: RecordingListItem) -> RecordingOut:
        return cls(
            id=item.id,
            call_id=item.call_id,
            appeal_id=item.appeal_id,
            started_at=item.started_at,
            ended_at=item.ended_at,
            duration_seconds=item.duration_seconds,
            size_bytes=item.size_bytes,
            state=item.state,
            archived=item.archived_at is not None,
            rule_name=item.rule_name,
            caller_number=item.caller_number,
            dialled_number=item.dialled_number,
            direction=item.direction,
            operator_id=item.operator_id,
            queue_name=item.queue_name,
            audio_url=f"{PREFIX}/{item.id}/audio",
        )


class RecordingPage(BaseModel):
    items: list[RecordingOut]
    limit: int
    offset: int
    has_more: bool


class BulkExportIn(BaseModel):
    ids: list[str] = Field(min_length=1, max_length=MAX_BULK_EXPORT)
    format: ExportFormat = ExportFormat.WAV

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ids": ["5b0f4f1e-2a8d-4c31-9a55-4d1f3b6c9e10"], "format": "flac"}]
        }
    )


class ArchiveIn(BaseModel):
    ids: list[uuid.UUID] | None = Field(default=None, max_length=MAX_BULK_EXPORT)
    older_than_days: int | None = Field(default=None, ge=0, le=36_500)

    model_config = ConfigDict(json_schema_extra={"examples": [{"older_than_days": 30}]})


class ArchiveOut(BaseModel):
    archived: list[uuid.UUID]
    skipped: list[uuid.UUID]
    failed: list[uuid.UUID]


class RetentionOut(BaseModel):
    deleted: list[uuid.UUID]
    files_removed: int


class VoicemailOut(BaseModel):
    id: int
    created_at: datetime
    caller_number: str
    duration_seconds: float | None
    support_line: int | None
    call_id: uuid.UUID | None
    appeal_id: uuid.UUID | None
    recording_id: uuid.UUID | None
    listened_at: datetime | None
    audio_url: str | None

    @classmethod
    def of(cls, v: Voicemail) -> VoicemailOut:
        return cls(
            id=v.id,
            created_at=v.created_at,
            caller_number=v.caller_number,
            duration_seconds=v.duration_seconds,
            support_line=v.support_line,
            call_id=v.call_id,
            appeal_id=v.appeal_id,
            recording_id=v.recording_id,
            listened_at=v.listened_at,
            audio_url=f"{PREFIX}/{v.recording_id}/audio" if v.recording_id else None,
        )
