"""Power outages: planned works and emergencies."""

from __future__ import annotations

from enum import StrEnum


class OutageKind(StrEnum):
    PLANNED = "planned"
    EMERGENCY = "emergency"
