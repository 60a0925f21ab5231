"""The dialer's settings, the channel variables it sets, and what it knows of a call in flight
and of a campaign being dialled (the supervisor's live figures)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from callcenter.domain import dialplan
from callcenter.domain.dial_outcomes import DialResult

# Channel variables given with Originate: the dialplan and the AGI session can read them.
VAR_CAMPAIGN = "CC_CAMPAIGN_ID"
VAR_ATTEMPT = "CC_ATTEMPT_ID"
VAR_CONTACT = "CC_CONTACT_ID"
# Read by the dialer context after AGI() returns (asterisk_conf/extensions.conf [dialer]).
VAR_TARGET = "IVR_TARGET"
VAR_CLOSED = "IVR_CLOSED"


@dataclass(frozen=True)
class DialerConfig:
    # the channel dialled; {e164} is +7..., {digits} 7..., {national} 8... for Russian numbers
    channel_template: str = "Local/{national}@outbound"
    context: str = dialplan.DIALER_CONTEXT
    exten: str = "amd"
    caller_id_number: str = "88001000000"
    caller_id_name: str = "Energo"
    ring_timeout: float = 30.0
    max_channels: int = 30  # auto-informing / surveys: simultaneous calls per campaign
    operator_queue: str = dialplan.FIRST_LINE_QUEUE  # where operator campaigns' live answers go
    power_ratio: float = 2.0
    tick_seconds: float = 1.0
    scan_seconds: float = 5.0
    grace_seconds: float = 2.0  # a live answer waits this long for an operator
    answer_watchdog_seconds: float = 120.0  # answered, but no AGI session came: failed
    stale_attempt_seconds: float = 900.0  # pending attempts older than this are closed
    originate_backoff_seconds: float = 5.0  # after a failed Originate (AMI link down)
    confirm_key: str = "1"
    operator_key: str = "0"
    key_timeout_ms: int = 5000
    default_zone: str = "Europe/Moscow"
    retry_by_result: Mapping[DialResult, Sequence[int]] = field(default_factory=dict)
    window_seconds: float = 3600.0  # the abandon-rate window

    def __post_init__(self) -> None:
        if "{" not in self.channel_template:
            raise ValueError("channel_template must contain {e164}, {digits} or {national}")
        if self.confirm_key == self.operator_key:
            raise ValueError("the confirm and operator keys must differ")


def channel_for(template: str, e164: str) -> str:
    digits = e164.lstrip("+")
    national = "8" + digits[1:] if digits.startswith("7") and len(digits) == 11 else digits
    return template.format(e164=e164, digits=digits, national=national)


class CallStage(StrEnum):
    DIALLING = "dialling"
    ANSWERED = "answered"  # Reason 4 came; AMD / the AGI session is next
    IN_SESSION = "in_session"  # the AGI session is serving the call


@dataclass
class LiveCall:
    channel_id: str
    attempt_id: int
    attempt_no: int
    contact_id: int
    phone: str
    text: str  # the campaign message for this contact ("" when none)
    dialled_at: datetime
    stage: CallStage = CallStage.DIALLING
    answered_at: datetime | None = None
    prompt: asyncio.Task[str] | None = None
    waiting_operator: bool = False  # a live answer inside the grace period


@dataclass(frozen=True)
class LiveStats:
    """What a supervisor sees of a campaign being dialled by this instance."""

    campaign_id: int
    mode: str
    dialling: int  # calls ringing
    in_session: int  # answered calls being served (message, survey, hand-over)
    placed: int  # since this dialer started
    answered: int
    live: int  # live (human) answers
    abandoned: int
    window_live: int
    window_abandoned: int
    abandon_rate: float  # over the rolling window, 0..1
    answer_rate: float  # estimated live-answer rate, 0..1
    results: dict[str, int]
    operators_ready: int
    operators_busy: int
    last_decision: int
    last_reason: str
    updated_at: datetime
