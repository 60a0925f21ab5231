"""Screen-pop: tell an operator's workstation the moment a call rings for them.

Two sources, so the pop comes as early as the platform knows:
- the ACD's operator states (`AcdService.states.subscribe`): a transition into RINGING carries
  the queued caller (AgentCalled) — this is "it rings for you";
- the call records (`CallEvents.subscribe`): a record whose operator interface becomes the
  operator's (AgentConnect; also calls the ACD did not follow).
A call pops once per subscriber (keyed by linkedid, else the caller's uniqueid).

Observers run inside the event handlers and must not block: the hub only drops a `Ring` into
each matching subscriber's bounded queue; the WebSocket side does the lookups and sends.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from callcenter.acd.operator_states import StateChange
from callcenter.calls.records import normalise_interface
from callcenter.domain.agents import OperatorState
from callcenter.domain.calls import CallRecord
from callcenter.workstation.call_control import operator_interfaces

log = logging.getLogger(__name__)

QUEUE_LIMIT = 50
SEEN_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Ring:
    operator_id: int
    key: str  # linkedid, or the caller's uniqueid when the linkedid is unknown
    linkedid: str | None
    caller_number: str | None
    queue: str | None
    ivr_path: tuple[str, ...]
    customer_id: int | None
    source: str  # "acd" or "calls"


@dataclass(eq=False)
class Subscription:
    operator_id: int
    interfaces: frozenset[str]  # normalised names its calls may carry
    queue: asyncio.Queue[Ring] = field(
        default_factory=lambda: asyncio.Queue[Ring](maxsize=QUEUE_LIMIT)
    )
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def offer(self, ring: Ring) -> None:
        if ring.key in self.seen:
            return
        self.seen[ring.key] = None
        while len(self.seen) > SEEN_LIMIT:
            self.seen.popitem(last=False)
        try:
            self.queue.put_nowait(ring)
        except asyncio.QueueFull:
            log.warning("screen-pop queue of operator %s is full; ring dropped", self.operator_id)


CallLookup = Callable[[str], CallRecord | None]


class ScreenPopHub:
    def __init__(self, call_lookup: CallLookup | None = None) -> None:
        self._subs: list[Subscription] = []
        self._call_lookup = call_lookup

    def subscribe(
        self, operator_id: int, interface: str | None, extension: str | None = None
    ) -> Subscription:
        sub = Subscription(operator_id, operator_interfaces(interface, extension))
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._subs)

    # ------------------------------------------------------------------ sources

    def on_state_change(self, change: StateChange) -> None:
        """ACD operator-state observer: a transition into RINGING pops."""
        ring = ring_of_state_change(change, self._call_lookup)
        if ring is not None:
            self.deliver(ring, None)

    def on_call_change(self, record: CallRecord, ended_now: bool) -> None:
        """CallEvents observer: a live call now given to an operator's interface pops."""
        found = ring_of_call(record, ended_now)
        if found is not None:
            self.deliver(*found)

    def deliver(self, ring: Ring, interface: str | None) -> None:
        """Offer a ring to the subscriptions it is for: the operator `ring.operator_id`, or
        (when `interface` is given) every operator whose calls may carry that interface.
        A ring may come from this process or from a telephony node (through the database)."""
        for sub in self._subs:
            if interface is None:
                if sub.operator_id == ring.operator_id:
                    sub.offer(ring)
            elif interface in sub.interfaces:
                sub.offer(replace(ring, operator_id=sub.operator_id))


def ring_of_state_change(change: StateChange, call_lookup: CallLookup | None) -> Ring | None:
    """The ring an operator-state change means (a transition into RINGING), if any."""
    after = change.transition.after
    if after.state is not OperatorState.RINGING or after.call is None:
        return None
    if change.transition.before.state is OperatorState.RINGING and (
        change.transition.before.call == after.call
    ):
        return None
    call = after.call
    record = None
    if call_lookup is not None and call.linkedid:
        record = call_lookup(call.linkedid)
    return Ring(
        operator_id=change.operator.id,
        key=call.linkedid or call.caller_uniqueid,
        linkedid=call.linkedid,
        caller_number=record.caller_number or None if record is not None else None,
        queue=call.queue,
        ivr_path=record.ivr_path if record is not None else (),
        customer_id=record.customer_id if record is not None else None,
        source="acd",
    )


def ring_of_call(record: CallRecord, ended_now: bool) -> tuple[Ring, str] | None:
    """(the ring, the normalised operator interface it is for) when a live call has been
    given to an operator; operator_id 0 stands for "whoever has that interface"."""
    if ended_now or record.ended_at is not None or record.operator_interface is None:
        return None
    interface = normalise_interface(record.operator_interface)
    ring = Ring(
        operator_id=0,
        key=record.linkedid,
        linkedid=record.linkedid,
        caller_number=record.caller_number or None,
        queue=record.queue_name,
        ivr_path=record.ivr_path,
        customer_id=record.customer_id,
        source="calls",
    )
    return ring, interface
