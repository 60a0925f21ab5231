"""Hostile-input guards shared by every endpoint.

- a request body larger than `CALLCENTER_HTTP_MAX_BODY_BYTES` is refused with 413 before it
  is read into memory (the contact-list import has its own, larger limit);
- JSON bodies may not carry NUL characters or lone UTF-16 surrogates (PostgreSQL cannot store
  either, and no caller-facing text needs them): 422 naming the field;
- validation errors never echo the input back (a 50 MB body must not come back as 50 MB);
- a number too large for the database (>= 2^63) is a 422, not a 500; a database that
  fails is a 503 (a clash between two changes a 409), never a stack trace.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callcenter.ports.stores import StoreConflict, StoreError

log = logging.getLogger(__name__)

INT64_MAX = 2**63 - 1
_UPLOAD_PATHS = ("/api/v1/contact-lists/import",)
UPLOAD_MAX_BYTES = 21 * 1024 * 1024  # the CSV import reads at most 20 MB itself


def bad_characters(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "must not contain NUL characters"
    for ch in text:
        if "\ud800" <= ch <= "\udfff":
            return "is not valid Unicode (a lone surrogate)"
    return None


def _walk(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        problem = bad_characters(value)
        if problem:
            yield path, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            if bad_characters(key):
                yield (*path, ascii(key)), "field name is not valid text"
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
        yield path, "number is out of range"


class BodyGuard:
    """ASGI middleware: size limit on every body, text checks on JSON bodies."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = UPLOAD_MAX_BYTES if path in _UPLOAD_PATHS else self.max_body_bytes
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _reply(send, 413, f"the request body is larger than {limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _reply(send, 413, f"the request body is larger than {limit} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip()
        if content_type == b"application/json" and body:
            problems = _json_problems(body)
            if problems:
                await _reply(send, 422, problems)
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _json_problems(body: bytes) -> list[dict[str, object]]:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # FastAPI answers malformed JSON itself
    return [
        {"loc": ["body", *path], "msg": problem, "type": "value_error"}
        for path, problem in list(_walk(document, ()))[:20]
    ]


async def _reply(send: Send, status: int, detail: object) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _without_input(errors: Any) -> list[dict[str, object]]:
    """Validation errors as location, message and type: never the offending input itself."""
    cleaned: list[dict[str, object]] = []
    for err in list(errors)[:20]:
        loc = [part if isinstance(part, int) else str(part)[:64] for part in err.get("loc", ())]
        cleaned.append(
            {"loc": loc, "msg": str(err.get("msg", "invalid"))[:300], "type": err.get("type")}
        )
    return cleaned


def _is_out_of_range(exc: BaseException) -> bool:
    text = str(exc).lower()
    return ("out of" in text and "range" in text) or "too large" in text


def install(app: FastAPI, *, max_body_bytes: int) -> None:
    app.add_middleware(BodyGuard, max_body_bytes=max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _without_input(exc.errors())})

    @app.exception_handler(OverflowError)
    async def _overflow(_request: Request, _exc: OverflowError) -> JSONResponse:
        return JSONResponse(
            status_code=422, content={"detail": "a number or date in the request is out of range"}
        )

    @app.exception_handler(StoreError)
    async def _database(request: Request, exc: StoreError) -> JSONResponse:
        cause = exc.__cause__
        orig = getattr(cause, "orig", None) or cause or exc
        if _is_out_of_range(exc) or _is_out_of_range(orig):
            return JSONResponse(
                status_code=422,
                content={"detail": "a number or date in the request is out of range"},
            )
        log.error("database error on %s %s: %s", request.method, request.url.path, exc)
        if isinstance(exc, StoreConflict):
            return JSONResponse(
                status_code=409,
                content={
                    "detail": "the change clashes with another one made at the same time; try again"
                },
            )
        return JSONResponse(
            status_code=503, content={"detail": "the database is not answering; try again"}
        )
