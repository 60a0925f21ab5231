"""What makes a telephony process a node of the cluster.

* Every second (when something changed, else every few seconds as a heartbeat) it writes
  its ACD's live picture into `cluster_nodes` and sends NOTIFY `cc_live`; API nodes merge
  the pictures of every node into the supervisor view.
* It takes requests from `node_requests` addressed to it or to any node (operator sign-in,
  pause, call control AMI actions), does them on its own Asterisk and writes the result
  back with NOTIFY `cc_replies`. NOTIFY `cc_requests` wakes it; it also looks every few
  seconds, so a missed notification only delays a request.
* NOTIFY `cc_emergency` makes its ACD reload the shared emergency switch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from callcenter.acd.operator_states import PbxUnavailable, StateChange
from callcenter.acd.service import AcdService
from callcenter.calls.records import CallEvents
from callcenter.cluster.codec import (
    jsonable,
    live_call_to_json,
    ring_to_payload,
    status_to_json,
)
from callcenter.cluster.stores import (
    EMERGENCY_CHANNEL,
    LIVE_CHANNEL,
    REPLY_CHANNEL,
    REQUEST_CHANNEL,
    RING_CHANNEL,
)
from callcenter.common.access import Conflict, InvalidInput, NotFound, Sessions, WorkstationError
from callcenter.domain.calls import CallRecord
from callcenter.pbx.ami_errors import (
    AmiActionError,
    AmiError,
    AmiNotConnectedError,
    AmiTimeoutError,
)
from callcenter.ports.live import Listen
from callcenter.workstation.call_control import REDIAL_CHANNEL
from callcenter.workstation.redial_runner import RedialRunner
from callcenter.workstation.screen_pop import ring_of_call, ring_of_state_change

log = logging.getLogger(__name__)

# the AMI actions an API node may ask for (call control); anything else is refused
PBX_METHODS = frozenset(
    {
        "originate",
        "redirect",
        "blind_transfer",
        "atxfer",
        "hangup",
        "confbridge_list",
        "confbridge_kick",
        "confbridge_mute",
        "confbridge_unmute",
    }
)
REQUEST_MAX_AGE = timedelta(minutes=2)
RING_BACKLOG = 1000  # rings waiting for their NOTIFY (the database is slow or away)
RUNG_MEMORY = (
    5000  # (interface, call) pairs already relayed  # older requests were given up by their sender
)


def error_kind(exc: BaseException) -> str:
    for cls, kind in (
        (PbxUnavailable, "pbx_unavailable"),
        (Conflict, "conflict"),
        (InvalidInput, "invalid_input"),
        (NotFound, "not_found"),
        (AmiActionError, "ami_action"),
        (AmiNotConnectedError, "ami_not_connected"),
        (AmiTimeoutError, "ami_timeout"),
        (AmiError, "ami_error"),
        (WorkstationError, "conflict"),
    ):
        if isinstance(exc, cls):
            return kind
    return "error"


def error_message(exc: BaseException) -> str:
    if isinstance(exc, WorkstationError | AmiActionError):
        return exc.message
    return str(exc)


class TelephonyNode:
    def __init__(
        self,
        sessions: Sessions,
        acd: AcdService,
        *,
        listen: Listen,
        name: str,
        site: str,
        pbx: Any,
        redials: RedialRunner | None = None,
        calls: CallEvents | None = None,
        publish_seconds: float = 1.0,
        heartbeat_seconds: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self.acd = acd
        self.name = name
        self.site = site
        self.pbx = pbx
        self._redials = redials
        self._calls = calls
        self._calls_changed = asyncio.Event()
        self._rings: asyncio.Queue[str] = asyncio.Queue(maxsize=RING_BACKLOG)
        self._rung: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._clock = clock
        self._publish_seconds = publish_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._started_at = clock()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener = listen(
            {
                REQUEST_CHANNEL: self._on_request_notify,
                EMERGENCY_CHANNEL: lambda _p: self._spawn(self.acd.reload_emergency()),
                REDIAL_CHANNEL: self._on_redial_notify,
            },
            on_connect=self._on_listen_connect,
        )
        self._background: set[asyncio.Task[Any]] = set()
        self.requests_done = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.acd.states.subscribe(self._on_state_change)
        if self._calls is not None:
            self._calls.subscribe(self._on_call_change)
        await self.publish()
        await self._listener.start()
        self._tasks = [
            asyncio.create_task(self._publisher(), name="node-publish"),
            asyncio.create_task(self._request_worker(), name="node-requests"),
            asyncio.create_task(self._ring_sender(), name="node-rings"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._listener.stop()
        with contextlib.suppress(Exception):
            async with self._sessions.begin() as tx:
                await tx.cluster.forget_node(self.name)
                await tx.cluster.notify(LIVE_CHANNEL, self.name)

    def _spawn(self, work: Awaitable[object]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("node: background work failed")

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_listen_connect(self) -> None:
        self._wake.set()  # requests sent while the link was down
        if self._redials is not None:
            self._redials.wake()
        await self.acd.reload_emergency()

    def _on_redial_notify(self, payload: str) -> None:
        if self._redials is not None and payload in ("", self.name):
            self._redials.wake()

    def _on_request_notify(self, payload: str) -> None:
        if payload in ("", self.name):
            self._wake.set()

    # ------------------------------------------------------------------ publishing

    async def publish(self) -> None:
        snapshot = self.acd.snapshot(None)
        data = jsonable(snapshot)
        data["node"] = self.name
        data["site"] = self.site
        if self._calls is not None:
            tracker = self._calls.tracker
            data["calls"] = [live_call_to_json(r) for r in tracker.open_calls()]
            data["channels"] = sorted(tracker.open_channels())
        async with self._sessions.begin() as tx:
            await tx.cluster.heartbeat(
                name=self.name,
                role="telephony",
                site=self.site,
                pid=os.getpid(),
                started_at=self._started_at,
                now=self._clock(),
                snapshot=data,
            )
            await tx.cluster.notify(LIVE_CHANNEL, self.name)

    async def _publisher(self) -> None:
        published = -1
        while True:
            # the ACD's picture changed, a call changed, or it is time for a heartbeat
            acd_changed = asyncio.ensure_future(
                self.acd.feed.wait(published, self._heartbeat_seconds)
            )
            call_changed = asyncio.ensure_future(self._calls_changed.wait())
            try:
                await asyncio.wait({acd_changed, call_changed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                call_changed.cancel()
                acd_changed.cancel()
            version = self.acd.feed.version
            self._calls_changed.clear()
            try:
                await self.publish()
                published = version
            except Exception as exc:
                log.warning("node: live picture not published: %s", exc)
            # at most one picture per `publish_seconds`: a burst of events is one write
            await asyncio.sleep(self._publish_seconds)

    # ------------------------------------------------------------------ live events

    def _on_call_change(self, record: CallRecord, ended_now: bool) -> None:
        """CallEvents observer (must not block): republish the live calls, relay a pop."""
        self._calls_changed.set()
        found = ring_of_call(record, ended_now)
        if found is None:
            return
        ring, interface = found
        key = (interface, ring.key)
        if key in self._rung:  # every later event of that call would pop again
            return
        self._rung[key] = None
        while len(self._rung) > RUNG_MEMORY:
            self._rung.popitem(last=False)
        self._relay(ring_to_payload(ring, interface))

    def _on_state_change(self, change: StateChange) -> None:
        lookup = self._calls.tracker.get if self._calls is not None else None
        ring = ring_of_state_change(change, lookup)
        if ring is not None:
            self._relay(ring_to_payload(ring, None))

    def _relay(self, payload: str) -> None:
        try:
            self._rings.put_nowait(payload)
        except asyncio.QueueFull:
            log.warning("node: screen-pop backlog full; a ring is not relayed")

    async def _ring_sender(self) -> None:
        """NOTIFY `cc_ring` for each ring: the API nodes push it to the operator's socket."""
        while True:
            payloads = [await self._rings.get()]
            while not self._rings.empty() and len(payloads) < 50:
                payloads.append(self._rings.get_nowait())
            try:
                async with self._sessions.begin() as tx:
                    for payload in payloads:
                        await tx.cluster.notify(RING_CHANNEL, payload)
            except Exception as exc:
                log.warning("node: screen-pop not relayed: %s", exc)

    # ------------------------------------------------------------------ requests

    async def _request_worker(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=3.0)
            self._wake.clear()
            try:
                while await self.serve_requests():
                    pass
            except Exception as exc:
                log.warning("node: requests not served: %s", exc)

    async def serve_requests(self) -> int:
        """Take and do the pending requests; the number done."""
        now = self._clock()
        async with self._sessions.begin() as tx:
            taken = await tx.cluster.take_requests(node=self.name, not_before=now - REQUEST_MAX_AGE)
            work = [(r.id, r.kind, dict(r.payload or {})) for r in taken]
        for request_id, kind, payload in work:
            result: dict[str, Any] | None = None
            error: str | None = None
            kind_of_error: str | None = None
            try:
                result = await self._do(kind, payload)
            except Exception as exc:
                error, kind_of_error = error_message(exc), error_kind(exc)
                if kind_of_error == "error":
                    log.exception("node: request %s (%s) failed", request_id, kind)
            async with self._sessions.begin() as tx:
                await tx.cluster.finish_request(
                    request_id,
                    now=self._clock(),
                    result=result,
                    error=error,
                    error_kind=kind_of_error,
                )
                await tx.cluster.notify(REPLY_CHANNEL, str(request_id))
            self.requests_done += 1
        return len(work)

    async def _do(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        acd = self.acd
        if kind.startswith("acd."):
            operator_id = int(payload["operator_id"])
            action = kind.removeprefix("acd.")
            if action == "login":
                status = await acd.login(operator_id)
            elif action == "logout":
                status = await acd.logout(operator_id)
            elif action == "ready":
                status = await acd.ready(operator_id)
            elif action == "pause":
                status = await acd.pause(operator_id, str(payload["reason"]))
            else:
                raise InvalidInput(f"unknown request {kind}")
            self.acd.feed.bump()
            return {"status": status_to_json(status), "node": self.name}
        if kind.startswith("pbx."):
            method = kind.removeprefix("pbx.")
            if method not in PBX_METHODS or self.pbx is None:
                raise InvalidInput(f"unknown request {kind}")
            args = payload.get("args") or []
            kwargs = payload.get("kwargs") or {}
            value = await getattr(self.pbx, method)(*args, **kwargs)
            return {"value": _reply_value(value), "node": self.name}
        raise InvalidInput(f"unknown request {kind}")


def _reply_value(value: object) -> Any:
    """An AMI reply made JSON-ready: frames as their headers, dataclasses as dicts."""
    headers = getattr(value, "headers", None)
    if headers is not None and not callable(headers):
        try:
            return {str(k): str(v) for k, v in dict(headers).items()}
        except (TypeError, ValueError):
            return None
    try:
        return jsonable(value)
    except (TypeError, ValueError):
        return None
