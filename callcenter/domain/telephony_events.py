"""Raw telephony events: where an event stored for replay and audit came from."""

from __future__ import annotations

from enum import StrEnum


class EventSource(StrEnum):
    AMI = "ami"
    AGI = "agi"
    # written by the platform itself, e.g. "PlatformStopped" for each call open at shutdown
    PLATFORM = "platform"
