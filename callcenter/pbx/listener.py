"""What the AMI link hands to the platform: a snapshot after each (re)connect and the events.

`AmiListener` is implemented by the use cases (call records, ACD) and driven by
`callcenter.asterisk.ami.AmiClient` (or the simulator's link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from callcenter.pbx.frames import AmiFrame
from callcenter.pbx.results import ChannelInfo, CoreStatus, QueueStatusReport


@dataclass(frozen=True, slots=True)
class ResyncSnapshot:
    """What Asterisk looked like right after a (re)connect.

    `asterisk_restarted` is True when CoreStatus reports another start time than on the previous
    connection of this client: every channel and dynamic queue member of before is gone, and
    the service layer must close the calls it still thinks are live. `asterisk_reloaded` means
    only a reload happened in between.
    """

    connection: int  # 1 for the first connection of this client, then 2, 3, ...
    connected_at: datetime
    core_status: CoreStatus
    previous_core_status: CoreStatus | None
    asterisk_restarted: bool
    asterisk_reloaded: bool
    channels: tuple[ChannelInfo, ...]
    queues: QueueStatusReport


class AmiListener(Protocol):
    """What the service layer implements to follow the link. Exceptions raised are logged."""

    async def on_connected(self, snapshot: ResyncSnapshot) -> None:
        """Called after each (re)connect and resync, before any event of that connection."""

    async def on_disconnected(self) -> None:
        """Called once per lost connection that had been announced by on_connected."""

    async def on_event(self, frame: AmiFrame, received_at: datetime) -> None:
        """One AMI event. Events of one call (Linkedid) arrive one at a time in wire order;
        different calls are delivered concurrently. `received_at` is UTC."""
