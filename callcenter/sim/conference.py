"""ConfBridge: conference rooms (operator conferences of 3+ parties), as in transcript s8.

A room is a softmix bridge created by ConfBridge and named after the conference. Asterisk's
announcer channel (`CBAnn/900-00000010;2`) is a member of the bridge without events of its
own: it counts in BridgeNumChannels and appears in BRIDGEPEER. While it tells the first
participant that they are alone, the next participants wait to enter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from callcenter.sim import events as ev
from callcenter.sim.bridges import Bridge
from callcenter.sim.channels import PEER, Channel, ChannelState
from callcenter.sim.core import BridgeControl, ChannelControl, Runtime
from callcenter.sim.outcomes import CONTINUE, STOP, Outcome


class ConferenceCore(Runtime, ChannelControl, BridgeControl, Protocol):
    """What conference rooms need: channels and bridges."""


BRIDGE_SETUP = 0.02  # ConfBridge creates the bridge ~20 ms after answering (s8)
ONLY_PERSON = 3.162  # "you are currently the only person in this conference" (s8)
LAST_LEAVE = 0.784  # the last participant lingers while the bridge is torn down (s8)


@dataclass(eq=False)
class Room:
    name: str
    bridge: Bridge
    announcer: str
    members: list[Channel] = field(default_factory=list)  # joined or joining
    inside: list[Channel] = field(default_factory=list)  # in the bridge
    muted: set[str] = field(default_factory=set)
    kicked: set[str] = field(default_factory=set)
    joined_at: dict[str, float] = field(default_factory=dict)
    announcing_until: float = 0.0


class Conferences:
    def __init__(self, pbx: ConferenceCore) -> None:
        self.pbx = pbx
        self.rooms: dict[str, Room] = {}

    def reset(self) -> None:
        self.rooms.clear()

    def _event(
        self, event: str, room: Room, chan: Channel | None, tail: ev.Pairs, count: int
    ) -> None:
        self.pbx.emit(ev.confbridge_event(event, room.name, room.bridge, chan, tail, count))

    def _peers(self, room: Room, chan: Channel) -> str:
        return ",".join([room.announcer] + [m.name for m in room.inside if m is not chan])

    def _count(self, room: Room) -> int:
        return len(room.inside) + room.bridge.phantoms

    async def _room(self, name: str) -> Room:
        room = self.rooms.get(name)
        if room is not None:
            return room
        pbx = self.pbx
        announcer = f"CBAnn/{name}-{pbx.ids.local_suffix()};2"
        bridge = pbx.create_bridge(
            type="base", technology="softmix", creator="ConfBridge", name=name
        )
        room = Room(name, bridge, announcer)
        self.rooms[name] = room
        bridge.phantoms = 1
        self._event("ConfbridgeStart", room, None, [], self._count(room))
        return room

    async def join(self, chan: Channel, name: str) -> Outcome:
        pbx = self.pbx
        if chan.state != ChannelState.UP:
            pbx.answer(chan)
        room = self.rooms.get(name)
        if room is None:
            await chan.wait(pbx.clock, BRIDGE_SETUP)
            if chan.soft_hangup:
                return STOP
            room = await self._room(name)
        room.members.append(chan)
        room.joined_at[chan.uniqueid] = pbx.clock.now()
        # wait while the announcer talks to the participant already inside
        wait = room.announcing_until - pbx.clock.now()
        if wait > 0:
            await chan.wait(pbx.clock, wait)
        if chan.soft_hangup or chan.pending_goto is not None:
            room.members.remove(chan)
            return STOP if chan.soft_hangup else CONTINUE
        room.inside.append(chan)
        pbx.enter_bridge(room.bridge, chan)
        for member in room.inside:
            pbx.set_var(member, "BRIDGEPEER", self._peers(room, member))
        muted = "Yes" if chan.name in room.muted else "No"
        self._event(
            "ConfbridgeJoin", room, chan, [("Admin", "No"), ("Muted", muted)], self._count(room)
        )
        if len(room.inside) == 1:
            room.announcing_until = pbx.clock.now() + ONLY_PERSON
        while not chan.soft_hangup and chan.name not in room.kicked and chan.pending_goto is None:
            await chan.wait(pbx.clock, None, frozenset({PEER}))
        return await self._leave(room, chan)

    async def _leave(self, room: Room, chan: Channel) -> Outcome:
        pbx = self.pbx
        result = "KICKED" if chan.name in room.kicked else "HANGUP"
        room.kicked.discard(chan.name)
        before = self._count(room)
        last = len(room.inside) == 1
        pbx.set_var(chan, "BRIDGEPEER", "")
        room.members.remove(chan)
        room.inside.remove(chan)
        if last:
            self._event("ConfbridgeLeave", room, chan, [("Admin", "No")], before)
            pbx.leave_bridge(chan)
            pbx.set_var(chan, "CONFBRIDGE_RESULT", result)
            self._event("ConfbridgeEnd", room, None, [], self._count(room))
            del self.rooms[room.name]
            room.bridge.phantoms = 0  # the announcer leaves with the last participant
            await pbx.clock.sleep(LAST_LEAVE)
            pbx.call_watchers.append(_destroy_after(pbx, chan, room.bridge))
        else:
            pbx.leave_bridge(chan)
            for member in room.inside:
                pbx.set_var(member, "BRIDGEPEER", self._peers(room, member))
            pbx.set_var(chan, "CONFBRIDGE_RESULT", result)
            self._event("ConfbridgeLeave", room, chan, [("Admin", "No")], before)
        return STOP if chan.soft_hangup else CONTINUE

    def kick(self, name: str, channel: str) -> bool:
        room = self.rooms.get(name)
        if room is None:
            return False
        everyone = channel.lower() == "all"
        targets = [m for m in room.members if everyone or m.name == channel]
        for member in targets:
            room.kicked.add(member.name)
            member.signal(PEER)
        return bool(targets)

    def mute(self, name: str, channel: str, on: bool) -> bool:
        room = self.rooms.get(name)
        if room is None:
            return False
        targets = [m for m in room.members if channel.lower() == "all" or m.name == channel]
        for member in targets:
            if on:
                room.muted.add(member.name)
            else:
                room.muted.discard(member.name)
        return bool(targets)


def _destroy_after(pbx: ConferenceCore, chan: Channel, bridge: Bridge) -> Callable[[Channel], None]:
    """BridgeDestroy once the last participant's Hangup has been sent."""

    def watch(gone: Channel) -> None:
        if gone is chan:
            pbx.call_watchers.remove(watch)
            pbx.destroy_bridge(bridge)

    return watch
