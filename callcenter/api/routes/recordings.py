"""Call recordings and voicemails: search, details, streaming playback, export, archive, retention.

Recordings are addressed only by their opaque UUID; any other path under /api/v1/recordings/
(traversal attempts included) answers 404 and is written to the audit log.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from fastapi.responses import Response, StreamingResponse
from pydantic import AwareDatetime
from starlette.background import BackgroundTask

from callcenter.api.deps import AdminDep, PlatformDep, UserDep
from callcenter.api.schemas.recordings import (
    PREFIX,
    ArchiveIn,
    ArchiveOut,
    BulkExportIn,
    RecordingOut,
    RecordingPage,
    RetentionOut,
    VoicemailOut,
)
from callcenter.bootstrap.recordings import Recordings
from callcenter.domain.calls import Direction
from callcenter.domain.phones import InvalidPhoneNumber
from callcenter.domain.recordings import RecordingAction, RecordingState
from callcenter.ports.queries import RecordingFilter
from callcenter.recordings.access import number_variants
from callcenter.recordings.registry import (
    ExportLimitExceeded,
    RecordingAccessDenied,
    RecordingError,
    RecordingNotFound,
    RecordingUnavailable,
)
from callcenter.storage.recordings import ExportFormat, Readable, RecordingStore

router = APIRouter(tags=["recordings"])


# -- wiring (until the composition root builds these from Settings) -------------------------


def get_recordings(platform: PlatformDep) -> Recordings:
    return platform.recordings


RecordingsDep = Annotated[Recordings, Depends(get_recordings)]


# -- bodies -----------------------------------------------------------------------------------


# -- helpers ----------------------------------------------------------------------------------


@contextmanager
def _as_http() -> Iterator[None]:
    """Translate the recording use cases' errors into HTTP answers."""
    try:
        yield
    except RecordingNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, exc.message) from None
    except RecordingAccessDenied as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, exc.message) from None
    except RecordingUnavailable as exc:
        code = (
            status.HTTP_410_GONE
            if exc.state is RecordingState.DELETED
            else status.HTTP_409_CONFLICT
        )
        raise HTTPException(code, exc.message) from None
    except ExportLimitExceeded as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, exc.message) from None
    except RecordingError as exc:  # pragma: no cover - every subclass is handled above
        raise HTTPException(status.HTTP_400_BAD_REQUEST, exc.message) from None


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


class RangeNotSatisfiable(Exception):
    pass


