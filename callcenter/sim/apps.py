"""Dialplan applications the simulated PBX runs (the ones the lab and platform dialplans use).

Each application is `async (pbx, channel, data) -> outcome`; data is already substituted.
CONTINUE goes to the next priority, STOP ends the dialplan (the channel hangs up), Goto jumps.
Timings follow what the transcripts show (SendDTMF: 100 ms before each digit, DTMFEnd 100 ms
after DTMFBegin, 250 ms digit; Answer on a freshly answered channel waits up to 500 ms for
the first audio from the other side).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from callcenter.sim import events as ev
from callcenter.sim.agi_client import run_agi
from callcenter.sim.agi_commands import AgiCore
from callcenter.sim.channels import (
    BUSY,
    CAUSE_BUSY,
    CAUSE_CONGESTION,
    CONGESTION,
    DIGIT,
    GOTO,
    HANGUP,
    MEDIA,
    RINGING,
    SCRIPT,
    Channel,
    ChannelState,
)
from callcenter.sim.conference import Conferences
from callcenter.sim.dialplan import AmdVerdict, is_true
from callcenter.sim.outcomes import CONTINUE, STOP, Goto, Outcome
from callcenter.sim.queue_app import QueueCore, queue_app
from callcenter.sim.text import split_args

log = logging.getLogger(__name__)


class AppCore(AgiCore, QueueCore, Protocol):
    """What the dialplan applications together need from the PBX."""

    @property
    def conferences(self) -> Conferences: ...


App = Callable[[AppCore, Channel, str], Awaitable[Outcome]]

DEFAULT_AMD = AmdVerdict("HUMAN", "HUMAN-800-800", 3.1)
ANSWER_MEDIA_WAIT = 0.5
DTMF_BETWEEN = 0.1
DTMF_RECEIVED_MS = 100
DTMF_DURATION = 0.25
DTMF_TAIL = DTMF_DURATION + 0.001
DTMF_DIGIT_SECONDS = DTMF_BETWEEN + DTMF_RECEIVED_MS / 1000 + DTMF_TAIL  # 0.451 s, as in s1


def _stopped(reason: str) -> Outcome | None:
    if reason == HANGUP:
        return STOP
    if reason == GOTO:
        return CONTINUE  # the runner applies the pending goto
    return None


def resolve_goto(pbx: AppCore, chan: Channel, target: str) -> Goto | None:
    """`label`, `prio`, `exten,prio` or `context,exten,prio` -> a Goto (None if not found)."""
    parts = [p.strip() for p in target.split(",")]
    context, exten = chan.context, chan.exten
    if len(parts) == 3:
        context, exten, label = parts
    elif len(parts) == 2:
        exten, label = parts
    else:
        label = parts[0]
    ext = pbx.dialplan.find(context, exten)
    if ext is None:
        return None
    priority = ext.priority_of(label)
    return None if priority is None else Goto((context, exten, priority))


async def noop(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    return CONTINUE


async def answer(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    if chan.state == ChannelState.UP:
        return CONTINUE
    pbx.answer(chan)
    reason = await chan.wait(pbx.clock, ANSWER_MEDIA_WAIT, frozenset({MEDIA}))
    return STOP if reason == HANGUP else CONTINUE


async def wait(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    try:
        seconds = float(data or 0)
    except ValueError:
        seconds = 0.0
    reason = await chan.wait(pbx.clock, seconds, frozenset({SCRIPT}))
    if reason == SCRIPT:
        return script_hangup_target(pbx, chan)
    return _stopped(reason) or CONTINUE


def script_hangup_target(pbx: AppCore, chan: Channel) -> Outcome:
    """A simulated caller's script decided to hang up: jump to its `hangup` priority."""
    target = resolve_goto(pbx, chan, "hangup")
    return target if target is not None else STOP


