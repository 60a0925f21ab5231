"""What a health probe of an outside system reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DatabaseProbe:
    ok: bool
    backend: str  # "sqlite", "postgresql"
    revision: str | None = None  # the Alembic revision the schema is at
    latency_ms: float | None = None
    error: str | None = None
