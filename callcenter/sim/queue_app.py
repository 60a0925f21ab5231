"""Queue(): callers wait, members are rung by strategy, the answered member is bridged.

`QueueManager` owns the queues (members, device states, statistics) for the AMI actions;
`queue_app` is the dialplan application a caller runs. Event sequences follow the transcripts
(s1 answer, s2 abandon, s14 ring-no-answer): QueueCallerJoin, AgentCalled + DialBegin per
member rung, AgentRingNoAnswer + DialEnd NOANSWER/CANCEL on ring timeout, DialEnd ANSWER +
QueueCallerLeave + AgentConnect + bridge on answer, AgentComplete when the call ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from dataclasses import dataclass
from typing import Protocol

from callcenter.sim import events as ev
from callcenter.sim.channels import DIGIT, PEER, QUEUE, Channel, ChannelState
from callcenter.sim.clock import Clock
from callcenter.sim.core import BridgeControl, ChannelControl, MediaControl, Runtime
from callcenter.sim.endpoints import PhoneCore, dial_endpoint, start_endpoint
from callcenter.sim.outcomes import CONTINUE, STOP, Outcome
from callcenter.sim.queues import (
    CallQueue,
    DeviceStatus,
    Member,
    MemberResult,
    QueueCaller,
    QueueConfig,
    choose_members,
)


class QueueHost(Runtime, ChannelControl, Protocol):
    """What the queues' bookkeeping needs: channels (member status) and events."""


class QueueCore(PhoneCore, MediaControl, BridgeControl, Protocol):
    """What the Queue() application needs: ringing members, bridging, hold music."""

    @property
    def queues(self) -> QueueManager: ...


log = logging.getLogger(__name__)

QUEUE_VARS = (
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "QUEUEWAIT",
    "QUEUEWAIT_MS",
)


def member_device(interface: str) -> str:
    """The device whose state a member follows: `Local/101@agents/n` -> `Local/101@agents`."""
    tech, _, rest = interface.partition("/")
    if tech.lower() == "local":
        rest = rest.split("/")[0]
    return f"{tech}/{rest}"


