"""A call's channel as the use cases drive it (FastAGI in production, the simulator in demo
mode): the commands the IVR and the ACD/dialer scripts send, and what they return.

`callcenter.asterisk.agi_channel.AgiChannel` implements it; `callcenter.bootstrap` checks that
statically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class RecordOutcome(StrEnum):
    DTMF = "dtmf"  # an escape digit ended the recording
    TIMEOUT = "timeout"  # maximum length or the silence limit was reached
    HANGUP = "hangup"  # the caller hung up; what was said so far is kept


@dataclass(frozen=True, slots=True)
class RecordResult:
    outcome: RecordOutcome
    endpos: int  # samples written
    digit: str | None = None


class ChannelEnvironment(Protocol):
    """What Asterisk told us about the channel when the session opened (untrusted)."""

    @property
    def uniqueid(self) -> str: ...

    @property
    def callerid(self) -> str: ...

    @property
    def query(self) -> Mapping[str, str]: ...


class CallChannel(Protocol):
    """One call's channel. Every method raises `AgiHangupError` once the caller is gone."""

    @property
    def env(self) -> ChannelEnvironment: ...

    @property
    def usable(self) -> bool: ...

    async def answer(self) -> None: ...

    async def hangup(self) -> None: ...

    async def stream_file(self, name: str, escape_digits: str = "") -> tuple[str | None, int]: ...

    async def get_data(
        self, file: str, timeout_ms: int = 5000, max_digits: int = 1
    ) -> str | None: ...

    async def wait_for_digit(self, timeout_ms: int) -> str | None: ...

    async def record_file(
        self,
        path: str,
        fmt: str = "wav",
        escape_digits: str = "#",
        timeout_ms: int = 120_000,
        *,
        beep: bool = False,
        silence_s: int | None = None,
    ) -> RecordResult: ...

    async def set_variable(self, name: str, value: object) -> None: ...

    async def get_variable(self, name: str) -> str | None: ...
