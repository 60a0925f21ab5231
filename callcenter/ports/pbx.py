"""Small interfaces the services and the API use to reach the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class PbxState(StrEnum):
    NOT_LINKED = "not_linked"  # nothing configured and no simulator available
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class PbxLinkStatus:
    state: PbxState
    target: str  # "asterisk 10.0.0.5:5038", "simulator", or "" when not linked
    detail: str = ""


class PbxLink(Protocol):
    """The platform's link to the PBX (a real Asterisk over AMI, or the built-in simulator)."""

    def status(self) -> PbxLinkStatus: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class NoPbxLink:
    """Used until a PBX adapter is configured: says so plainly instead of pretending."""

    def __init__(self, detail: str) -> None:
        self._detail = detail

    def status(self) -> PbxLinkStatus:
        return PbxLinkStatus(PbxState.NOT_LINKED, "", self._detail)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
