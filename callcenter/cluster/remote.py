"""The ACD and the PBX as an API node sees them: the live pictures telephony nodes publish,
merged, and requests that a telephony node carries out.

`RemoteAcd` answers the HTTP routes like the in-process `AcdService` does (the parts the
routes use): `snapshot`, `feed`, `states.status`, `login`/`logout`/`pause`/`ready`,
`emergency`/`set_emergency`. `RemotePbxClient` has the call-control AMI methods; each one is
a request done by a telephony node on its Asterisk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from callcenter.acd.live_view import ChangeFeed
from callcenter.acd.operator_states import PbxUnavailable, StateChange
from callcenter.calls.records import normalise_interface
from callcenter.cluster.codec import (
    live_call_from_json,
    operator_view_status,
    ring_from_payload,
    status_from_json,
)
from callcenter.cluster.stores import (
    EMERGENCY_CHANNEL,
    LIVE_CHANNEL,
    REPLY_CHANNEL,
    REQUEST_CHANNEL,
    RING_CHANNEL,
    SqlEmergencyStore,
)
from callcenter.common.access import Conflict, InvalidInput, NotFound, Sessions
from callcenter.domain import acd as rules
from callcenter.domain.acd import EmergencyMode, EmergencySource
from callcenter.domain.agents import AgentStatus
from callcenter.domain.calls import CallRecord
from callcenter.pbx.ami_errors import (
    AmiActionError,
    AmiError,
    AmiNotConnectedError,
    AmiTimeoutError,
)
from callcenter.pbx.results import ConfbridgeParticipant
from callcenter.ports.live import Listen
from callcenter.workstation.call_control import operator_interfaces
from callcenter.workstation.screen_pop import Ring

log = logging.getLogger(__name__)

RingListener = Callable[[Ring, str | None], None]

EMERGENCY_AUDIT_ACTION = "acd.emergency"
NODE_STALE_AFTER = timedelta(seconds=15)  # a node silent this long is left out of the view


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RequestFailed(Exception):
    pass


class NodeRequester:
    """Sends requests to telephony nodes and waits for their answers."""

    def __init__(self, sessions: Sessions, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._sessions = sessions
        self._clock = clock
        self._waiting: dict[int, asyncio.Event] = {}

    def on_reply(self, payload: str) -> None:
        with contextlib.suppress(ValueError):
            event = self._waiting.get(int(payload))
            if event is not None:
                event.set()

    async def call(
        self, kind: str, payload: dict[str, Any], *, node: str | None = None, wait: float = 10.0
    ) -> dict[str, Any]:
        async with self._sessions.begin() as tx:
            request_id = await tx.cluster.submit_request(
                node=node, kind=kind, payload=payload, now=self._clock()
            )
            await tx.cluster.notify(REQUEST_CHANNEL, node or "")
        done = asyncio.Event()
        self._waiting[request_id] = done
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        try:
            while True:
                # the reply's NOTIFY wakes us; the table is read anyway every second
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), timeout=1.0)
                done.clear()
                async with self._sessions() as tx:
                    row = await tx.cluster.get_request(request_id)
                    if row is not None and row.done_at is not None:
                        if row.error_kind is not None:
                            raise _error(kind, row.error_kind, row.error or "")
                        return dict(row.result or {})
                if loop.time() >= deadline:
                    raise RequestFailed(f"no telephony node answered {kind} in {wait:g} s")
        finally:
            self._waiting.pop(request_id, None)


def _error(kind: str, error_kind: str, message: str) -> Exception:
    action = kind.removeprefix("pbx.").removeprefix("acd.")
    match error_kind:
        case "pbx_unavailable":
            return PbxUnavailable(message)
        case "conflict":
            return Conflict(message)
        case "invalid_input":
            return InvalidInput(message)
        case "not_found":
            return NotFound(message)
        case "ami_action":
            return AmiActionError(action, message)
        case "ami_not_connected":
            return AmiNotConnectedError(message)
        case "ami_timeout":
            return AmiTimeoutError(action, 0)
        case "ami_error":
            return AmiError(message)
    return RequestFailed(message)


class ChannelOwners(Protocol):
    """Which telephony node has a channel or an operator's phone (RemoteAcd knows)."""

    nodes: dict[str, dict[str, Any]]

    def node_of_channel(self, channel: str) -> str | None: ...

    def node_of_device(self, device: str) -> str | None: ...


