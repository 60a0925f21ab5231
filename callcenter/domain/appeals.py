"""Appeals (обращения): channels, kinds and statuses of a customer's appeal."""

from __future__ import annotations

from enum import StrEnum


class AppealChannel(StrEnum):
    PHONE = "phone"
    IVR_VOICEMAIL = "ivr_voicemail"
    IVR_CALLBACK = "ivr_callback"
    EMAIL = "email"
    SMS = "sms"
    WEB = "web"


class AppealKind(StrEnum):
    QUESTION = "question"
    COMPLAINT = "complaint"
    CALLBACK = "callback"


class AppealStatus(StrEnum):
    REGISTERED = "registered"
    HANDED_OFF = "handed_off"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    CLOSED = "closed"
    EXTENDED = "extended"
