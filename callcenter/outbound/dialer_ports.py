"""The dialer's ports: what it needs of the PBX (Originate, the AGI session), of speech, of the
ACD (operators) and of the platform instances (who dials which campaign).

The AMI client, the AGI channel, the TTS renderer, the operator feed and the campaign locks
(callcenter.db.campaign_locks) satisfy them structurally.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from callcenter.domain.pacing import HandleTimes, OperatorLoad


class Originator(Protocol):
    """What the dialer needs of the AMI client (callcenter.asterisk.ami.AmiClient has it)."""

    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int | None = None,
        channel_id: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        ring_timeout: float | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> object: ...


class _Environment(Protocol):
    @property
    def uniqueid(self) -> str: ...


class DialerChannel(Protocol):
    """What the AGI handler needs of a session (callcenter.asterisk.agi.AgiChannel has it)."""

    @property
    def env(self) -> _Environment: ...

    @property
    def hung_up(self) -> bool: ...

    async def get_variable(self, name: str) -> str | None: ...

    async def set_variable(self, name: str, value: object) -> None: ...

    async def stream_file(self, name: str, escape_digits: str = "") -> tuple[str | None, int]: ...

    async def get_data(
        self, file: str, timeout_ms: int = 5000, max_digits: int = 1
    ) -> str | None: ...

    async def hangup(self) -> None: ...


class _Rendered(Protocol):
    @property
    def asterisk_name(self) -> str: ...


class PromptSource(Protocol):
    """Text to an Asterisk prompt (callcenter.speech.tts.PromptRenderer has it)."""

    async def render(self, text: str) -> _Rendered: ...


class OperatorPool(Protocol):
    """Operators who take a queue's campaign calls, as the ACD sees them."""

    def load(self, queue: str, now: datetime) -> OperatorLoad: ...

    def handle_times(self, queue: str) -> HandleTimes: ...

    async def reserve(self, queue: str, within: float) -> bool:
        """Wait up to `within` s for an idle operator and hold them for the next call."""
        ...


class CampaignLocks(Protocol):
    """Only one platform instance dials a campaign."""

    async def acquire(self, campaign_id: int) -> bool: ...

    async def held(self, campaign_id: int) -> bool: ...

    async def release(self, campaign_id: int) -> None: ...