_RANGE_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a Range header asks of a file of `size` bytes.

    None means "send the whole file": no header, a unit other than bytes, or several ranges
    (RFC 9110 lets a server ignore those). RangeNotSatisfiable for a malformed byte range or
    one that starts past the end.
    """
    if header is None:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    match = _RANGE_SPEC.fullmatch(spec)
    if match is None or (not match[1] and not match[2]) or size == 0:
        raise RangeNotSatisfiable
    if not match[1]:
        suffix = int(match[2])
        if suffix == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if start > end or start >= size:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def _stream(
    store: RecordingStore,
    readable: Readable,
    range_header: str | None,
    *,
    attachment: str | None = None,
) -> Response:
    headers: dict[str, str] = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store"}
    if attachment:
        headers["Content-Disposition"] = f'attachment; filename="{attachment}"'
    background = BackgroundTask(store.discard, readable) if readable.temporary else None
    try:
        wanted = parse_range(range_header, readable.size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{readable.size}"
        return Response(
            status_code=status.HTTP_416_RANGE_NOT_SATISFIABLE,
            headers=headers,
            background=background,
        )
    if wanted is None:
        start, end, code = 0, readable.size - 1, status.HTTP_200_OK
    else:
        (start, end), code = wanted, status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = f"bytes {start}-{end}/{readable.size}"
    headers["Content-Length"] = str(max(0, end - start + 1))
    return StreamingResponse(
        store.iter_bytes(readable, start, end),
        status_code=code,
        media_type=readable.media_type,
        headers=headers,
        background=background,
    )


# -- routes -----------------------------------------------------------------------------------


@router.get(PREFIX, response_model=RecordingPage, summary="Search recordings")
async def search_recordings(
    user: UserDep,
    recordings: RecordingsDep,
    since: Annotated[
        AwareDatetime | None, Query(alias="from", description="started at or after")
    ] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to", description="started before")] = None,
    phone: Annotated[
        str | None, Query(max_length=64, description="customer's number, any spelling")
    ] = None,
    operator_id: int | None = None,
    queue: Annotated[str | None, Query(max_length=64)] = None,
    appeal_id: uuid.UUID | None = None,
    call_id: uuid.UUID | None = None,
    direction: Direction | None = None,
    min_duration: Annotated[float | None, Query(ge=0)] = None,
    max_duration: Annotated[float | None, Query(ge=0)] = None,
    state: RecordingState | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> RecordingPage:
    """Recordings the signed-in user may reach, newest first."""
    if since and until and since >= until:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "'from' must be before 'to'")
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "min_duration is above max_duration"
        )
    numbers: tuple[str, ...] = ()
    if phone:
        try:
            numbers = number_variants(phone)
        except InvalidPhoneNumber as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    flt = RecordingFilter(
        since=since,
        until=until,
        numbers=numbers,
        operator_id=operator_id,
        queue_name=queue,
        appeal_id=appeal_id,
        call_id=call_id,
        direction=direction,
        min_duration=min_duration,
        max_duration=max_duration,
        state=state,
        limit=limit,
        offset=offset,
    )
    items, has_more = await recordings.access.search(user, flt)
    return RecordingPage(
        items=[RecordingOut.of(i) for i in items], limit=limit, offset=offset, has_more=has_more
    )


@router.post(
    f"{PREFIX}/export",
    summary="Export several recordings as one zip (size-limited)",
    responses={413: {"description": "the export would be over the size limit"}},
)
async def export_many(
    request: Request,
    user: UserDep,
    recordings: RecordingsDep,
    body: Annotated[BulkExportIn, Body()],
) -> Response:
    with _as_http():
        readable = await recordings.access.export_zip(
            user, body.ids, fmt=body.format, remote_addr=_remote(request)
        )
    return _stream(
        recordings.access.store,
        readable,
        None,
        attachment=f"recordings-{datetime.now().astimezone():%Y%m%d-%H%M%S}.zip",
    )


@router.post(f"{PREFIX}/archive", response_model=ArchiveOut, summary="Archive now (administrator)")
async def archive_now(
    request: Request,
    admin: AdminDep,
    recordings: RecordingsDep,
    body: Annotated[ArchiveIn, Body()],
) -> ArchiveOut:
    """Compress complete recordings into the archive: the given ids, or every one older than
    `older_than_days` (at most one batch per command)."""
    with _as_http():
        report = await recordings.upkeep.archive(
            admin, ids=body.ids, older_than_days=body.older_than_days, remote_addr=_remote(request)
        )
    return ArchiveOut(archived=report.archived, skipped=report.skipped, failed=report.failed)


@router.post(
    f"{PREFIX}/retention/run",
    response_model=RetentionOut,
    summary="Delete recordings past retention now (administrator)",
)
async def run_retention(
    request: Request, admin: AdminDep, recordings: RecordingsDep
) -> RetentionOut:
    with _as_http():
        report = await recordings.upkeep.run_retention(admin, remote_addr=_remote(request))
    return RetentionOut(deleted=report.deleted, files_removed=report.files_removed)


@router.get(f"{PREFIX}/{{recording_id}}", response_model=RecordingOut, summary="One recording")
async def get_recording(
    request: Request, recording_id: str, user: UserDep, recordings: RecordingsDep
) -> RecordingOut:
    with _as_http():
        item = await recordings.access.get_item(user, recording_id, remote_addr=_remote(request))
    return RecordingOut.of(item)


@router.get(
    f"{PREFIX}/{{recording_id}}/audio",
    summary="Play a recording (HTTP Range supported)",
    response_class=Response,
    responses={
        200: {"content": {"audio/wav": {}}},
        206: {"description": "the requested byte range"},
        416: {"description": "the range is outside the file"},
    },
)
async def play_recording(
    request: Request, recording_id: str, user: UserDep, recordings: RecordingsDep
) -> Response:
    """The recording as WAV (archived ones are decoded), streamed; seek with Range."""
    with _as_http():
        audio = await recordings.access.open_audio(
            user, recording_id, action=RecordingAction.PLAY, remote_addr=_remote(request)
        )
    return _stream(recordings.access.store, audio.readable, request.headers.get("range"))


@router.get(
    f"{PREFIX}/{{recording_id}}/export",
    summary="Download one recording as WAV or FLAC",
    response_class=Response,
)
async def export_one(
    request: Request,
    recording_id: str,
    user: UserDep,
    recordings: RecordingsDep,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.WAV,
) -> Response:
    with _as_http():
        audio = await recordings.access.open_audio(
            user,
            recording_id,
            action=RecordingAction.DOWNLOAD,
            fmt=fmt,
            remote_addr=_remote(request),
        )
    return _stream(
        recordings.access.store,
        audio.readable,
        request.headers.get("range"),
        attachment=audio.file_name,
    )


@router.get(f"{PREFIX}/{{rest:path}}", include_in_schema=False)
async def unknown_recording_path(
    request: Request, rest: str, user: UserDep, recordings: RecordingsDep
) -> Any:
    """Anything else under the recordings prefix: audited, then 404 like an unknown id."""
    with _as_http():
        await recordings.access.get_item(user, rest, remote_addr=_remote(request))
    # a path with slashes is never an id, so get_item has already refused it
    raise HTTPException(status.HTTP_404_NOT_FOUND, "no such recording")  # pragma: no cover


@router.get("/api/v1/voicemails", response_model=list[VoicemailOut], summary="Voicemails")
async def list_voicemails(
    user: UserDep,
    recordings: RecordingsDep,
    unlistened: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[VoicemailOut]:
    """Voicemails for the user's support line (administrators and supervisors not tied to a
    line: all). Play one at its `audio_url`."""
    rows = await recordings.voicemails.voicemails(
        user, unlistened_only=unlistened, limit=limit, offset=offset
    )
    return [VoicemailOut.of(v) for v in rows]
