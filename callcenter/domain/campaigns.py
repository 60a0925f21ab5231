"""Outbound campaigns: auto-informing, phone surveys and operator (dialer) campaigns."""

from __future__ import annotations

from enum import StrEnum


class CampaignKind(StrEnum):
    AUTO_INFORM = "auto_inform"
    SURVEY = "survey"
    OPERATOR = "operator"


class DialMode(StrEnum):
    PREDICTIVE = "predictive"
    PROGRESSIVE = "progressive"
    PREVIEW = "preview"
    POWER = "power"
    # no operator involved (auto-informing, DTMF surveys)
    NONE = "none"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class AttemptOutcome(StrEnum):
    PENDING = "pending"
    # the message reached the customer
    POSITIVE = "positive"
    # the attempt was made but the message was not received
    NEGATIVE = "negative"


class MachineAction(StrEnum):
    """What the dialer does when answering-machine detection says "machine"."""

    HANGUP = "hangup"
    LEAVE_MESSAGE = "leave_message"
    CONNECT = "connect"