class RemotePbxClient:
    """Call control's AMI actions, carried out by the telephony node whose Asterisk has the
    channel: a channel lives on one Asterisk, and another node's AMI would answer "no such
    channel". A channel no node claims (not yet published) goes to whichever node is free."""

    def __init__(
        self, requests: NodeRequester, owners: ChannelOwners, *, timeout: float = 15.0
    ) -> None:
        self._requests = requests
        self._owners = owners
        self._timeout = timeout

    async def _call(self, node: str | None, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            reply = await self._requests.call(
                f"pbx.{method}",
                {"args": list(args), "kwargs": {k: v for k, v in kwargs.items()}},
                node=node,
                wait=self._timeout,
            )
        except RequestFailed as exc:
            raise AmiNotConnectedError(str(exc)) from None
        return reply.get("value")

    def _of(self, channel: str) -> str | None:
        return self._owners.node_of_channel(channel)

    async def originate(self, channel: str, **kwargs: Any) -> object:
        variables = kwargs.get("variables")
        if variables is not None:
            kwargs["variables"] = {str(k): str(v) for k, v in dict(variables).items()}
        # the operator's phone rings first: the node it is registered (signed in) with
        node = self._owners.node_of_device(channel)
        return await self._call(node, "originate", channel, **kwargs)

    async def redirect(self, channel: str, context: str, exten: str, priority: int = 1) -> object:
        return await self._call(self._of(channel), "redirect", channel, context, exten, priority)

    async def blind_transfer(self, channel: str, context: str, exten: str) -> object:
        return await self._call(self._of(channel), "blind_transfer", channel, context, exten)

    async def atxfer(self, channel: str, exten: str, context: str | None = None) -> object:
        return await self._call(self._of(channel), "atxfer", channel, exten, context)

    async def hangup(self, channel: str, cause: int | None = None) -> object:
        return await self._call(self._of(channel), "hangup", channel, cause)

    async def confbridge_list(self, conference: str) -> tuple[ConfbridgeParticipant, ...]:
        """The room's participants on every node (a room is per Asterisk)."""
        nodes: list[str | None] = [*sorted(self._owners.nodes)] or [None]
        replies = await asyncio.gather(
            *(self._call(node, "confbridge_list", conference) for node in nodes),
            return_exceptions=True,
        )
        values = [r for r in replies if not isinstance(r, BaseException)]
        if not values:
            first = replies[0]
            assert isinstance(first, BaseException)
            raise first
        return tuple(ConfbridgeParticipant(**item) for value in values for item in value or [])

    async def confbridge_kick(self, conference: str, channel: str) -> object:
        return await self._call(self._of(channel), "confbridge_kick", conference, channel)

    async def confbridge_mute(self, conference: str, channel: str) -> object:
        return await self._call(self._of(channel), "confbridge_mute", conference, channel)

    async def confbridge_unmute(self, conference: str, channel: str) -> object:
        return await self._call(self._of(channel), "confbridge_unmute", conference, channel)


class RemoteStates:
    """`acd.states` for the routes: an operator's state from the merged live picture."""

    def __init__(self, owner: RemoteAcd) -> None:
        self._owner = owner

    def status(self, operator_id: int) -> AgentStatus:
        view = self._owner.operator_view(operator_id)
        return operator_view_status(view) if view is not None else AgentStatus.logged_out()

    def subscribe(self, _listener: Callable[[StateChange], None]) -> None:
        """State changes are not streamed between nodes yet (screen-pop needs the node)."""


class RemoteAcd:
    def __init__(
        self,
        sessions: Sessions,
        *,
        listen: Listen,
        clock: Callable[[], datetime] = _utcnow,
        request_timeout: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.feed = ChangeFeed()
        self.states = RemoteStates(self)
        self.requests = NodeRequester(sessions, clock=clock)
        self.emergency = EmergencyMode()
        self._emergency_store = SqlEmergencyStore(sessions, clock=clock)
        self._timeout = request_timeout
        self.nodes: dict[str, dict[str, Any]] = {}  # node name -> its published picture
        self._heartbeats: dict[str, datetime] = {}
        self._listener = listen(
            {
                LIVE_CHANNEL: lambda node: self._spawn(self.refresh(node or None)),
                EMERGENCY_CHANNEL: lambda _p: self._spawn(self.reload_emergency()),
                REPLY_CHANNEL: self.requests.on_reply,
                RING_CHANNEL: self._on_ring,
            },
            on_connect=self._on_connect,
        )
        self._background: set[asyncio.Task[Any]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._ring_listeners: list[RingListener] = []

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.refresh(None)
        await self.reload_emergency()
        await self._listener.start()
        self._poller = asyncio.create_task(self._poll(), name="live-view-poll")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await self._listener.stop()

    def _spawn(self, work: Any) -> None:
        async def run() -> None:
            try:
                await work
            except Exception as exc:
                log.warning("live view: %s", exc)

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_connect(self) -> None:
        await self.refresh(None)
        await self.reload_emergency()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(5.0)
            try:
                await self.refresh(None)
            except Exception as exc:
                log.warning("live view: %s", exc)

    async def refresh(self, _node: str | None) -> None:
        """Re-read the live pictures of every node seen lately."""
        now = self._clock()
        async with self._sessions() as tx:
            rows = await tx.cluster.live_nodes(role="telephony", seen_since=now - NODE_STALE_AFTER)
        nodes = {r.name: dict(r.snapshot or {}) for r in rows}
        self._heartbeats = {r.name: r.heartbeat_at for r in rows}
        if nodes != self.nodes:
            self.nodes = nodes
            self.feed.bump()

    async def reload_emergency(self) -> None:
        stored = await self._emergency_store.load()
        if stored is not None and stored != self.emergency:
            self.emergency = stored
            self.feed.bump()

    # ------------------------------------------------------------------ live calls, rings

    def live_calls(self) -> list[CallRecord]:
        """The calls in progress on every telephony node, as their nodes last published."""
        found: list[CallRecord] = []
        for data in self.nodes.values():
            for item in data.get("calls") or []:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    found.append(live_call_from_json(item))
        return found

    def call_lookup(self, linkedid: str) -> CallRecord | None:
        for data in self.nodes.values():
            for item in data.get("calls") or []:
                if item.get("linkedid") == linkedid:
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        return live_call_from_json(item)
        return None

    def subscribe_rings(self, listener: RingListener) -> None:
        """`listener(ring, interface)` for every screen-pop a telephony node relays."""
        self._ring_listeners.append(listener)

    def _on_ring(self, payload: str) -> None:
        found = ring_from_payload(payload)
        if found is None:
            log.warning("live view: a ring that cannot be read: %.200s", payload)
            return
        for listener in self._ring_listeners:
            try:
                listener(*found)
            except Exception:
                log.exception("live view: a screen-pop listener failed")

    # ------------------------------------------------------------------ who has what

    def node_of_channel(self, channel: str) -> str | None:
        """The telephony node whose Asterisk has that channel (name or uniqueid), as the
        nodes last published their live calls; None when no node claims it."""
        for name, data in self.nodes.items():
            if channel in (data.get("channels") or ()):
                return name
            if any(item.get("linkedid") == channel for item in data.get("calls") or ()):
                return name
        return None

    def node_of_device(self, device: str) -> str | None:
        """The telephony node an operator's phone (e.g. PJSIP/101) is signed in on."""
        wanted = normalise_interface(device)
        for name, data in self.nodes.items():
            for op in data.get("operators") or ():
                if op.get("state") == "logged_out":
                    continue
                if wanted in operator_interfaces(None, str(op.get("extension") or "")):
                    return name
        return None

    # ------------------------------------------------------------------ operators

    def operator_view(self, operator_id: int) -> dict[str, Any] | None:
        """The operator as the node they work on shows them (signed in somewhere wins)."""
        best: dict[str, Any] | None = None
        for data in self.nodes.values():
            for op in data.get("operators") or []:
                if op.get("operator_id") != operator_id:
                    continue
                if best is None or (best["state"] == "logged_out" and op["state"] != "logged_out"):
                    best = dict(op, node=data.get("node"))
        return best

    def node_of(self, operator_id: int) -> str | None:
        """The telephony node the operator is signed in on (None: not signed in)."""
        return self._node_of(operator_id)

    def _node_of(self, operator_id: int) -> str | None:
        view = self.operator_view(operator_id)
        if view is None or view["state"] == "logged_out":
            return None
        node = view.get("node")
        return str(node) if node else None

    async def _operator_request(self, action: str, operator_id: int, **extra: Any) -> AgentStatus:
        try:
            reply = await self.requests.call(
                f"acd.{action}",
                {"operator_id": operator_id, **extra},
                node=self._node_of(operator_id),
                wait=self._timeout,
            )
        except RequestFailed:
            raise PbxUnavailable("Телефонный узел не отвечает: повторите позже") from None
        await self.refresh(None)
        return status_from_json(reply["status"])

    async def login(self, operator_id: int) -> AgentStatus:
        return await self._operator_request("login", operator_id)

    async def logout(self, operator_id: int) -> AgentStatus:
        return await self._operator_request("logout", operator_id)

    async def pause(self, operator_id: int, reason: str) -> AgentStatus:
        return await self._operator_request("pause", operator_id, reason=reason)

    async def ready(self, operator_id: int) -> AgentStatus:
        return await self._operator_request("ready", operator_id)

    # ------------------------------------------------------------------ emergency

    async def set_emergency(
        self,
        active: bool,
        *,
        user_id: int | None,
        announcement: str | None = None,
        remote_addr: str | None = None,
    ) -> EmergencyMode:
        now = self._clock()
        mode = rules.switch_emergency(
            self.emergency,
            active=active,
            now=now,
            source=EmergencySource.SUPERVISOR,
            announcement=announcement,
            baseline_per_hour=None,
        )
        async with self._sessions.begin() as tx:
            await tx.audit.append(
                EMERGENCY_AUDIT_ACTION,
                at=now,
                user_id=user_id,
                object_type="acd",
                object_id="emergency",
                details={"active": active, "announcement": mode.announcement},
                remote_addr=remote_addr,
            )
        await self._emergency_store.save(mode)  # NOTIFY: every telephony node reloads it
        self.emergency = mode
        self.feed.bump()
        return mode

    # ------------------------------------------------------------------ the live view

    @property
    def pbx_connected(self) -> bool:
        return any(bool(d.get("pbx_connected")) for d in self.nodes.values())

    def snapshot(
        self, lines: frozenset[int] | None, *, with_intervals: bool = False
    ) -> dict[str, Any]:
        """Every node's picture merged, as `LiveViewOut` reads it (a dict)."""
        return merge_pictures(
            list(self.nodes.values()),
            lines=lines,
            now=self._clock(),
            version=self.feed.version,
            emergency=self.emergency,
            heartbeats=self._heartbeats,
            with_intervals=with_intervals,
        )


# ---------------------------------------------------------------------- merging pictures

_COUNTS = ("offered", "answered", "abandoned", "left", "answered_within_target")


def _merge_metrics(items: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {k: sum(int(m.get(k) or 0) for m in items) for k in _COUNTS}
    busy = sum(float(m.get("busy_seconds") or 0.0) for m in items)
    ready = sum(float(m.get("ready_seconds") or 0.0) for m in items)

    def weighted(key: str, weight: str) -> float | None:
        pairs = [
            (float(m[key]), float(m.get(weight) or 0)) for m in items if m.get(key) is not None
        ]
        total_weight = sum(w for _v, w in pairs)
        if not pairs or total_weight <= 0:
            return pairs[0][0] if pairs else None
        return sum(v * w for v, w in pairs) / total_weight

    offered = total["offered"]
    total.update(
        asa_seconds=weighted("asa_seconds", "answered"),
        service_level=total["answered_within_target"] / offered if offered else None,
        abandon_rate=total["abandoned"] / offered if offered else None,
        aht_seconds=weighted("aht_seconds", "answered"),
        occupancy=busy / (busy + ready) if busy + ready > 0 else None,
        busy_seconds=busy,
        ready_seconds=ready,
    )
    return total


def merge_pictures(
    pictures: list[dict[str, Any]],
    *,
    lines: frozenset[int] | None,
    now: datetime,
    version: int,
    emergency: EmergencyMode,
    heartbeats: dict[str, datetime] | None = None,
    with_intervals: bool = False,
) -> dict[str, Any]:
    visible = sorted(lines) if lines is not None else [1, 2, 3]
    queues: dict[str, dict[str, Any]] = {}
    operators: dict[int, dict[str, Any]] = {}
    metrics: dict[Any, list[dict[str, Any]]] = {}
    intervals: dict[Any, dict[str, Any]] = {}
    for picture in pictures:
        for q in picture.get("queues") or []:
            line = q.get("support_line")
            if lines is not None and (line is None or line not in lines):
                continue
            merged = queues.get(q["name"])
            if merged is None:
                queues[q["name"]] = dict(q, callers=list(q.get("callers") or []))
                continue
            merged["waiting"] += q.get("waiting", 0)
            merged["longest_wait_seconds"] = max(
                merged["longest_wait_seconds"], q.get("longest_wait_seconds", 0.0)
            )
            merged["callers"] = merged["callers"] + list(q.get("callers") or [])
            merged["callbacks"] = list(merged.get("callbacks") or []) + list(
                q.get("callbacks") or []
            )
            counts = dict(merged.get("operators") or {})
            for state, n in (q.get("operators") or {}).items():
                counts[state] = counts.get(state, 0) + n
            merged["operators"] = counts
            waits = [
                w
                for w in (merged.get("expected_wait_seconds"), q.get("expected_wait_seconds"))
                if w is not None
            ]
            merged["expected_wait_seconds"] = min(waits) if waits else None
            busy = [b for b in (merged.get("all_busy_seconds"), q.get("all_busy_seconds")) if b]
            merged["all_busy_seconds"] = min(busy) if len(busy) == 2 else None
        for op in picture.get("operators") or []:
            if lines is not None and op.get("support_line") not in lines:
                continue
            known = operators.get(op["operator_id"])
            if known is None or (known["state"] == "logged_out" and op["state"] != "logged_out"):
                operators[op["operator_id"]] = op
        for m in picture.get("metrics") or []:
            if lines is None or m.get("line") is None or m.get("line") in lines:
                if lines is not None and m.get("line") is None:
                    continue
                metrics.setdefault(m.get("line"), []).append(m)
        for item in picture.get("intervals") or []:
            intervals.setdefault(item.get("line"), item)
    for queue in queues.values():
        queue["callers"].sort(key=lambda c: (-c.get("priority", 0), -c.get("wait_seconds", 0)))
        for i, caller in enumerate(queue["callers"]):
            caller["position"] = i + 1
        queue["wait_target_seconds"] = emergency.wait_target_seconds
    metric_rows = []
    for line, items in metrics.items():
        today = _merge_metrics([m["today"] for m in items])
        current = items[0]["current_interval"]
        metric_rows.append(
            {
                "line": line,
                "today": today,
                "current_interval": {
                    "start": current["start"],
                    "end": current["end"],
                    "metrics": _merge_metrics([m["current_interval"]["metrics"] for m in items]),
                },
            }
        )
    metric_rows.sort(key=lambda m: (m["line"] is not None, m["line"] or 0))
    return {
        "generated_at": now,
        "version": version,
        "pbx_connected": any(bool(p.get("pbx_connected")) for p in pictures),
        "emergency": emergency,
        "lines": visible,
        "queues": sorted(queues.values(), key=lambda q: q["name"]),
        "operators": sorted(
            operators.values(), key=lambda o: (o.get("support_line", 0), o.get("extension", ""))
        ),
        "metrics": metric_rows,
        "intervals": list(intervals.values()) if with_intervals else None,
        "nodes": [
            {
                "name": p.get("node"),
                "site": p.get("site", ""),
                "pbx_connected": bool(p.get("pbx_connected")),
                "heartbeat_at": (heartbeats or {}).get(str(p.get("node"))),
            }
            for p in pictures
        ],
    }
