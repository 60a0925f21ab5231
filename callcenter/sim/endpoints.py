"""Phones reached over a technology channel (PJSIP/101, PJSIP/79161234567@trunk).

Unlike Local channels, which run dialplan, such a channel is driven by a `Phone` behaviour:
it rings, answers after a while (or never, or is busy), talks, and hangs up (HangupRequest
with cause 16, as a SIP BYE produces).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from callcenter.sim import events as ev
from callcenter.sim.channels import (
    BUSY,
    CAUSE_NORMAL,
    CONGESTION,
    HANGUP,
    RINGING,
    Channel,
    ChannelState,
)
from callcenter.sim.core import (
    REASON_ANSWERED,
    REASON_BUSY,
    REASON_CONGESTION,
    REASON_HANGUP,
    REASON_NO_ANSWER,
    ChannelControl,
    Dialling,
    OriginateRequest,
    OriginateResult,
    Runtime,
)
from callcenter.sim.dialplan import AmdVerdict


@dataclass
class Phone:
    """How a technology endpoint behaves when called."""

    answer_after: float | None = 2.0  # None: rings until the caller gives up
    busy: bool = False
    congestion: bool = False
    talk_seconds: Callable[[], float] = field(default=lambda: 60.0)
    amd: AmdVerdict | None = None


class Endpoints:
    """Phones by device name (`PJSIP/101`); `resolver` answers for unknown ones."""

    def __init__(self) -> None:
        self.phones: dict[str, Phone] = {}
        self.resolver: Callable[[str, str], Phone | None] | None = None

    def phone_for(self, tech: str, resource: str) -> Phone:
        device = f"{tech}/{resource.split('@')[0]}"
        phone = self.phones.get(device)
        if phone is None and self.resolver is not None:
            phone = self.resolver(tech, resource)
        return phone or Phone()


class PhoneCore(Runtime, ChannelControl, Dialling, Protocol):
    """What a phone needs from the PBX: its channel, and dialling for Originate."""

    @property
    def endpoints(self) -> Endpoints: ...


def _new_tech_channel(
    pbx: PhoneCore,
    tech: str,
    resource: str,
    linkedid: str | None,
    uniqueid: str | None = None,
) -> Channel:
    endpoint = resource.split("@")[0]
    chan = pbx.new_channel(
        f"{tech}/{endpoint}-{pbx.ids.tech_suffix()}",
        tech=tech,
        device=f"{tech}/{endpoint}",
        context="default",
        exten="s",
        state=ChannelState.DOWN,
        linkedid=linkedid,
        uniqueid=uniqueid,
    )
    chan.script = pbx.endpoints.phone_for(tech, resource)
    return chan


def dial_endpoint(pbx: PhoneCore, interface: str, *, caller: Channel) -> Channel:
    tech, _, resource = interface.partition("/")
    chan = _new_tech_channel(pbx, tech, resource, caller.linkedid)
    chan.caller = caller.caller.copy()
    return chan


def start_endpoint(pbx: PhoneCore, chan: Channel) -> None:
    pbx.spawn(_phone(pbx, chan), name=f"phone {chan.name}")


async def _phone(pbx: PhoneCore, chan: Channel) -> None:
    phone = chan.script if isinstance(chan.script, Phone) else Phone()
    reason = await chan.wait(pbx.clock, 0.05)
    if reason == HANGUP or chan.hungup:
        return
    if phone.busy or phone.congestion:
        chan.hangup_cause = 17 if phone.busy else 34
        chan.signal(BUSY if phone.busy else CONGESTION)
        return
    pbx.set_state(chan, ChannelState.RINGING)
    chan.signal(RINGING)
    if phone.answer_after is None:
        return
    reason = await chan.wait(pbx.clock, phone.answer_after)
    if reason == HANGUP or chan.hungup:
        return
    pbx.answer(chan)
    reason = await chan.wait(pbx.clock, phone.talk_seconds())
    if reason == HANGUP or chan.hungup:
        return
    pbx.request_hangup(chan, CAUSE_NORMAL)


async def originate_tech(
    pbx: PhoneCore, request: OriginateRequest, tech: str, resource: str
) -> OriginateResult:
    # Originate's ChannelId becomes the channel's Uniqueid (and so the call's Linkedid)
    chan = _new_tech_channel(pbx, tech, resource, None, request.channel_id)
    for name, value in reversed(request.variables):
        pbx.set_var(chan, name, value)
    if request.caller.num or request.caller.name:
        pbx.set_caller(chan, request.caller)
        pbx.set_connected(chan, request.caller)
    pbx.emit(ev.dial_event("DialBegin", None, chan, [("DialString", resource)]))
    start_endpoint(pbx, chan)
    status = await pbx.wait_dial(chan, request.timeout)
    if status == "ANSWER":
        pbx.emit(ev.dial_event("DialEnd", None, chan, [("DialStatus", "ANSWER")]))
        pbx.report_originate(request, chan, REASON_ANSWERED)
        if request.application:
            pbx.spawn(pbx.run_originated_app(chan, request), name=f"app {chan.name}")
        else:
            pbx.start_pbx(
                chan, request.context or "default", request.exten or "s", request.priority
            )
        return OriginateResult(REASON_ANSWERED, chan)
    reason = {"BUSY": REASON_BUSY, "CONGESTION": REASON_CONGESTION, "NOANSWER": REASON_NO_ANSWER}
    code = reason.get(status, REASON_HANGUP)
    pbx.emit(ev.dial_event("DialEnd", None, chan, [("DialStatus", status)]))
    if status == "NOANSWER":
        chan.hangup_cause = 19
    pbx.report_originate(request, None, code)
    pbx.hangup(chan)
    return OriginateResult(code, None)
