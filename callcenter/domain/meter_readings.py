"""Meter readings: how a reading reached us."""

from __future__ import annotations

from enum import StrEnum


class ReadingSource(StrEnum):
    KEYPAD = "keypad"
    VOICE = "voice"
    OPERATOR = "operator"