class QueueManager:
    def __init__(self, pbx: QueueHost) -> None:
        self.pbx = pbx
        self.configs: list[QueueConfig] = []
        self.queues: dict[str, CallQueue] = {}

    def configure(self, configs: list[QueueConfig]) -> None:
        self.configs = list(configs)
        self.queues = {c.name: CallQueue(dataclasses.replace(c)) for c in configs}

    def reset(self) -> None:
        """persistentmembers=no: a restart forgets dynamic members, callers and statistics."""
        self.configure(self.configs)

    def get(self, name: str) -> CallQueue | None:
        return self.queues.get(name)

    def notify(self, queue: CallQueue) -> None:
        for caller in queue.callers:
            chan = self.pbx.find_channel(caller.uniqueid)
            if chan is not None:
                chan.signal(QUEUE)

    # --- device states -----------------------------------------------------------------
    def _pause_device(self, queue: CallQueue, member: Member) -> None:
        self.pbx.device_state(
            f"Queue:{queue.name}_pause_{member.interface}",
            "INUSE" if member.paused else "NOT_INUSE",
            cached=True,
        )

    def refresh_avail(self, queue: CallQueue) -> None:
        state = "NOT_INUSE" if queue.has_available(self.pbx.clock.now()) else "INUSE"
        self.pbx.device_state(f"Queue:{queue.name}_avail", state, cached=True)

    def refresh_callers(self, queue: CallQueue) -> None:
        state = "RINGING" if queue.callers else "NOT_INUSE"
        self.pbx.device_state(f"Queue:{queue.name}", state, cached=True)

    def member_status(self, member: Member) -> DeviceStatus:
        device = member_device(member.state_interface)
        for chan in self.pbx.channels.values():
            if chan.device != device or chan.hungup or chan.state != ChannelState.UP:
                continue
            # a Local device is in use while its channel pair exists: once either half
            # is gone, Asterisk reports it free (transcript s10)
            if chan.local_peer is None or not chan.local_peer.hungup:
                return DeviceStatus.INUSE
        return DeviceStatus.NOT_INUSE

    def member_device_changed(self, device: str) -> None:
        """A member's device changed state: members not in a queue call report it at once
        (QueueMemberStatus); during a queue call the Queue application reports it."""
        for queue in self.queues.values():
            for member in queue.members.values():
                if member_device(member.state_interface) != device:
                    continue
                status = self.member_status(member)
                if status == member.status:
                    continue
                member.status = status
                if member.in_call_since is None and member.ringing_for is None:
                    self.emit_member("QueueMemberStatus", queue, member)
                    self.refresh_avail(queue)
                    self.notify(queue)

    def emit_member(self, event: str, queue: CallQueue, member: Member) -> None:
        self.pbx.emit(ev.queue_member_event(event, queue.name, member.fields()))

    # --- AMI member administration -------------------------------------------------------
    def add_member(
        self,
        queue_name: str,
        interface: str,
        *,
        membername: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
        wrapuptime: float = 0.0,
        ringinuse: bool | None = None,
    ) -> MemberResult:
        queue = self.queues.get(queue_name)
        if queue is None:
            return MemberResult.NO_SUCH_QUEUE
        if interface in queue.members:
            return MemberResult.EXISTS
        epoch = int(self.pbx.clock.epoch())
        member = Member(
            interface=interface,
            membername=membername or interface,
            state_interface=state_interface or interface,
            logintime=epoch,
            penalty=max(0, penalty),
            paused=paused,
            paused_reason=reason if paused else "",
            lastpause=epoch if paused else 0,
            wrapuptime=wrapuptime,
            ringinuse=queue.config.ringinuse if ringinuse is None else ringinuse,
        )
        member.status = self.member_status(member)
        queue.add_member(member)
        self._pause_device(queue, member)
        self.emit_member("QueueMemberAdded", queue, member)
        self.refresh_avail(queue)
        self.notify(queue)
        return MemberResult.OK

    def remove_member(self, queue_name: str, interface: str) -> MemberResult:
        queue = self.queues.get(queue_name)
        if queue is None:
            return MemberResult.NO_SUCH_QUEUE
        member = queue.remove_member(interface)
        if member is None:
            return MemberResult.NOT_THERE
        self.emit_member("QueueMemberRemoved", queue, member)
        self.refresh_avail(queue)
        return MemberResult.OK

    def _targets(self, queue_name: str, interface: str) -> list[tuple[CallQueue, Member]]:
        queues = [self.queues[queue_name]] if queue_name in self.queues else []
        if not queue_name:
            queues = list(self.queues.values())
        return [(q, q.members[interface]) for q in queues if interface in q.members]

    def pause(self, queue_name: str, interface: str, paused: bool, reason: str = "") -> bool:
        targets = self._targets(queue_name, interface)
        for queue, member in targets:
            member.paused = paused
            member.paused_reason = reason if paused else ""
            member.lastpause = int(self.pbx.clock.epoch()) if paused else member.lastpause
            self._pause_device(queue, member)
            self.refresh_avail(queue)
            self.emit_member("QueueMemberPause", queue, member)
            self.notify(queue)
        return bool(targets)

    def set_penalty(self, queue_name: str, interface: str, penalty: int) -> bool:
        if penalty < 0:
            return False
        targets = self._targets(queue_name, interface)
        for queue, member in targets:
            member.penalty = penalty
            self.emit_member("QueueMemberPenalty", queue, member)
        return bool(targets)


@dataclass
class _Leg:
    member: Member
    chan: Channel
    task: asyncio.Task[str]


