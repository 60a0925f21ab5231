"""Operator reminders: who set a reminder (the system for a deadline, or the operator)."""

from __future__ import annotations

from enum import StrEnum


class ReminderKind(StrEnum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"
