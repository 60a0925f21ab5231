"""The platform's PBX link over AMI: reports the AMI client's state as a `PbxLinkStatus`."""

from __future__ import annotations

from callcenter.asterisk.ami import AmiClient
from callcenter.ports.pbx import PbxLinkStatus, PbxState


class AmiPbxLink:
    """Wraps an `AmiClient` so /health and the log can say where the platform stands."""

    def __init__(self, client: AmiClient, target: str) -> None:
        self.client = client
        self._target = target

    def status(self) -> PbxLinkStatus:
        stats = self.client.stats()
        if stats.connected:
            return PbxLinkStatus(PbxState.CONNECTED, self._target)
        state = PbxState.DISCONNECTED if stats.connections else PbxState.CONNECTING
        return PbxLinkStatus(state, self._target, stats.last_error or "")

    async def start(self) -> None:
        await self.client.start()

    async def stop(self) -> None:
        await self.client.close()
