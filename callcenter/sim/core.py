"""What the PBX core offers its peers: small interfaces instead of the whole `Pbx`.

The call model (`pbx.Pbx`) owns channels, bridges, recordings and dialplan execution. The
applications that run on a channel (`apps`, `queue_app`, `conference`, `agi_client`,
`agi_commands`), the phones (`endpoints`) and the callers' scripts (`callers`) reach it only
through the Protocols below, each one concern:

- `Events`: publish an AMI event (the event *order* is the contract);
- `Runtime`: the simulated clock, the random source, id allocation, tasks, configuration;
- `ChannelControl`: channel state, variables, caller ID, answer, indications, hang-ups;
- `BridgeControl`: create, enter, leave and destroy bridges;
- `MediaControl`: music on hold and MixMonitor recordings;
- `Dialling`: Local channel pairs, waiting for a dialled leg, starting dialplan, redirects,
  running an application, Originate's reply.

Each peer declares the union it needs as a Protocol of its own, so a reader sees at the top
of the module what it may touch. Nothing here imports a peer or `pbx`; `pbx` imports the
peers, so the module graph has no cycle (checked by the import contracts in pyproject.toml).
The data passed between them (Originate requests and results) lives here too.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from callcenter.sim import events as ev
from callcenter.sim.bridges import Bridge
from callcenter.sim.channels import Channel, ChannelState, Party
from callcenter.sim.clock import Clock
from callcenter.sim.dialplan import Dialplan, Extension
from callcenter.sim.ids import IdAllocator
from callcenter.sim.outcomes import Outcome
from callcenter.sim.sounds import SoundLibrary

# OriginateResponse Reason codes (AST_CONTROL_*): 0 failed / no such, 1 hangup, 3 no answer,
# 4 answered, 5 busy, 8 congestion.
REASON_FAILED = 0
REASON_HANGUP = 1
REASON_NO_ANSWER = 3
REASON_ANSWERED = 4
REASON_BUSY = 5
REASON_CONGESTION = 8


@dataclass
class PbxConfig:
    """Knobs of the simulated PBX (see `Simulator` for what each is for)."""

    recordings_dir: Path
    spool_dir: Path
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    queue_music_on_hold: bool = True
    fastagi_connect_timeout: float = 5.0  # real seconds
    record_audio: bool = True  # False: recordings are written header-only (load tests)
    system_name: str = ""


@dataclass
class OriginateRequest:
    channel: str
    context: str | None = None
    exten: str | None = None
    priority: int = 1
    application: str | None = None
    data: str = ""
    caller: Party = field(default_factory=Party)
    timeout: float = 30.0
    variables: list[tuple[str, str]] = field(default_factory=list)
    channel_id: str | None = None
    other_channel_id: str | None = None
    action_id: str | None = None
    report: bool = True  # send OriginateResponse (AMI Originate); call files do not
    script: object | None = None  # behaviour attached to the originated channel pair
    callee_extension: Extension | None = None  # what `;2` runs, if not from the dialplan


@dataclass
class OriginateResult:
    reason: int
    channel: Channel | None

    @property
    def success(self) -> bool:
        return self.reason == REASON_ANSWERED


class Events(Protocol):
    def emit(self, pairs: ev.Pairs) -> None: ...


class Runtime(Protocol):
    """Time, randomness, ids and tasks: what every peer may use."""

    @property
    def clock(self) -> Clock: ...
    @property
    def rng(self) -> random.Random: ...
    @property
    def ids(self) -> IdAllocator: ...
    @property
    def config(self) -> PbxConfig: ...
    @property
    def sounds(self) -> SoundLibrary: ...
    @property
    def dialplan(self) -> Dialplan: ...

    def spawn(
        self, coro: Coroutine[Any, Any, object], name: str | None = None
    ) -> asyncio.Task[object]: ...


class ChannelControl(Events, Protocol):
    """Channels: lookup, state, variables, caller ID, answer, indications, hang-ups."""

    @property
    def channels(self) -> dict[str, Channel]: ...

    def find_channel(self, name_or_id: str) -> Channel | None: ...
    def lookup(self, chan: Channel) -> Callable[[str], str | None]: ...
    def substitute(self, chan: Channel, text: str) -> str: ...
    def new_channel(
        self,
        name: str,
        *,
        tech: str,
        device: str,
        context: str,
        exten: str,
        state: ChannelState,
        linkedid: str | None = None,
        uniqueid: str | None = None,
    ) -> Channel: ...
    def device_state(self, device: str, state: str, *, cached: bool = False) -> None: ...
    def set_state(self, chan: Channel, state: ChannelState) -> None: ...
    def set_var(self, chan: Channel, name: str, value: str) -> None: ...
    def set_caller(self, chan: Channel, party: Party, *, connected_too: bool = False) -> None: ...
    def set_connected(self, chan: Channel, party: Party) -> None: ...
    def newexten(self, chan: Channel, application: str, data: str) -> None: ...
    def answer(self, chan: Channel) -> None: ...
    def indicate(self, chan: Channel, indication: str) -> None: ...
    def start_media(self, chan: Channel) -> None: ...
    def request_hangup(self, chan: Channel, cause: int = 0) -> None: ...
    def soft_hangup(self, chan: Channel, flag: int, *, cause: int = 0) -> None: ...
    def hangup(self, chan: Channel) -> None: ...


class BridgeControl(Protocol):
    def create_bridge(
        self,
        *,
        type: str = ...,
        technology: str = ...,
        creator: str = ...,
        name: str = ...,
    ) -> Bridge: ...
    def enter_bridge(self, bridge: Bridge, chan: Channel) -> None: ...
    def leave_bridge(self, chan: Channel) -> None: ...
    def destroy_bridge(self, bridge: Bridge) -> None: ...

    @property
    def call_watchers(self) -> list[Callable[[Channel], None]]:
        """Told when any channel ends (a conference waiting for its last member)."""
        ...


class MediaControl(Protocol):
    def moh_start(self, chan: Channel, moh_class: str = "default") -> None: ...
    def moh_stop(self, chan: Channel) -> None: ...
    def start_mixmonitor(self, chan: Channel, filename: str, options: str) -> None: ...
    def stop_mixmonitor(self, chan: Channel) -> bool: ...


class Dialling(Protocol):
    def dial_local(
        self,
        exten: str,
        context: str,
        *,
        caller: Channel | None,
        linkedid: str | None = None,
        ids: tuple[str | None, str | None] = (None, None),
        outgoing_app: str = "AppDial2",
    ) -> tuple[Channel, Channel]: ...
    async def wait_dial(
        self, one: Channel, ring_for: float | None, *, caller: Channel | None = None
    ) -> str: ...
    def start_pbx(self, chan: Channel, context: str, exten: str, priority: int = 1) -> None: ...
    async def run_app(self, chan: Channel, app: str, data: str) -> Outcome:
        """Run one dialplan application on `chan` (AGI's EXEC, Originate's Application)."""
        ...

    async def run_originated_app(self, chan: Channel, request: OriginateRequest) -> None: ...
    def report_originate(
        self, request: OriginateRequest, chan: Channel | None, reason: int
    ) -> None: ...