QUEUE_ARGS = 9  # queuename,options,URL,announceoverride,timeout,AGI,gosub,rule,position
QUEUE_USAGE = (
    "Queue requires an argument: queuename[,options[,URL[,announceoverride[,timeout"
    "[,agi[,gosub[,rule[,position]]]]]]]]"
)


def queue_args(data: str) -> list[str]:
    """Queue()'s arguments as Asterisk 22 splits them (AST_STANDARD_APP_ARGS, 9 slots): the
    last slot, position, takes the rest of the text, commas and all."""
    parts = data.split(",", QUEUE_ARGS - 1) if data else []
    return [part.strip() for part in parts] + [""] * (QUEUE_ARGS - len(parts))


def _atoi(text: str) -> int:
    """C's atoi: the leading (signed) digits, 0 when there are none (",5" -> 0)."""
    match = re.match(r"\s*([-+]?\d+)", text)
    return int(match[1]) if match else 0


async def queue_app(pbx: QueueCore, chan: Channel, data: str) -> Outcome:
    """Queue(queuename[,options[,URL[,announceoverride[,timeout[,AGI[,gosub[,rule[,position]]]]]]]])."""
    args = queue_args(data)
    name, options, timeout_s, position_text = args[0], args[1], args[4], args[8]
    if not name:
        log.warning(QUEUE_USAGE)
        return STOP
    position = _atoi(position_text) if position_text else 0
    if position < 0:
        log.warning(
            "Invalid position '%s' given for call to queue '%s'. "
            "Assuming no preference for position",
            position_text,
            name,
        )
        position = 0
    queue = pbx.queues.get(name)
    if queue is None:
        pbx.set_var(chan, "QUEUESTATUS", "UNKNOWN")
        return CONTINUE
    manager = pbx.queues
    clock = pbx.clock
    for variable in QUEUE_VARS:
        pbx.set_var(chan, variable, "")
    if not queue.config.joinempty and not any(
        not m.paused and m.status not in (DeviceStatus.UNAVAILABLE, DeviceStatus.INVALID)
        for m in queue.members.values()
    ):
        # queues.conf joinempty: nobody there who could ever answer (app_queue.c JOINEMPTY)
        pbx.set_var(chan, "QUEUESTATUS", "JOINEMPTY")
        return CONTINUE
    prio_text = chan.variables.get("QUEUE_PRIO", "")
    entry = QueueCaller(
        uniqueid=chan.uniqueid,
        joined=clock.now(),
        joined_epoch=int(clock.epoch()),
        prio=int(prio_text) if prio_text.lstrip("-").isdigit() else 0,
    )
    position = queue.join(entry, position)
    chan.dtmf.clear()  # keys from the IVR stage were consumed there
    manager.refresh_callers(queue)
    pbx.emit(
        ev.queue_caller(
            "QueueCallerJoin",
            chan,
            queue.name,
            [("Position", str(position)), ("Count", str(len(queue.callers)))],
        )
    )
    if pbx.config.queue_music_on_hold:
        pbx.moh_start(chan, queue.config.music_class)
    _script_hook(pbx, chan, "queue_joined")
    expire = clock.now() + float(timeout_s) if timeout_s.replace(".", "", 1).isdigit() else None
    return await _QueueCall(pbx, chan, queue, entry, options, expire).run()


def _script_hook(pbx: QueueCore, chan: Channel, name: str) -> None:
    script = chan.script
    hook = getattr(script, name, None)
    if callable(hook):
        hook(pbx, chan)


