"""AMI actions with Asterisk 22's replies (texts from manager.c, app_queue.c, app_mixmonitor.c,
app_confbridge.c and the transcripts). A reply is written before the events the action
causes, as Asterisk does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from callcenter.pbx.frames import AmiFrame
from callcenter.sim import events as ev
from callcenter.sim.ami_session import AmiSession, event_tv, parse_event_mask
from callcenter.sim.callerid import parse_callerid
from callcenter.sim.channels import PEER, UNKNOWN, Channel, ChannelState, channel_fields
from callcenter.sim.pbx import OriginateRequest, Pbx
from callcenter.sim.queues import MemberResult


class ActionServer(Protocol):
    """The AMI server as its actions see it: the PBX, logins and security events."""

    @property
    def pbx(self) -> Pbx: ...

    def check_login(self, session: AmiSession, frame: AmiFrame) -> bool: ...
    def security_event(
        self, session: AmiSession, event: str, severity: str, tail: ev.Pairs
    ) -> None: ...
    def session_fields(self, session: AmiSession) -> ev.Pairs: ...


TRUE_VALUES = ("yes", "true", "y", "t", "1", "on")


@dataclass
class ActionContext:
    server: ActionServer
    session: AmiSession
    frame: AmiFrame

    @property
    def pbx(self) -> Pbx:
        return self.server.pbx

    def header(self, name: str) -> str:
        return self.frame.get(name) or ""

    @property
    def action_id(self) -> str:
        return self.header("ActionID")

    def id_pairs(self) -> list[tuple[str, str]]:
        return [("ActionID", self.action_id)] if self.action_id else []

    def respond(self, response: str, message: str | None, *, list_flag: str | None = None) -> None:
        pairs = [("Response", response), *self.id_pairs()]
        if list_flag:
            pairs.append(("EventList", list_flag))
        if message is not None:
            pairs.append(("Message", message))
        self.session.send(pairs)

    def ack(self, message: str | None) -> None:
        self.respond("Success", message)

    def error(self, message: str) -> None:
        self.respond("Error", message)

    def ack_with(self, fields: list[tuple[str, str]]) -> None:
        self.session.send([("Response", "Success"), *self.id_pairs(), *fields])

    def list_start(self, message: str) -> None:
        self.respond("Success", message, list_flag="start")

    def list_complete(self, event: str, items: int, extra: Sequence[tuple[str, str]] = ()) -> None:
        self.session.send(
            [
                ("Event", event),
                *self.id_pairs(),
                ("EventList", "Complete"),
                ("ListItems", str(items)),
                *extra,
            ]
        )


Handler = Callable[[ActionContext], Awaitable[None]]
ACTIONS: dict[str, Handler] = {}
ACTION_NAMES: list[str] = []


def action(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ACTIONS[name.lower()] = handler
        ACTION_NAMES.append(name)
        return handler

    return register


def truthy(value: str) -> bool:
    return value.strip().lower() in TRUE_VALUES


async def dispatch(server: ActionServer, session: AmiSession, frame: AmiFrame) -> None:
    ctx = ActionContext(server, session, frame)
    name = (frame.get("Action") or "").strip()
    if not name:
        ctx.error("Missing action in request")
        return
    lowered = name.lower()
    if not session.authenticated and lowered not in ("login", "logoff", "challenge"):
        ctx.error("Permission denied")
        return
    handler = ACTIONS.get(lowered)
    if handler is None:
        ctx.error(
            f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands."
        )
        tail = [
            *server.session_fields(session),
            ("RequestType", f"Action: {name}"),
            ("SessionTV", _tv(server, session.started_epoch)),
            ("AccountID", session.username),
        ]
        server.security_event(session, "RequestBadFormat", "Error", tail)
        return
    await handler(ctx)


def _tv(server: ActionServer, epoch: float) -> str:
    return event_tv(epoch)


# --- session ----------------------------------------------------------------------------------


@action("Login")
async def login(ctx: ActionContext) -> None:
    session, server = ctx.session, ctx.server
    if session.authenticated:
        ctx.ack("Already authenticated")
        return
    if not server.check_login(session, ctx.frame):
        await server.pbx.clock.sleep(1.0)  # Asterisk sleeps a second before refusing
        ctx.error("Authentication failed")
        await asyncio.sleep(0)
        session.close()
        return
    session.authenticated = True
    session.username = ctx.header("Username")
    mask = parse_event_mask(ctx.header("Events")) if ctx.frame.get("Events") is not None else None
    if mask is not None:
        session.events = mask
    ctx.ack("Authentication accepted")
    if "system" in session.events:
        pbx = server.pbx
        now = pbx.clock.epoch()
        session.send(ev.fully_booted(int(now - pbx.startup_epoch), int(now - pbx.reload_epoch)))
    tail = [
        ("AccountID", session.username),
        *server.session_fields(session),
        ("UsingPassword", "0"),
        ("SessionTV", _tv(server, session.started_epoch)),
    ]
    server.security_event(session, "SuccessfulAuth", "Informational", tail)


@action("Challenge")
async def challenge(ctx: ActionContext) -> None:
    if ctx.header("AuthType").lower() != "md5":
        ctx.error("Must specify AuthType")
        return
    ctx.session.challenge = f"{ctx.server.pbx.rng.randrange(10**8, 10**9)}"
    ctx.ack_with([("Challenge", ctx.session.challenge)])


@action("Logoff")
async def logoff(ctx: ActionContext) -> None:
    ctx.respond("Goodbye", "Thanks for all the fish.")
    await ctx.session.writer.drain()
    ctx.session.close()


@action("Events")
async def events_action(ctx: ActionContext) -> None:
    mask = parse_event_mask(ctx.header("EventMask"))
    if mask is None:
        ctx.error("Invalid event mask")
        return
    ctx.session.events = mask
    ctx.ack_with([("Events", "On" if mask else "Off")])


@action("Ping")
async def ping(ctx: ActionContext) -> None:
    now = ctx.server.pbx.clock.epoch()
    ctx.ack_with([("Ping", "Pong"), ("Timestamp", f"{now:.6f}")])


@action("CoreStatus")
async def core_status(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    start = datetime.fromtimestamp(pbx.startup_epoch)  # noqa: DTZ006 - Asterisk uses local time
    reload = datetime.fromtimestamp(pbx.reload_epoch)  # noqa: DTZ006
    ctx.ack_with(
        [
            ("CoreStartupDate", start.strftime("%Y-%m-%d")),
            ("CoreStartupTime", start.strftime("%H:%M:%S")),
            ("CoreReloadDate", reload.strftime("%Y-%m-%d")),
            ("CoreReloadTime", reload.strftime("%H:%M:%S")),
            ("CoreCurrentCalls", str(len(pbx.channels))),
            ("CoreProcessedCalls", str(pbx.processed_calls)),
        ]
    )


# --- channels -------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


@action("CoreShowChannels")
async def core_show_channels(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    ctx.list_start("Channels will follow")
    channels: list[Channel] = list(pbx.channels.values())
    for chan in channels:
        ctx.session.send(
            [
                ("Event", "CoreShowChannel"),
                *ctx.id_pairs(),
                *channel_fields(chan),
                ("Application", chan.appl),
                ("ApplicationData", chan.data),
                ("Duration", _duration(pbx.clock.now() - chan.created)),
                ("BridgeId", chan.bridge.uniqueid if chan.bridge else ""),
            ]
        )
    ctx.list_complete("CoreShowChannelsComplete", len(channels))


@action("Status")
async def status(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    name = ctx.header("Channel")
    channels: list[Channel]
    if name:
        found = pbx.find_channel(name)
        if found is None:
            ctx.error("No such channel")
            return
        channels = [found]
    else:
        channels = list(pbx.channels.values())
    wanted = [v.strip() for v in ctx.header("Variables").split(",") if v.strip()]
    all_vars = truthy(ctx.header("AllVariables"))
    ctx.list_start("Channel status will follow")
    for chan in channels:
        variables = [("Variable", f"{v}={pbx.lookup(chan)(v) or ''}") for v in wanted]
        if all_vars:
            variables += [("Variable", f"{k}={v}") for k, v in chan.variables.items()]
        effective = chan.connected
        ctx.session.send(
            [
                ("Event", "Status"),
                ("Privilege", "Call"),
                *channel_fields(chan),
                ("Type", chan.tech),
                ("DNID", ""),
                ("EffectiveConnectedLineNum", effective.num or UNKNOWN),
                ("EffectiveConnectedLineName", effective.name or UNKNOWN),
                ("TimeToHangup", "0"),
                ("BridgeID", chan.bridge.uniqueid if chan.bridge else ""),
                ("Application", chan.appl),
                ("Data", chan.data),
                ("Nativeformats", "(slin)" if chan.is_local else "(ulaw)"),
                ("Readformat", "slin" if chan.is_local else "ulaw"),
                ("Readtrans", ""),
                ("Writeformat", "slin" if chan.is_local else "ulaw"),
                ("Writetrans", ""),
                ("Callgroup", "0"),
                ("Pickupgroup", "0"),
                ("Seconds", str(int(pbx.clock.now() - chan.created))),
                *variables,
                *ctx.id_pairs(),
            ]
        )
    ctx.list_complete("StatusComplete", len(channels), [("Items", str(len(channels)))])


@action("Getvar")
async def getvar(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    variable = ctx.header("Variable")
    if not variable:
        ctx.error("No variable specified")
        return
    name = ctx.header("Channel")
    chan = pbx.find_channel(name) if name else None
    if name and chan is None:
        ctx.error("No such channel")
        return
    value = pbx.lookup(chan)(variable) if chan is not None else None
    ctx.ack_with([("Variable", variable), ("Value", value or "")])


@action("Setvar")
async def setvar(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    variable = ctx.header("Variable")
    if not variable:
        ctx.error("No variable specified")
        return
    name = ctx.header("Channel")
    chan = pbx.find_channel(name) if name else None
    if name and chan is None:
        ctx.error("No such channel")
        return
    ctx.ack("Variable Set")
    if chan is not None:
        pbx.set_var(chan, variable, ctx.header("Value"))


@action("Hangup")
async def hangup(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    name = ctx.header("Channel")
    if not name:
        ctx.error("No channel specified")
        return
    chan = pbx.find_channel(name)
    if chan is None:
        ctx.error("No such channel")
        return
    cause_text = ctx.header("Cause")
    cause = int(cause_text) if cause_text.isdigit() and 0 < int(cause_text) <= 127 else 0
    ctx.ack("Channel Hungup")
    pbx.silent_hangup_request(chan, cause)


def _variables(frame: AmiFrame) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for header in frame.get_all("Variable"):
        for item in header.split(","):
            name, sep, value = item.partition("=")
            if sep and name.strip():
                out.append((name.strip(), value))
    return out


@action("Originate")
async def originate(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    channel = ctx.header("Channel")
    if not channel:
        ctx.error("Channel not specified")
        return
    context, exten, application = (
        ctx.header("Context"),
        ctx.header("Exten"),
        ctx.header("Application"),
    )
    priority_text = ctx.header("Priority")
    priority = 1
    if priority_text:
        if priority_text.isdigit():
            priority = int(priority_text)
        else:
            ext = pbx.dialplan.find(context, exten)
            label = ext.priority_of(priority_text) if ext is not None else None
            if label is None:
                ctx.error("Invalid priority")
                return
            priority = label
    timeout_text = ctx.header("Timeout")
    timeout_ms = 30000
    if timeout_text:
        try:
            timeout_ms = int(timeout_text)
        except ValueError:
            ctx.error("Invalid timeout")
            return
    if "/" not in channel:
        ctx.error("Invalid channel")
        return
    if not application:
        if exten and context and priority_text:
            if not pbx.dialplan.exists(context, exten, priority):
                ctx.error("Extension does not exist.")
                return
        else:
            ctx.error("Originate with 'Exten' requires 'Context' and 'Priority'")
            return
    request = OriginateRequest(
        channel=channel,
        context=context or None,
        exten=exten or None,
        priority=priority,
        application=application or None,
        data=ctx.header("Data"),
        caller=parse_callerid(ctx.header("CallerID")),
        timeout=timeout_ms / 1000,
        variables=_variables(ctx.frame),
        channel_id=ctx.header("ChannelId") or None,
        other_channel_id=ctx.header("OtherChannelId") or None,
        action_id=ctx.action_id or None,
    )
    if truthy(ctx.header("Async")):
        ctx.ack("Originate successfully queued")
        pbx.spawn(pbx.originate(request), name=f"originate {channel}")
        return
    result = await pbx.originate(request)
    if result.success:
        ctx.ack("Originate successfully queued")
    else:
        ctx.error("Originate failed")


@action("Redirect")
async def redirect(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    name, context, exten, priority = (
        ctx.header(h) for h in ("Channel", "Context", "Exten", "Priority")
    )
    for value, message in (
        (name, "Channel not specified"),
        (context, "Context not specified"),
        (exten, "Exten not specified"),
        (priority, "Priority not specified"),
    ):
        if not value:
            ctx.error(message)
            return
    ext = pbx.dialplan.find(context, exten)
    prio = (
        ext.priority_of(priority)
        if ext is not None
        else (int(priority) if priority.isdigit() else None)
    )
    if prio is None:
        ctx.error("Priority is invalid")
        return
    chan = pbx.find_channel(name)
    if chan is None:
        ctx.error(f"Channel does not exist: {name}")
        return
    if chan.soft_hangup:
        ctx.error("Redirect failed, channel not up.")
        return
    if not pbx.dialplan.exists(context, exten, prio):
        ctx.error("Redirect failed")
        return
    ctx.ack("Redirect successful")
    pbx.async_goto(chan, context, exten, prio)


def _transfer_target(ctx: ActionContext) -> tuple[Channel, str, str] | None:
    """The Channel, Exten and Context of a BlindTransfer or Atxfer, with Asterisk's own
    error replies when one is missing or the channel does not exist (None then)."""
    name, exten, context = ctx.header("Channel"), ctx.header("Exten"), ctx.header("Context")
    if not name:
        ctx.error("No channel specified")
        return None
    if not exten:
        ctx.error("No extension specified")
        return None
    chan = ctx.server.pbx.find_channel(name)
    if chan is None:
        ctx.error("Channel specified does not exist")
        return None
    return chan, exten, context


@action("BlindTransfer")
async def blind_transfer(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    target = _transfer_target(ctx)
    if target is None:
        return
    chan, exten, context = target
    context = context or chan.context
    bridge = chan.bridge
    others = [c for c in bridge.channels if c is not chan] if bridge else []
    if bridge is None or not others:
        ctx.error("Transfer invalid")
        return
    if not pbx.dialplan.exists(context, exten, 1):
        ctx.error("Transfer failed")
        return
    ctx.ack("Transfer succeeded")
    transferee = others[0]
    pbx.emit(ev.channel_event("Unhold", chan))
    pbx.set_var(chan, "BLINDTRANSFER", transferee.name)
    pbx.set_var(transferee, "BLINDTRANSFER", chan.name)
    pbx.set_var(chan, "BRIDGEPEER", "")
    pbx.emit(ev.blind_transfer(chan, transferee, bridge, context, exten))
    chan.signal(PEER)  # a Queue() holding the bridge reports AgentComplete (transfer)
    await asyncio.sleep(0)
    # the transferee goes to the target; the transferer's application sees its peer leave
    # and ends (the transferer hangs up, transcript s10)
    pbx.async_goto(transferee, context, exten, 1)


FEATURE_ATXFER = "*2"  # lab-features.conf


@action("Atxfer")
async def atxfer(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    target = _transfer_target(ctx)
    if target is None:
        return
    chan, exten, context = target
    ctx.ack("Atxfer successfully queued")
    pbx.spawn(_atxfer(pbx, chan, context or chan.context, exten), name=f"atxfer {chan.name}")


async def _atxfer(pbx: Pbx, chan: Channel, context: str, exten: str) -> None:
    """The feature code and target digits arrive as DTMF (as in s15); a bridged party is
    put on hold while the transferer dials the target."""
    pbx.set_var(chan, "TRANSFER_CONTEXT", context)
    for index, digit in enumerate(FEATURE_ATXFER + exten):
        if index:
            await pbx.clock.sleep(0.16)
        if chan.hungup:
            return
        pbx.emit(ev.dtmf_end(chan, digit, 0))
    bridge = chan.bridge
    if bridge is not None:
        for other in bridge.channels:
            if other is not chan:
                pbx.moh_start(other)


# --- MixMonitor -------------------------------------------------------------------------------


@action("MixMonitor")
async def mixmonitor(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    name = ctx.header("Channel")
    if not name:
        ctx.error("No channel specified")
        return
    chan = pbx.find_channel(name)
    if chan is None:
        ctx.error("No such channel")
        return
    filename = ctx.header("File") or f"/var/spool/asterisk/monitor/{chan.uniqueid}.wav"
    ctx.ack_with([("MixMonitorID", f"0x{abs(hash(chan.uniqueid)) & 0xFFFFFFFFFFFF:x}")])
    pbx.start_mixmonitor(chan, filename, ctx.header("Options"))


@action("StopMixMonitor")
async def stop_mixmonitor(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    name = ctx.header("Channel")
    if not name:
        ctx.error("No channel specified")
        return
    chan = pbx.find_channel(name)
    if chan is None:
        ctx.error("No such channel")
        return
    if chan.uniqueid not in pbx.recordings:
        ctx.error("Could not stop monitoring channel")
        return
    monitor_id = ctx.header("MixMonitorID")
    ctx.ack_with([("MixMonitorID", monitor_id)] if monitor_id else [])
    pbx.stop_mixmonitor(chan)


# --- queues ----------------------------------------------------------------------------------


@action("QueueAdd")
async def queue_add(ctx: ActionContext) -> None:
    queue, interface = ctx.header("Queue"), ctx.header("Interface")
    if not queue:
        ctx.error("'Queue' not specified.")
        return
    if not interface:
        ctx.error("'Interface' not specified.")
        return
    penalty_text, wrapup_text = ctx.header("Penalty"), ctx.header("Wrapuptime")
    penalty = int(penalty_text) if penalty_text.isdigit() else 0
    wrapup = float(wrapup_text) if wrapup_text.isdigit() else 0.0
    paused = truthy(ctx.header("Paused"))
    manager = ctx.server.pbx.queues
    target = manager.get(queue)
    if target is None:
        ctx.error("Unable to add interface to queue: No such queue")
        return
    if interface in target.members:
        ctx.error("Unable to add interface: Already there")
        return
    ctx.ack("Added interface to queue")
    ringinuse = ctx.header("RingInUse")
    result = manager.add_member(
        queue,
        interface,
        membername=ctx.header("MemberName"),
        state_interface=ctx.header("StateInterface"),
        penalty=penalty,
        paused=paused,
        reason=ctx.header("Reason"),
        wrapuptime=wrapup,
        ringinuse=truthy(ringinuse) if ringinuse else None,
    )
    assert result is MemberResult.OK


@action("QueueRemove")
async def queue_remove(ctx: ActionContext) -> None:
    queue, interface = ctx.header("Queue"), ctx.header("Interface")
    if not queue or not interface:
        ctx.error("Need 'Queue' and 'Interface' parameters.")
        return
    manager = ctx.server.pbx.queues
    target = manager.get(queue)
    if target is None:
        ctx.error("Unable to remove interface from queue: No such queue")
        return
    if interface not in target.members:
        ctx.error("Unable to remove interface: Not there")
        return
    ctx.ack("Removed interface from queue")
    manager.remove_member(queue, interface)


@action("QueuePause")
async def queue_pause(ctx: ActionContext) -> None:
    interface, paused_text = ctx.header("Interface"), ctx.header("Paused")
    if not interface or not paused_text:
        ctx.error("Need 'Interface' and 'Paused' parameters.")
        return
    manager = ctx.server.pbx.queues
    queue = ctx.header("Queue")
    if not manager._targets(queue, interface):
        ctx.error("Interface not found")
        return
    paused = truthy(paused_text)
    ctx.ack("Interface paused successfully" if paused else "Interface unpaused successfully")
    manager.pause(queue, interface, paused, ctx.header("Reason"))


@action("QueuePenalty")
async def queue_penalty(ctx: ActionContext) -> None:
    interface, penalty_text = ctx.header("Interface"), ctx.header("Penalty")
    if not interface or not penalty_text:
        ctx.error("Need 'Interface' and 'Penalty' parameters.")
        return
    manager = ctx.server.pbx.queues
    queue = ctx.header("Queue")
    try:
        penalty = int(penalty_text)
    except ValueError:
        penalty = -1
    if penalty < 0 or not manager._targets(queue, interface):
        ctx.error("Invalid interface, queuename or penalty")
        return
    ctx.ack("Interface penalty set successfully")
    manager.set_penalty(queue, interface, penalty)


@action("QueueStatus")
async def queue_status(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    queue_filter, member_filter = ctx.header("Queue"), ctx.header("Member")
    ctx.list_start("Queue status will follow")
    items = 0
    now, epoch = pbx.clock.now(), int(pbx.clock.epoch())
    for queue in pbx.queues.queues.values():
        if queue_filter and queue.name.lower() != queue_filter.lower():
            continue
        perf, perf2 = queue.service_levels()
        ctx.session.send(
            [
                ("Event", "QueueParams"),
                ("Queue", queue.name),
                ("Max", str(queue.config.maxlen)),
                ("Strategy", str(queue.config.strategy)),
                ("Calls", str(len(queue.callers))),
                ("Holdtime", str(queue.holdtime)),
                ("TalkTime", str(queue.talktime)),
                ("Completed", str(queue.completed)),
                ("Abandoned", str(queue.abandoned)),
                ("ServiceLevel", str(queue.config.servicelevel)),
                ("ServicelevelPerf", f"{perf:.1f}"),
                ("ServicelevelPerf2", f"{perf2:.1f}"),
                ("Weight", str(queue.config.weight)),
                *ctx.id_pairs(),
            ]
        )
        items += 1
        for member in queue.members.values():
            if member_filter and member_filter not in (member.interface, member.membername):
                continue
            fields = dict(member.fields())
            ctx.session.send(
                [
                    ("Event", "QueueMember"),
                    ("Queue", queue.name),
                    ("Name", member.membername),
                    ("Location", member.interface),
                    ("StateInterface", member.state_interface),
                    ("Membership", fields["Membership"]),
                    ("Penalty", fields["Penalty"]),
                    ("CallsTaken", fields["CallsTaken"]),
                    ("LastCall", fields["LastCall"]),
                    ("LastPause", fields["LastPause"]),
                    ("LoginTime", fields["LoginTime"]),
                    ("InCall", fields["InCall"]),
                    ("Status", fields["Status"]),
                    ("Paused", fields["Paused"]),
                    ("PausedReason", fields["PausedReason"]),
                    ("Wrapuptime", fields["Wrapuptime"]),
                    *ctx.id_pairs(),
                ]
            )
            items += 1
        for position, caller in enumerate(queue.callers, start=1):
            chan = pbx.find_channel(caller.uniqueid)
            if chan is None:
                continue
            ctx.session.send(
                [
                    ("Event", "QueueEntry"),
                    ("Queue", queue.name),
                    ("Position", str(position)),
                    ("Channel", chan.name),
                    ("Uniqueid", chan.uniqueid),
                    ("CallerIDNum", chan.caller.num or "unknown"),
                    ("CallerIDName", chan.caller.name or "unknown"),
                    ("ConnectedLineNum", chan.connected.num or "unknown"),
                    ("ConnectedLineName", chan.connected.name or "unknown"),
                    ("Wait", str(epoch - caller.joined_epoch)),
                    ("Priority", str(caller.prio)),
                    *ctx.id_pairs(),
                ]
            )
            items += 1
    del now
    ctx.list_complete("QueueStatusComplete", items)


@action("QueueSummary")
async def queue_summary(ctx: ActionContext) -> None:
    pbx = ctx.server.pbx
    queue_filter = ctx.header("Queue")
    ctx.list_start("Queue summary will follow")
    count = 0
    now, epoch = pbx.clock.now(), int(pbx.clock.epoch())
    for queue in pbx.queues.queues.values():
        if queue_filter and queue.name.lower() != queue_filter.lower():
            continue
        logged_in = len(queue.members)
        available = sum(
            1
            for m in queue.members.values()
            if not m.paused and m.in_call_since is None and m.status.value in (0, 1)
        )
        longest = max((epoch - c.joined_epoch for c in queue.callers), default=0)
        ctx.session.send(
            [
                ("Event", "QueueSummary"),
                ("Queue", queue.name),
                ("LoggedIn", str(logged_in)),
                ("Available", str(available)),
                ("Callers", str(len(queue.callers))),
                ("HoldTime", str(queue.holdtime)),
                ("TalkTime", str(queue.talktime)),
                ("LongestHoldTime", str(longest)),
                *ctx.id_pairs(),
            ]
        )
        count += 1
    del now
    ctx.list_complete("QueueSummaryComplete", count)


# --- conferences --------------------------------------------------------------------------------


def _conference(ctx: ActionContext, need_channel: bool) -> str | None:
    conferences = ctx.server.pbx.conferences
    name = ctx.header("Conference")
    if not name:
        ctx.error("No Conference name provided.")
        return None
    if need_channel and not ctx.header("Channel"):
        ctx.error("No channel name provided.")
        return None
    if not conferences.rooms:
        ctx.error("No active conferences.")
        return None
    if name not in conferences.rooms:
        ctx.error("No Conference by that name found.")
        return None
    return name


@action("ConfbridgeList")
async def confbridge_list(ctx: ActionContext) -> None:
    name = _conference(ctx, need_channel=False)
    if name is None:
        return
    pbx = ctx.server.pbx
    room = pbx.conferences.rooms[name]
    ctx.list_start("Confbridge user list will follow")
    for member in room.members:
        answered = int(pbx.clock.now() - room.joined_at.get(member.uniqueid, pbx.clock.now()))
        ctx.session.send(
            [
                ("Event", "ConfbridgeList"),
                *ctx.id_pairs(),
                ("Conference", name),
                ("Admin", "No"),
                ("MarkedUser", "No"),
                ("WaitMarked", "No"),
                ("EndMarked", "No"),
                ("EndMarkedAny", "No"),
                ("Waiting", "No"),
                ("Muted", "Yes" if member.name in room.muted else "No"),
                ("Talking", "No"),
                ("AnsweredTime", str(answered)),
                *channel_fields(member),
            ]
        )
    ctx.list_complete("ConfbridgeListComplete", len(room.members))


@action("ConfbridgeKick")
async def confbridge_kick(ctx: ActionContext) -> None:
    name = _conference(ctx, need_channel=False)
    if name is None:
        return
    channel = ctx.header("Channel")
    if not ctx.server.pbx.conferences.kick(name, channel):
        ctx.error("No Channel by that name found in Conference.")
        return
    ctx.ack("All participants kicked" if channel == "all" else "User kicked")


async def _mute(ctx: ActionContext, on: bool) -> None:
    name = _conference(ctx, need_channel=True)
    if name is None:
        return
    if not ctx.server.pbx.conferences.mute(name, ctx.header("Channel"), on):
        ctx.error("No Channel by that name found in Conference.")
        return
    ctx.ack("User muted" if on else "User unmuted")


@action("ConfbridgeMute")
async def confbridge_mute(ctx: ActionContext) -> None:
    await _mute(ctx, True)


@action("ConfbridgeUnmute")
async def confbridge_unmute(ctx: ActionContext) -> None:
    await _mute(ctx, False)


@action("ListCommands")
async def list_commands(ctx: ActionContext) -> None:
    ctx.ack_with([(name, f"{name}.  (Priv: <none>)") for name in sorted(ACTION_NAMES)])


__all__ = ["ACTIONS", "ChannelState", "dispatch"]
