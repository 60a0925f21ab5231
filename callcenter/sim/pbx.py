"""The call model: channels, Local channel pairs, dialplan execution, bridges, hangups.

It mirrors how Asterisk produces events, because the event *order* is part of the contract:
- every channel that runs dialplan has its own task (Asterisk's PBX thread); applications
  (`apps.py`, `queue_app.py`, `agi_client.py`, `conference.py`) run inside it;
- a Local channel is a pair: `;2` runs the dialplan of the dialled extension, `;1` is the
  leg the dialler (Originate, Queue) holds; answer, ringing, busy travel from `;2` to `;1`;
- hanging up one half asks the other half to hang up (HangupRequest with the same cause);
  a channel whose dialplan ends sends SoftHangupRequest(16) before its Hangup.
All state changes are synchronous and emit their events at once; only waiting is async.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from callcenter.sim import events as ev
from callcenter.sim.apps import run_app
from callcenter.sim.bridges import Bridge
from callcenter.sim.channels import (
    ANSWERED,
    BUSY,
    CAUSE_NO_ANSWER,
    CONGESTION,
    GOTO,
    HANGUP,
    PEER,
    RINGING,
    SOFTHANGUP_APPUNLOAD,
    TIMEOUT,
    UNKNOWN,
    Channel,
    ChannelState,
    Party,
)
from callcenter.sim.clock import Clock
from callcenter.sim.conference import Conferences
from callcenter.sim.core import (
    REASON_ANSWERED,
    REASON_BUSY,
    REASON_CONGESTION,
    REASON_FAILED,
    REASON_NO_ANSWER,
    OriginateRequest,
    OriginateResult,
    PbxConfig,
)
from callcenter.sim.dialplan import Dialplan, Extension, substitute, variable_lookup
from callcenter.sim.endpoints import Endpoints, originate_tech
from callcenter.sim.ids import IdAllocator
from callcenter.sim.outcomes import CONTINUE, STOP, Goto, Outcome
from callcenter.sim.queue_app import QueueManager
from callcenter.sim.recording import Recording, close, write
from callcenter.sim.sounds import SoundLibrary

log = logging.getLogger(__name__)

Listener = Callable[[ev.Pairs], None]

__all__ = [
    "REASON_ANSWERED",
    "REASON_BUSY",
    "REASON_CONGESTION",
    "REASON_FAILED",
    "REASON_NO_ANSWER",
    "OriginateRequest",
    "OriginateResult",
    "Pbx",
    "PbxConfig",
]


class Pbx:
    def __init__(
        self,
        *,
        clock: Clock,
        rng: random.Random,
        dialplan: Dialplan,
        sounds: SoundLibrary,
        config: PbxConfig,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.dialplan = dialplan
        self.sounds = sounds
        self.config = config
        self.ids = IdAllocator(clock, rng)
        self.listeners: list[Listener] = []
        self.channels: dict[str, Channel] = {}
        self._by_uniqueid: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.device_states: dict[str, str] = {}
        self.recordings: dict[str, Recording] = {}
        self.finished_recordings: list[Path] = []
        self.pending_writes: set[asyncio.Future[Path]] = set()
        self.tasks: set[asyncio.Task[object]] = set()
        self.startup_epoch = clock.epoch()
        self.reload_epoch = self.startup_epoch
        self.processed_calls = 0
        self.frames_emitted = 0
        self.events_per_call: Counter[str] = Counter()
        self.call_watchers: list[Callable[[Channel], None]] = []  # told when a channel ends
        # the peers that keep state of their own see the PBX only through core's Protocols
        self.queues = QueueManager(self)
        self.conferences = Conferences(self)
        self.endpoints = Endpoints()

    # --- events -------------------------------------------------------------------------
    def emit(self, pairs: ev.Pairs) -> None:
        self.frames_emitted += 1
        for key, value in pairs:
            if key == "Linkedid":
                self.events_per_call[value] += 1
                break
        for listener in list(self.listeners):
            listener(pairs)

    def spawn(
        self, coro: Coroutine[Any, Any, object], name: str | None = None
    ) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[object]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator task %s failed", task.get_name(), exc_info=task.exception())

    # --- lookup -------------------------------------------------------------------------
    def find_channel(self, name_or_id: str) -> Channel | None:
        """By channel name, or by Uniqueid (AMI accepts both, e.g. a ChannelId)."""
        chan = self.channels.get(name_or_id) or self._by_uniqueid.get(name_or_id)
        if chan is not None:
            return chan
        lowered = name_or_id.lower()
        for candidate in self.channels.values():
            if candidate.name.lower() == lowered:
                return candidate
        return None

    def lookup(self, chan: Channel) -> Callable[[str], str | None]:
        builtins = {
            "UNIQUEID": chan.uniqueid,
            "CHANNEL": chan.name,
            "EXTEN": chan.exten,
            "CONTEXT": chan.context,
            "PRIORITY": str(chan.priority),
            "LINKEDID": chan.linkedid,
            "EPOCH": str(int(self.clock.epoch())),
            "CALLERID(num)": chan.caller.num or "",
            "CALLERID(name)": chan.caller.name or "",
        }
        return variable_lookup(chan.variables, builtins)

    def substitute(self, chan: Channel, text: str) -> str:
        return substitute(text, self.lookup(chan))

    # --- device state -------------------------------------------------------------------
    def device_state(self, device: str, state: str, *, cached: bool = False) -> None:
        """DeviceStateChange; `cached` devices (Queue:*) only report real changes."""
        if cached and self.device_states.get(device) == state:
            return
        self.device_states[device] = state
        self.emit(ev.device_state(device, state))

    # --- channels -----------------------------------------------------------------------
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
    ) -> Channel:
        generated = self.ids.uniqueid()
        uid = uniqueid or generated
        chan = Channel(
            name=name,
            uniqueid=uid,
            linkedid=linkedid or uid,
            tech=tech,
            device=device,
            created=self.clock.now(),
            created_epoch=self.clock.epoch(),
            state=state,
            context=context,
            exten=exten,
        )
        self.channels[name] = chan
        self._by_uniqueid[uid] = chan
        self.processed_calls += 1
        self.emit(ev.channel_event("Newchannel", chan))
        return chan

    def new_local_pair(
        self,
        exten: str,
        context: str,
        *,
        linkedid: str | None = None,
        ids: tuple[str | None, str | None] = (None, None),
    ) -> tuple[Channel, Channel]:
        base = f"Local/{exten}@{context}-{self.ids.local_suffix()}"
        device = f"Local/{exten}@{context}"
        first_id, second_id = ids
        if first_id and not second_id:
            second_id = f"{first_id};2"
        one = self.new_channel(
            base + ";1",
            tech="Local",
            device=device,
            context=context,
            exten=exten,
            state=ChannelState.DOWN,
            linkedid=linkedid,
            uniqueid=first_id,
        )
        two = self.new_channel(
            base + ";2",
            tech="Local",
            device=device,
            context=context,
            exten=exten,
            state=ChannelState.RING,
            linkedid=one.linkedid,
            uniqueid=second_id,
        )
        one.local_peer, two.local_peer = two, one
        one.local_half, two.local_half = 1, 2
        return one, two

    def set_state(self, chan: Channel, state: ChannelState) -> None:
        if chan.state == state or chan.hungup:
            return
        chan.state = state
        self.emit(ev.channel_event("Newstate", chan))
        if state in (ChannelState.UP, ChannelState.RINGING):
            self.device_changed(chan, "INUSE")
        elif state == ChannelState.BUSY:
            self.device_changed(chan, "NOT_INUSE")

    def device_changed(self, chan: Channel, state: str) -> None:
        self.device_state(chan.device, state)
        self.queues.member_device_changed(chan.device)

    def set_var(self, chan: Channel, name: str, value: str) -> None:
        chan.variables[name] = value
        self.emit(ev.varset(chan, name, value))

    def set_caller(self, chan: Channel, party: Party, *, connected_too: bool = False) -> None:
        chan.caller = party.copy()
        if connected_too:
            chan.connected = party.copy()
        self.emit(ev.new_callerid(chan))

    def set_connected(self, chan: Channel, party: Party) -> None:
        chan.connected = party.copy()
        self.emit(ev.channel_event("NewConnectedLine", chan))

    def newexten(self, chan: Channel, application: str, data: str) -> None:
        chan.appl, chan.data = application, data
        self.emit(ev.newexten(chan, application, data))

    # --- answer and indications ---------------------------------------------------------
    def answer(self, chan: Channel) -> None:
        """Answer `chan`; for a Local half the other half answers too (and its dialler hears)."""
        if chan.state == ChannelState.UP or chan.hungup:
            return
        self.set_state(chan, ChannelState.UP)
        peer = chan.local_peer
        if peer is not None and not peer.hungup and peer.state != ChannelState.UP:
            self.set_state(peer, ChannelState.UP)
            peer.signal(ANSWERED)
        elif peer is None:
            chan.signal(ANSWERED)

    def indicate(self, chan: Channel, indication: str) -> None:
        """Ringing / busy / congestion from the called side towards the dialler."""
        target = chan.local_peer if chan.local_peer is not None else chan
        if target.hungup:
            return
        if indication == RINGING:
            self.set_state(target, ChannelState.RINGING)
        target.signal(indication)

    def start_media(self, chan: Channel) -> None:
        """`chan` starts sending audio (playback, music, bridge): the Local peer hears it."""
        peer = chan.local_peer
        if peer is not None and not peer.hungup:
            peer.start_media()

    # --- hangup ---------------------------------------------------------------------------
    def request_hangup(self, chan: Channel, cause: int = 0) -> None:
        """ast_queue_hangup_with_cause: HangupRequest, and whoever runs `chan` stops."""
        if chan.hungup:
            return
        if cause:
            chan.hangup_cause = cause
        self.emit(ev.hangup_request(chan, cause, soft=False))
        self._interrupt_for_hangup(chan)

    def soft_hangup(self, chan: Channel, flag: int, *, cause: int = 0) -> None:
        """ast_softhangup: SoftHangupRequest carrying the soft-hangup flag (32 AGI/explicit)."""
        if chan.hungup:
            return
        if cause:
            chan.hangup_cause = cause
        self.emit(ev.hangup_request(chan, flag, soft=True))
        self._interrupt_for_hangup(chan)

    def silent_hangup_request(self, chan: Channel, cause: int = 0) -> None:
        """ast_softhangup_nolock: the AMI Hangup action asks without an event of its own."""
        if chan.hungup:
            return
        if cause:
            chan.hangup_cause = cause
        self._interrupt_for_hangup(chan)

    def _interrupt_for_hangup(self, chan: Channel) -> None:
        chan.soft_hangup = True
        chan.hangup_requested.set()
        chan.signal(HANGUP)
        for watcher in list(chan.watchers):
            watcher.signal(PEER)

    def hangup(self, chan: Channel) -> None:
        """ast_hangup: the channel is gone (Hangup event); a Local peer is asked to follow."""
        if chan.hungup:
            return
        chan.soft_hangup = True
        chan.hangup_requested.set()
        callbacks, chan.on_hangup = chan.on_hangup, []
        for callback in callbacks:
            callback()
        if chan.bridge is not None:
            self.leave_bridge(chan)
        peer = chan.local_peer
        if peer is not None and not peer.hungup and not peer.soft_hangup:
            self.request_hangup(peer, chan.hangup_cause)
        chan.hungup = True
        self.emit(ev.hangup(chan))
        self.device_changed(chan, "NOT_INUSE")
        recording = self.recordings.pop(chan.uniqueid, None)
        if recording is not None:
            self._write_recording(recording)
        self._forget(chan)
        for watcher in list(chan.watchers):
            watcher.signal(PEER)
        chan.ended.set()
        for watch in list(self.call_watchers):
            watch(chan)

    def drop_channel(self, chan: Channel) -> None:
        """Forget a channel without events (simulated restart: Asterisk just died)."""
        chan.soft_hangup = True
        chan.hungup = True
        chan.hangup_requested.set()
        chan.signal(HANGUP)
        self._forget(chan)
        chan.ended.set()

    def _forget(self, chan: Channel) -> None:
        self.channels.pop(chan.name, None)
        if self._by_uniqueid.get(chan.uniqueid) is chan:
            del self._by_uniqueid[chan.uniqueid]

    # --- dialplan execution ----------------------------------------------------------------
    def start_pbx(self, chan: Channel, context: str, exten: str, priority: int = 1) -> None:
        chan.context, chan.exten, chan.priority = context, exten, priority
        chan.pbx_running = True
        chan.pbx_task = self.spawn(self._run_pbx(chan), name=f"pbx {chan.name}")

    def extension_of(self, chan: Channel) -> Extension | None:
        """The extension `chan` runs; resolved once per context/exten, since scripted
        extensions (callers, operators) are generated with fresh random timings each time."""
        key = f"{chan.context},{chan.exten}"
        if chan.extension is not None and chan.extension_key == key:
            return chan.extension
        chan.extension = self.dialplan.find(chan.context, chan.exten)
        chan.extension_key = key
        return chan.extension

    async def _run_pbx(self, chan: Channel) -> None:
        try:
            while not chan.soft_hangup:
                ext = self.extension_of(chan)
                step = ext.step(chan.priority) if ext is not None else None
                if step is None:
                    break
                data = self.substitute(chan, step.data)
                self.newexten(chan, step.app, data)
                result = await run_app(self, chan, step.app, data)
                if chan.pending_goto is not None and not chan.soft_hangup:
                    context, exten, priority = chan.pending_goto
                    chan.pending_goto = None
                    chan.context, chan.exten, chan.priority = context, exten, priority + 1
                    continue
                if isinstance(result, Goto):
                    chan.context, chan.exten, chan.priority = result.target
                    continue
                if result is STOP:
                    break
                assert result is CONTINUE
                chan.priority += 1
        finally:
            chan.pbx_running = False
        self.pbx_finished(chan)

    def pbx_finished(self, chan: Channel) -> None:
        """The dialplan ended (Hangup(), an application asked to stop, or no more priorities)."""
        if chan.hungup:
            return
        if not chan.hangup_cause and not chan.soft_hangup:
            chan.hangup_cause = 16
        self.emit(ev.hangup_request(chan, SOFTHANGUP_APPUNLOAD, soft=True))
        self.hangup(chan)

    def async_goto(self, chan: Channel, context: str, exten: str, priority: int) -> None:
        """Redirect: the channel leaves what it is doing and continues at the new place.

        Asterisk publishes the new location with the *old* application before the channel
        gets there (visible in the transcripts), then continues after the target priority.
        """
        if chan.bridge is not None:
            self.set_var(chan, "BRIDGEPEER", "")
        chan.context, chan.exten, chan.priority = context, exten, priority
        self.emit(ev.newexten(chan, chan.appl, chan.data))
        for watcher in list(chan.watchers):
            watcher.signal(PEER)
        if chan.pbx_running:
            chan.pending_goto = (context, exten, priority)
            chan.signal(GOTO)
        else:
            # a dialled leg with no dialplan of its own (an operator leg, say) starts one
            if chan.bridge is not None:
                self.leave_bridge(chan)
            chan.pbx_running = True
            chan.pbx_task = self.spawn(self._continue_after_goto(chan), name=f"pbx {chan.name}")

    async def _continue_after_goto(self, chan: Channel) -> None:
        chan.priority += 1
        await self._run_pbx(chan)

    # --- bridges ----------------------------------------------------------------------------
    def create_bridge(
        self,
        *,
        type: str = "basic",
        technology: str = "simple_bridge",
        creator: str = UNKNOWN,
        name: str = UNKNOWN,
    ) -> Bridge:
        bridge = Bridge(
            self.ids.bridge_id(),
            type=type,
            technology=technology,
            creator=creator,
            name=name,
            created=self.clock.now(),
        )
        self.bridges[bridge.uniqueid] = bridge
        self.emit(ev.bridge_event("BridgeCreate", bridge))
        return bridge

    def enter_bridge(self, bridge: Bridge, chan: Channel) -> None:
        bridge.channels.append(chan)
        chan.bridge = bridge
        self.emit(ev.bridge_event("BridgeEnter", bridge, chan))
        self._recording_bridge_changed(chan)
        self.start_media(chan)

    def leave_bridge(self, chan: Channel) -> None:
        bridge = chan.bridge
        if bridge is None:
            return
        if chan in bridge.channels:
            bridge.channels.remove(chan)
        chan.bridge = None
        self.emit(ev.bridge_event("BridgeLeave", bridge, chan))
        self._recording_bridge_changed(chan)
        for other in bridge.channels:
            other.signal(PEER)

    def destroy_bridge(self, bridge: Bridge) -> None:
        if bridge.destroyed:
            return
        bridge.destroyed = True
        self.bridges.pop(bridge.uniqueid, None)
        self.emit(ev.bridge_event("BridgeDestroy", bridge))

    # --- recordings ---------------------------------------------------------------------------
    def start_mixmonitor(self, chan: Channel, filename: str, options: str) -> None:
        recording = Recording(
            channel=chan,
            requested_file=filename,
            bridged_only="b" in options,
            started=self.clock.now(),
            started_epoch=self.clock.epoch(),
        )
        self.recordings[chan.uniqueid] = recording
        if chan.bridge is not None:
            recording.bridge_changed(True, self.clock.now())
        self.set_var(chan, "MIXMONITOR_FILENAME", filename)
        self.emit(ev.channel_event("MixMonitorStart", chan))

    def stop_mixmonitor(self, chan: Channel) -> bool:
        recording = self.recordings.pop(chan.uniqueid, None)
        if recording is None:
            return False
        self.emit(ev.channel_event("MixMonitorStop", chan))
        self._write_recording(recording)
        bridge = chan.bridge
        if bridge is not None:
            # removing the audiohook makes the bridge re-announce its peers (transcript s10)
            self.clock.call_later(0.007, lambda: self._announce_peers(bridge))
        return True

    def _write_recording(self, recording: Recording) -> None:
        """Files are written in a worker thread: a long call's audio must not stall the
        event loop (that would stretch simulated time)."""
        path = close(recording, self.config.recordings_dir, self.clock.now())
        if not self.config.record_audio:
            recording.segments.clear()
            recording.bridged_only = True
        future = asyncio.get_running_loop().run_in_executor(None, write, recording, path)
        self.pending_writes.add(future)

        def written(done: asyncio.Future[Path]) -> None:
            self.pending_writes.discard(done)
            if not done.cancelled() and done.exception() is None:
                self.finished_recordings.append(done.result())
            elif not done.cancelled():
                log.error("cannot write recording %s", path, exc_info=done.exception())

        future.add_done_callback(written)

    async def flush_recordings(self) -> None:
        """Wait until every recording that has stopped is on disk."""
        while self.pending_writes:
            await asyncio.gather(*list(self.pending_writes), return_exceptions=True)

    def _announce_peers(self, bridge: Bridge) -> None:
        members = [c for c in bridge.channels if not c.hungup]
        if len(members) != 2:
            return
        for chan in sorted(members, key=lambda c: c is not members[0]):
            other = members[1] if chan is members[0] else members[0]
            self.set_var(chan, "BRIDGEPEER", other.name)

    def _recording_bridge_changed(self, chan: Channel) -> None:
        recording = self.recordings.get(chan.uniqueid)
        if recording is not None:
            recording.bridge_changed(chan.bridge is not None, self.clock.now())

    # --- music on hold --------------------------------------------------------------------------
    def moh_start(self, chan: Channel, moh_class: str = "default") -> None:
        chan.moh_class = moh_class
        self.emit(ev.music_on_hold_start(chan, moh_class))
        self.start_media(chan)

    def moh_stop(self, chan: Channel) -> None:
        if chan.moh_class is not None and not chan.hungup:
            chan.moh_class = None
            self.emit(ev.channel_event("MusicOnHoldStop", chan))

    # --- dialling ---------------------------------------------------------------------------------
    def dial_local(
        self,
        exten: str,
        context: str,
        *,
        caller: Channel | None,
        linkedid: str | None = None,
        ids: tuple[str | None, str | None] = (None, None),
        outgoing_app: str = "AppDial2",
    ) -> tuple[Channel, Channel]:
        """Create a Local pair for dialling `exten@context` (events up to Newexten ;1)."""
        one, two = self.new_local_pair(
            exten, context, linkedid=linkedid or (caller.linkedid if caller else None), ids=ids
        )
        if caller is not None:
            one.caller = caller.caller.copy()
        self.newexten(one, outgoing_app, "(Outgoing Line)")
        return one, two

    async def wait_dial(
        self, one: Channel, ring_for: float | None, *, caller: Channel | None = None
    ) -> str:
        """Wait for the dialled leg `one`: ANSWER, BUSY, CONGESTION, NOANSWER or CANCEL (caller
        hung up or was redirected) / CHANUNAVAIL (the leg went away). Ringing is reported
        as DialState on the way."""
        deadline = None if ring_for is None else self.clock.now() + ring_for
        accept = frozenset({ANSWERED, RINGING, BUSY, CONGESTION, PEER})
        if caller is not None:
            caller.watchers.append(one)
        try:
            while True:
                if caller is not None and (caller.soft_hangup or caller.pending_goto):
                    return "CANCEL"
                if one.state == ChannelState.UP:
                    return "ANSWER"
                remaining = None if deadline is None else deadline - self.clock.now()
                reason = await one.wait(self.clock, remaining, accept)
                if reason == ANSWERED or _is_up(one):
                    return "ANSWER"
                if reason == RINGING:
                    self.emit(ev.dial_event("DialState", caller, one, [("DialStatus", "RINGING")]))
                    continue
                if reason == BUSY:
                    return "BUSY"
                if reason == CONGESTION:
                    return "CONGESTION"
                if reason == TIMEOUT:
                    return "NOANSWER"
                if reason == PEER:
                    continue  # loop re-checks the caller
                if reason in (HANGUP, GOTO):
                    return "CHANUNAVAIL"
        finally:
            if caller is not None and one in caller.watchers:
                caller.watchers.remove(one)

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        """Manager Originate (async): dial, then run the target on the answered channel."""
        tech, _, resource = request.channel.partition("/")
        if tech.lower() != "local":
            return await originate_tech(self, request, tech, resource)
        target, _, options = resource.partition("/")
        exten, _, context = target.partition("@")
        context = context or "default"
        one, two = self.dial_local(
            exten, context, caller=None, ids=(request.channel_id, request.other_channel_id)
        )
        if request.callee_extension is not None:
            two.extension = request.callee_extension
            two.extension_key = f"{context},{exten}"
        elif not self.dialplan.exists(context, exten):
            return self._originate_invalid(request, one, two)
        attach = getattr(request.script, "attach", None)
        if callable(attach):
            attach(one, two)
        for name, value in reversed(request.variables):
            self.set_var(one, name, value)
        if request.caller.num or request.caller.name:
            self.set_caller(one, request.caller)
            self.set_connected(one, request.caller)
        for name, value in request.variables:
            self.set_var(two, name, value)
        if request.caller.num or request.caller.name:
            self.set_caller(two, request.caller, connected_too=True)
            self.set_connected(two, request.caller)
        two.script = request.script
        one.script = request.script
        self.emit(ev.local_bridge(one, two, context, exten, optimize="n" not in options))
        self.emit(ev.dial_event("DialBegin", None, one, [("DialString", target)]))
        self.start_pbx(two, context, exten)
        status = await self.wait_dial(one, request.timeout)
        if status == "ANSWER":
            self.emit(ev.dial_event("DialEnd", None, one, [("DialStatus", "ANSWER")]))
            self.report_originate(request, one, REASON_ANSWERED)
            if request.application:
                self.spawn(self.run_originated_app(one, request), name=f"app {one.name}")
            else:
                self.start_pbx(
                    one, request.context or "default", request.exten or "s", request.priority
                )
            return OriginateResult(REASON_ANSWERED, one)
        reason = {
            "BUSY": REASON_BUSY,
            "CONGESTION": REASON_CONGESTION,
            "NOANSWER": REASON_NO_ANSWER,
        }.get(status, REASON_FAILED)
        if status in ("BUSY", "CONGESTION"):
            self.emit(ev.dial_event("DialEnd", None, one, [("DialStatus", status)]))
        elif status == "CHANUNAVAIL":
            # the called side hung up before answering (transcript s11)
            self.emit(ev.dial_event("DialEnd", None, one, [("DialStatus", "NOANSWER")]))
        if status == "NOANSWER":
            one.hangup_cause = CAUSE_NO_ANSWER
            self.request_hangup(two, CAUSE_NO_ANSWER)
        self.report_originate(request, None, reason)
        self.hangup(one)
        return OriginateResult(reason, None)

    def _originate_invalid(
        self, request: OriginateRequest, one: Channel, two: Channel
    ) -> OriginateResult:
        """Local channel to an extension that does not exist: both halves die at once."""
        for chan in (two, one):
            if chan is one:
                self.report_originate(request, None, REASON_FAILED)
            chan.hungup = True
            chan.soft_hangup = True
            self.emit(ev.hangup(chan))
            self._forget(chan)
            chan.ended.set()
        self.device_state(one.device, "INVALID")
        self.device_state(two.device, "INVALID")
        return OriginateResult(REASON_FAILED, None)

    async def run_app(self, chan: Channel, app: str, data: str) -> Outcome:
        return await run_app(self, chan, app, data)

    async def run_originated_app(self, chan: Channel, request: OriginateRequest) -> None:
        """Originate with Application=: the app runs on the answered channel, no dialplan."""
        chan.appl, chan.data = request.application or "", request.data
        chan.pbx_running = True
        try:
            await run_app(self, chan, request.application or "", request.data)
        finally:
            chan.pbx_running = False
        if chan.pending_goto is not None and not chan.soft_hangup:
            context, exten, priority = chan.pending_goto
            chan.pending_goto = None
            chan.context, chan.exten, chan.priority = context, exten, priority + 1
            chan.pbx_running = True
            await self._run_pbx(chan)
            return
        self.hangup(chan)

    def report_originate(
        self, request: OriginateRequest, chan: Channel | None, reason: int
    ) -> None:
        if not request.report:
            return
        if request.application:
            target = [("Application", request.application), ("Data", request.data)]
        else:
            target = [("Context", request.context or ""), ("Exten", request.exten or "")]
        self.emit(
            ev.originate_response(
                request.action_id,
                chan is not None,
                chan.name if chan is not None else request.channel,
                target,
                reason,
                chan.uniqueid if chan is not None else (request.channel_id or "<unknown>"),
                request.caller.num,
                request.caller.name,
            )
        )

    # --- whole-PBX operations ------------------------------------------------------------------
    def restart(self) -> None:
        """Simulated crash + start: every call vanishes, counters and dynamic members reset."""
        for chan in list(self.channels.values()):
            self.drop_channel(chan)
        for task in list(self.tasks):
            task.cancel()
        self.bridges.clear()
        self.device_states.clear()
        self.recordings.clear()
        self.queues.reset()
        self.conferences.reset()
        self.ids = IdAllocator(self.clock, self.rng)
        self.startup_epoch = self.clock.epoch()
        self.reload_epoch = self.startup_epoch
        self.processed_calls = 0

    async def shutdown(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        # recordings of calls still up when the simulator stops
        for recording in list(self.recordings.values()):
            self._write_recording(recording)
        self.recordings.clear()
        await self.flush_recordings()


def _is_up(chan: Channel) -> bool:
    return chan.state == ChannelState.UP