class _QueueCall:
    """One caller's stay in a queue, from join to leave."""

    def __init__(
        self,
        pbx: QueueCore,
        chan: Channel,
        queue: CallQueue,
        entry: QueueCaller,
        options: str,
        expire: float | None,
    ) -> None:
        self.pbx = pbx
        self.chan = chan
        self.queue = queue
        self.entry = entry
        self.options = options
        self.expire = expire

    @property
    def clock(self) -> Clock:
        return self.pbx.clock

    def hold_seconds(self) -> int:
        return int(self.clock.epoch()) - self.entry.joined_epoch

    async def run(self) -> Outcome:
        chan, queue = self.chan, self.queue
        while True:
            if chan.soft_hangup:
                return self._abandon()
            if chan.pending_goto is not None:
                return self._leave_queue("CONTINUE")
            now = self.clock.now()
            if self.expire is not None and now >= self.expire:
                return self._leave_queue("TIMEOUT")
            if queue.is_our_turn(chan.uniqueid, now):
                members = choose_members(
                    queue, self.entry, now, int(self.clock.epoch()), self.pbx.rng
                )
                if members:
                    result = await self._ring(members)
                    if result is not None:
                        return result
                    continue
            # woken when anything that matters changes (members, other callers, wrap-ups)
            wait_for = None if self.expire is None else max(0.0, self.expire - now)
            await chan.wait(self.clock, wait_for, frozenset({QUEUE}))

    # --- ringing -------------------------------------------------------------------------
    async def _ring(self, members: list[Member]) -> Outcome | None:
        """Ring `members`; an outcome when the caller's stay ends, None to keep waiting."""
        chan, queue = self.chan, self.queue
        self.entry.ringing = True
        legs = [self._call_member(member) for member in members]
        ring_started = self.clock.now()
        try:
            pending = {leg.task for leg in legs}
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for leg in legs:
                    if leg.task not in done:
                        continue
                    status = leg.task.result()
                    if status == "ANSWER":
                        others = [o for o in legs if o is not leg and not o.chan.hungup]
                        for other in others:
                            other.task.cancel()
                            self._end_leg(other, "CANCEL")
                        return await self._connect(leg, ring_started)
                    if status == "NOANSWER":
                        self._ring_no_answer(leg, ring_started)
                    elif status == "CANCEL":
                        self._end_leg(leg, "CANCEL")
                    else:
                        self._end_leg(leg, status)
        finally:
            self.entry.ringing = False
            for leg in legs:
                leg.member.ringing_for = None
                if not leg.task.done():
                    leg.task.cancel()
            manager_queue = queue
            self.pbx.queues.notify(manager_queue)
        if chan.soft_hangup or chan.pending_goto is not None:
            return None  # run() reports abandon / leaves
        # nobody answered: wait `retry` before the next attempt (ast_waitfordigit: a key
        # pressed meanwhile ends the pause early, as in transcript s14); keys pressed while
        # members were ringing were read and dropped by the ringing loop
        chan.dtmf.clear()
        reason = await chan.wait(self.clock, queue.config.retry, frozenset({DIGIT}))
        if reason == DIGIT:
            chan.dtmf.popleft()
        return None

    def _call_member(self, member: Member) -> _Leg:
        pbx, chan, queue = self.pbx, self.chan, self.queue
        member.ringing_for = chan.uniqueid
        interface = member.interface
        tech, _, resource = interface.partition("/")
        if tech.lower() == "local":
            target = resource.split("/")[0]
            exten, _, context = target.partition("@")
            one, two = pbx.dial_local(exten, context, caller=chan, outgoing_app="AppQueue")
            pbx.emit(ev.new_callerid(one))
            dialed = f"{target}{'/n' if resource.endswith('/n') else ''}"
            pbx.set_var(one, "DIALEDPEERNUMBER", dialed)
            pbx.set_var(two, "DIALEDPEERNUMBER", dialed)
            pbx.set_caller(two, chan.caller, connected_too=True)
            pbx.set_connected(two, chan.caller)
            pbx.emit(
                ev.local_bridge(one, two, context, exten, optimize=not resource.endswith("/n"))
            )
            start_dialplan = (two, context, exten)
        else:
            one = dial_endpoint(pbx, interface, caller=chan)
            start_dialplan = None
        view = dataclasses.replace(one, exten=chan.exten, connected=chan.caller.copy())
        pbx.emit(
            ev.agent_event(
                "AgentCalled", chan, view, queue.name, member.interface, member.membername, []
            )
        )
        pbx.emit(ev.dial_event("DialBegin", chan, one, [("DialString", interface)]))
        one.exten = chan.exten
        one.connected = chan.caller.copy()
        if start_dialplan is not None:
            pbx.start_pbx(*start_dialplan)
        else:
            start_endpoint(pbx, one)
        timeout = queue.config.timeout
        if self.expire is not None:
            timeout = max(0.0, min(timeout, self.expire - self.clock.now()))
        task = asyncio.get_running_loop().create_task(pbx.wait_dial(one, timeout, caller=chan))
        return _Leg(member, one, task)

    def _hangup_leg(self, leg: _Leg) -> None:
        if leg.chan.hungup:
            return
        self.pbx.hangup(leg.chan)
        if leg.chan.is_local:
            self.pbx.emit(ev.channel_event("NewConnectedLine", leg.chan))

    def _end_leg(self, leg: _Leg, status: str) -> None:
        """A rung member did not connect: DialEnd(status) [+ CANCEL], leg hung up."""
        pbx, chan = self.pbx, self.chan
        if leg.chan.hungup and status == "CHANUNAVAIL":
            pbx.emit(ev.dial_event("DialEnd", chan, leg.chan, [("DialStatus", status)]))
            return
        pbx.emit(ev.dial_event("DialEnd", chan, leg.chan, [("DialStatus", status)]))
        pbx.emit(ev.dial_event("DialEnd", chan, leg.chan, [("DialStatus", "CANCEL")]))
        self._hangup_leg(leg)

    def _ring_no_answer(self, leg: _Leg, ring_started: float) -> None:
        pbx, chan = self.pbx, self.chan
        ring_ms = round((self.clock.now() - ring_started) * 1000)
        pbx.emit(
            ev.agent_event(
                "AgentRingNoAnswer",
                chan,
                leg.chan,
                self.queue.name,
                leg.member.interface,
                leg.member.membername,
                [("RingTime", str(ring_ms))],
            )
        )
        self._end_leg(leg, "NOANSWER")

    # --- leaving -------------------------------------------------------------------------
    def _leave(self) -> int:
        queue = self.queue
        position = queue.leave(self.chan.uniqueid)
        self.pbx.queues.refresh_callers(queue)
        return position

    def _emit_leave(self, position: int) -> None:
        self.pbx.emit(
            ev.queue_caller(
                "QueueCallerLeave",
                self.chan,
                self.queue.name,
                [("Position", str(position)), ("Count", str(len(self.queue.callers)))],
            )
        )
        self.pbx.set_var(self.chan, "QUEUEPOSITION", str(position))
        self.pbx.queues.notify(self.queue)

    def _dialed_time_vars(self) -> None:
        pbx, chan = self.pbx, self.chan
        elapsed = self.clock.now() - chan.created
        pbx.set_var(chan, "DIALEDTIME", str(int(elapsed)))
        pbx.set_var(chan, "DIALEDTIME_MS", str(int(elapsed * 1000)))

    def _abandon(self) -> Outcome:
        pbx, chan, queue = self.pbx, self.chan, self.queue
        hold = self.hold_seconds()
        pbx.set_var(chan, "QUEUEWAIT", str(hold))
        pbx.set_var(chan, "QUEUEWAIT_MS", str(hold * 1000))
        self._dialed_time_vars()
        pbx.set_var(chan, "ANSWEREDTIME", "0")
        pbx.set_var(chan, "ANSWEREDTIME_MS", "0")
        pbx.set_var(chan, "ABANDONED", "TRUE")
        position = queue.position(chan.uniqueid)
        queue.record_holdtime(hold)
        queue.record_abandoned(hold <= queue.config.servicelevel)
        pbx.emit(
            ev.queue_caller(
                "QueueCallerAbandon",
                chan,
                queue.name,
                [
                    ("Position", str(position)),
                    ("OriginalPosition", str(self.entry.opos)),
                    ("HoldTime", str(hold)),
                ],
            )
        )
        pbx.moh_stop(chan)
        self._emit_leave(self._leave())
        _script_hook(pbx, chan, "queue_left")
        return STOP

    def _leave_queue(self, status: str) -> Outcome:
        """Timeout, or the caller was redirected out of the queue."""
        pbx, chan = self.pbx, self.chan
        hold = self.hold_seconds()
        pbx.moh_stop(chan)
        self._emit_leave(self._leave())
        if status == "TIMEOUT":
            pbx.set_var(chan, "QUEUEWAIT", str(hold))
            pbx.set_var(chan, "QUEUEWAIT_MS", str(hold * 1000))
            pbx.set_var(chan, "QUEUESTATUS", "TIMEOUT")
        _script_hook(pbx, chan, "queue_left")
        return CONTINUE

    # --- connected -----------------------------------------------------------------------
    async def _connect(self, leg: _Leg, ring_started: float) -> Outcome:
        pbx, chan, queue, member = self.pbx, self.chan, self.queue, leg.member
        agent = leg.chan
        if agent.is_local:
            pbx.newexten(agent, "AppQueue", "(Outgoing Line)")
            pbx.emit(ev.channel_event("NewConnectedLine", agent))
        pbx.emit(ev.dial_event("DialEnd", chan, agent, [("DialStatus", "ANSWER")]))
        pbx.moh_stop(chan)
        position = self._leave()
        hold = self.hold_seconds()
        self._emit_leave(position)
        pbx.set_var(chan, "QUEUEWAIT", str(hold))
        pbx.set_var(chan, "QUEUEWAIT_MS", str(hold * 1000))
        ring_seconds = int(self.clock.now() - ring_started)
        pbx.emit(
            ev.agent_event(
                "AgentConnect",
                chan,
                agent,
                queue.name,
                member.interface,
                member.membername,
                [("HoldTime", str(hold)), ("RingTime", str(ring_seconds))],
            )
        )
        queue.record_holdtime(hold)
        bridge = pbx.create_bridge()
        pbx.enter_bridge(bridge, agent)
        pbx.enter_bridge(bridge, chan)
        pbx.set_var(agent, "BRIDGEPEER", chan.name)
        pbx.set_var(chan, "BRIDGEPEER", agent.name)
        connected_at = self.clock.now()
        connected_epoch = int(self.clock.epoch())
        member.ringing_for = None
        member.in_call_since = connected_at
        member.status = DeviceStatus.INUSE
        pbx.queues.emit_member("QueueMemberStatus", queue, member)
        _script_hook(pbx, chan, "agent_connected")
        agent.watchers.append(chan)

        def talk_seconds() -> int:
            return int(self.clock.epoch()) - connected_epoch

        def agent_complete(with_dest: bool, why: str) -> None:
            pbx.emit(
                ev.agent_event(
                    "AgentComplete",
                    chan,
                    agent if with_dest else None,
                    queue.name,
                    member.interface,
                    member.membername,
                    [("HoldTime", str(hold)), ("TalkTime", str(talk_seconds())), ("Reason", why)],
                )
            )

        reason = ""
        transfer_reported = False
        while True:
            if chan.soft_hangup:
                reason = "caller"
                break
            if chan.pending_goto is not None:
                reason = "redirect"
                break
            if agent.soft_hangup or agent.hungup or agent.bridge is not bridge:
                reason = "agent" if agent.bridge is bridge or agent.hungup else "transfer"
                break
            if chan.variables.get("BLINDTRANSFER") == agent.name and not transfer_reported:
                transfer_reported = True
                agent_complete(True, "transfer")
            await chan.wait(self.clock, None, frozenset({PEER}))
        if chan in agent.watchers:
            agent.watchers.remove(chan)
        talk = talk_seconds()
        answered_ms = int((self.clock.now() - connected_at) * 1000)
        queue.record_completed(talk, hold <= queue.config.servicelevel)

        if reason == "agent":
            pbx.set_var(agent, "BRIDGEPEER", "")
            pbx.set_var(chan, "BRIDGEPEER", "")
            agent_complete(True, "agent")
            pbx.leave_bridge(agent)
            self._member_done(member)
            pbx.leave_bridge(chan)
            pbx.set_var(chan, "ANSWEREDTIME", str(answered_ms // 1000))
            pbx.set_var(chan, "ANSWEREDTIME_MS", str(answered_ms))
            pbx.hangup(agent)
            self._dialed_time_vars()
            pbx.destroy_bridge(bridge)
            return CONTINUE if "c" in self.options else STOP
        if reason == "caller":
            pbx.set_var(agent, "BRIDGEPEER", "")
            pbx.set_var(chan, "BRIDGEPEER", "")
            agent_complete(True, "caller")
            pbx.leave_bridge(chan)
            pbx.leave_bridge(agent)
            agent.hangup_cause = agent.hangup_cause or 16
            pbx.hangup(agent)
            self._member_done(member)
            pbx.set_var(chan, "ANSWEREDTIME", str(answered_ms // 1000))
            pbx.set_var(chan, "ANSWEREDTIME_MS", str(answered_ms))
            self._dialed_time_vars()
            pbx.destroy_bridge(bridge)
            return STOP
        if reason == "transfer":
            # the operator leg was sent elsewhere (blind transfer) and lives on: the queue
            # counts the call as taken now, the member stays busy until that leg ends
            member.in_call_since = None
            member.calls += 1
            member.lastcall = int(self.clock.epoch())
            member.lastcall_end = self.clock.now()
            pbx.leave_bridge(chan)
            pbx.set_var(chan, "ANSWEREDTIME", str(answered_ms // 1000))
            pbx.set_var(chan, "ANSWEREDTIME_MS", str(answered_ms))
            self._dialed_time_vars()
            pbx.destroy_bridge(bridge)
            return STOP
        # redirect: the caller leaves for another place; the operator leg is hung up and
        # AgentComplete follows when the caller finally hangs up (as the transcripts show)
        pbx.set_var(agent, "BRIDGEPEER", "")
        pbx.leave_bridge(chan)
        self._dialed_time_vars()
        pbx.set_var(chan, "ANSWEREDTIME", "0")
        pbx.set_var(chan, "ANSWEREDTIME_MS", "0")
        pbx.leave_bridge(agent)
        agent.hangup_cause = agent.hangup_cause or 16
        pbx.hangup(agent)
        pbx.destroy_bridge(bridge)
        self._member_done(member)
        chan.on_hangup.append(lambda: agent_complete(False, "caller"))
        return CONTINUE

    def _member_done(self, member: Member) -> None:
        if member.in_call_since is None:
            return
        pbx, queue = self.pbx, self.queue
        member.in_call_since = None
        member.calls += 1
        member.lastcall = int(self.clock.epoch())
        member.lastcall_end = self.clock.now()
        # the operator's side of the call is gone (its leg may still be tearing down)
        member.status = DeviceStatus.NOT_INUSE
        if queue.members.get(member.interface) is not member:
            return  # logged out during the call: nothing left to report
        pbx.queues.emit_member("QueueMemberStatus", queue, member)
        pbx.queues.refresh_avail(queue)
        pbx.queues.notify(queue)
        wrapup = member.wrapuptime or queue.config.wrapuptime
        if wrapup > 0:
            # wake waiting callers when the wrap-up ends (no AMI event: Asterisk sends none)
            self.clock.call_later(wrapup + 0.001, lambda: pbx.queues.notify(queue))