async def send_dtmf(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    args = split_args(data)
    digits = args[0] if args else ""
    target = chan.local_peer
    if target is None and chan.bridge is not None:
        others = [c for c in chan.bridge.channels if c is not chan]
        target = others[0] if others else None
    for digit in digits:
        reason = await chan.wait(pbx.clock, DTMF_BETWEEN)
        if (stopped := _stopped(reason)) is not None:
            return stopped
        if target is not None and not target.hungup:
            pbx.emit(ev.dtmf_begin(target, digit))
        reason = await chan.wait(pbx.clock, DTMF_RECEIVED_MS / 1000)
        if (stopped := _stopped(reason)) is not None:
            return stopped
        if target is not None and not target.hungup:
            pbx.emit(ev.dtmf_end(target, digit, DTMF_RECEIVED_MS))
            target.push_digit(digit)
        reason = await chan.wait(pbx.clock, DTMF_TAIL)
        if (stopped := _stopped(reason)) is not None:
            return stopped
    return CONTINUE


async def hangup(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    if data.strip().isdigit():
        chan.hangup_cause = int(data.strip())
    return STOP


async def set_variable(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    name, sep, value = data.partition("=")
    if sep and name.strip():
        pbx.set_var(chan, name.strip(), value)
    return CONTINUE


async def mixmonitor(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    filename, _, options = data.partition(",")
    pbx.start_mixmonitor(chan, filename.strip(), options)
    return CONTINUE


async def stop_mixmonitor(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    pbx.stop_mixmonitor(chan)
    return CONTINUE


async def goto_if(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    condition, _, branches = data.partition("?")
    when_true, _, when_false = branches.partition(":")
    branch = when_true if is_true(condition) else when_false
    if not branch.strip():
        return CONTINUE
    target = resolve_goto(pbx, chan, branch)
    return target if target is not None else STOP


async def goto(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    target = resolve_goto(pbx, chan, data)
    return target if target is not None else STOP


async def playback(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    files = [f for f in split_args(data)[0].split("&") if f] if data else []
    pbx.start_media(chan)
    for name in files:
        reason = await chan.wait(pbx.clock, pbx.sounds.seconds(name))
        if reason in (HANGUP, GOTO):
            pbx.set_var(chan, "PLAYBACKSTATUS", "SUCCESS")
            return _stopped(reason) or CONTINUE
    pbx.set_var(chan, "PLAYBACKSTATUS", "SUCCESS")
    return CONTINUE


async def _indicate_and_wait(
    pbx: AppCore, chan: Channel, data: str, indication: str, cause: int
) -> Outcome:
    chan.hangup_cause = cause
    pbx.set_state(chan, ChannelState.BUSY)
    pbx.indicate(chan, indication)
    try:
        seconds: float | None = float(data) if data.strip() else None
    except ValueError:
        seconds = None
    await chan.wait(pbx.clock, seconds)
    return STOP


async def busy(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    return await _indicate_and_wait(pbx, chan, data, BUSY, CAUSE_BUSY)


async def congestion(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    return await _indicate_and_wait(pbx, chan, data, CONGESTION, CAUSE_CONGESTION)


async def ringing(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    pbx.indicate(chan, RINGING)
    return CONTINUE


def amd_verdict(pbx: AppCore, chan: Channel) -> AmdVerdict:
    """What the other side sounds like: the called party's extension (or endpoint) says."""
    peer = chan.local_peer
    if peer is not None and peer.extension is not None and peer.extension.amd is not None:
        return peer.extension.amd
    verdict = getattr(chan.script, "amd", None)
    return verdict if isinstance(verdict, AmdVerdict) else DEFAULT_AMD


async def amd(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    verdict = amd_verdict(pbx, chan)
    reason = await chan.wait(pbx.clock, verdict.seconds)
    if reason == HANGUP:
        pbx.set_var(chan, "AMDSTATUS", "HANGUP")
        pbx.set_var(chan, "AMDCAUSE", "")
        return STOP
    pbx.set_var(chan, "AMDSTATUS", verdict.status)
    pbx.set_var(chan, "AMDCAUSE", verdict.cause)
    return CONTINUE


async def music_on_hold(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    args = split_args(data)
    moh_class = args[0] if args and args[0] else "default"
    try:
        seconds: float | None = float(args[1]) if len(args) > 1 and args[1] else None
    except ValueError:
        seconds = None
    pbx.moh_start(chan, moh_class)
    reason = await chan.wait(pbx.clock, seconds)
    pbx.moh_stop(chan)
    return _stopped(reason) or CONTINUE


CHANSPY_SCAN_SECONDS = 1.0


async def chanspy(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    """ChanSpy(prefix,options): spy on a live channel whose name starts with `prefix`
    (ChanSpyStart), until the spyer hangs up or, with the `E` option, the spyee does
    (ChanSpyStop). With no such channel it keeps scanning, as Asterisk does."""
    args = split_args(data)
    prefix = args[0] if args else ""
    options = args[1] if len(args) > 1 else ""
    if chan.state != ChannelState.UP:
        pbx.answer(chan)
    target: Channel | None = None
    while target is None:
        target = next(
            (
                c
                for c in pbx.channels.values()
                if c is not chan and not c.hungup and c.name.startswith(prefix)
            ),
            None,
        )
        if target is None:
            reason = await chan.wait(pbx.clock, CHANSPY_SCAN_SECONDS)
            if reason == HANGUP:
                return STOP
    pbx.emit(ev.chanspy("ChanSpyStart", chan, target))
    reason = ""
    while reason != HANGUP and not (target.hungup and "E" in options):
        reason = await chan.wait(pbx.clock, CHANSPY_SCAN_SECONDS)
    pbx.emit(ev.chanspy("ChanSpyStop", chan, target))
    return STOP if reason == HANGUP else CONTINUE


async def voicemail(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    """Greeting, then the message until '#' or hangup (at most 5 minutes)."""
    pbx.start_media(chan)
    reason = await chan.wait(pbx.clock, pbx.sounds.seconds("vm-intro"))
    if reason == HANGUP:
        return STOP
    deadline = pbx.clock.now() + 300
    while True:
        reason = await chan.wait(pbx.clock, deadline - pbx.clock.now(), frozenset({DIGIT}))
        if reason == DIGIT:
            if chan.dtmf.popleft() == "#":
                break
            continue
        if reason in (HANGUP, GOTO):
            return _stopped(reason) or CONTINUE
        break
    pbx.set_var(chan, "VMSTATUS", "SUCCESS")
    return CONTINUE


async def agi(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    return await run_agi(pbx, chan, data)


async def queue(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    return await queue_app(pbx, chan, data)


async def confbridge(pbx: AppCore, chan: Channel, data: str) -> Outcome:
    return await pbx.conferences.join(chan, split_args(data)[0] if data else "")


APPS: dict[str, App] = {
    "noop": noop,
    "answer": answer,
    "wait": wait,
    "senddtmf": send_dtmf,
    "hangup": hangup,
    "set": set_variable,
    "mixmonitor": mixmonitor,
    "stopmixmonitor": stop_mixmonitor,
    "gotoif": goto_if,
    "goto": goto,
    "playback": playback,
    "busy": busy,
    "congestion": congestion,
    "ringing": ringing,
    "amd": amd,
    "musiconhold": music_on_hold,
    "voicemail": voicemail,
    "chanspy": chanspy,
    "agi": agi,
    "queue": queue,
    "confbridge": confbridge,
}


async def run_app(pbx: AppCore, chan: Channel, name: str, data: str) -> Outcome:
    app = APPS.get(name.lower())
    if app is None:
        # Asterisk: "No application 'X' for extension" ends the channel's dialplan
        log.warning("simulator has no application %s (channel %s)", name, chan.name)
        return STOP
    return await app(pbx, chan, data)
