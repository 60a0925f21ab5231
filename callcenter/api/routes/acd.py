"""The ACD over HTTP: the signed-in operator's own state (log in to the queues, pause with a
reason, ready, log out), the live queue view (`GET /api/v1/queues` and the WebSocket
`/api/v1/ws/supervisor`), Erlang C staffing, and the emergency mode switch.

Who sees what in the live view follows the workstation rule (SPEC table 9, function 15): an
operator of line 1 sees lines 1 and 2, line 2 sees line 2 (`domain.visibility`); supervisors
and administrators see every line and the totals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    HTTPException,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from callcenter.acd.callbacks import CallbackState
from callcenter.acd.service import AcdService, PbxUnavailable
from callcenter.api.deps import SupervisorDep, UserDep, websocket_user
from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, http_status
from callcenter.bootstrap import Platform
from callcenter.cluster.remote import RemoteAcd
from callcenter.common.access import Actor, WorkstationError, require_operator, viewer_for
from callcenter.domain import erlang
from callcenter.domain.acd import EmergencySource
from callcenter.domain.agents import AgentStatus, OperatorState, PauseReason
from callcenter.domain.roles import Role
from callcenter.domain.visibility import operator_lines_visible

log = logging.getLogger(__name__)

# the WebSocket sends a fresh snapshot at least this often (waits keep growing)
HEARTBEAT_SECONDS = 5.0


class AcdRoute(APIRoute):
    """Service errors as JSON with the Russian message (as on the workstation routes); a PBX
    that cannot be reached is a 503."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except PbxUnavailable as exc:
                code = status.HTTP_503_SERVICE_UNAVAILABLE
                return JSONResponse(status_code=code, content={"detail": exc.message})
            except WorkstationError as exc:
                return JSONResponse(status_code=http_status(exc), content={"detail": exc.message})

        return handler


router = APIRouter(prefix="/api/v1", tags=["acd"], route_class=AcdRoute, responses=ERROR_RESPONSES)


# in one process the ACD itself; on an API node the telephony nodes' ACDs through PostgreSQL
Acd = AcdService | RemoteAcd


def get_acd(request: Request) -> Acd:
    """The running ACD: `app.state.acd`, else the platform's `acd` (set by bootstrap)."""
    acd = getattr(request.app.state, "acd", None)
    if acd is None:
        platform: Platform = request.app.state.platform
        acd = platform.acd
    if not isinstance(acd, AcdService | RemoteAcd):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "ACD не запущен")
    return acd


AcdDep = Annotated[Acd, Depends(get_acd)]


def operator_extension(acd: Acd, operator_id: int) -> str | None:
    """The operator's extension as the live view shows it (any node's, on an API node)."""
    if isinstance(acd, RemoteAcd):
        view = acd.operator_view(operator_id)
        return str(view["extension"]) if view is not None else None
    operators = acd.snapshot(None).operators
    return next((o.extension for o in operators if o.operator_id == operator_id), None)


# --- the operator's own state ---------------------------------------------------------------


class MyStateOut(BaseModel):
    operator_id: int
    state: OperatorState
    since: datetime | None
    pause_reason: str | None = Field(description="the reason code while paused")
    pending_pause: str | None = Field(description="pause asked for during a call: taken after it")
    wrap_up_until: datetime | None
    call_queue: str | None = Field(description="the queue of the call being rung, talked, wrapped")


def _state_out(operator_id: int, state: AgentStatus) -> MyStateOut:
    return MyStateOut(
        operator_id=operator_id,
        state=state.state,
        since=state.since,
        pause_reason=state.pause_reason,
        pending_pause=state.pending_pause,
        wrap_up_until=state.wrap_up_until,
        call_queue=state.call.queue if state.call is not None else None,
    )


class PauseIn(BaseModel):
    reason: PauseReason = Field(description="the reason code Asterisk records with the pause")

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "lunch"}]})


@router.get("/me/state", response_model=MyStateOut, summary="My operator state")
async def my_state(actor: ActorDep, acd: AcdDep) -> MyStateOut:
    operator_id = require_operator(actor)
    return _state_out(operator_id, acd.states.status(operator_id))


@router.post(
    "/me/login", response_model=MyStateOut, summary="Log in to my line's queues (ready for calls)"
)
async def my_login(actor: ActorDep, acd: AcdDep) -> MyStateOut:
    operator_id = require_operator(actor)
    return _state_out(operator_id, await acd.login(operator_id))


@router.post("/me/logout", response_model=MyStateOut, summary="Leave the queues")
async def my_logout(actor: ActorDep, acd: AcdDep) -> MyStateOut:
    operator_id = require_operator(actor)
    return _state_out(operator_id, await acd.logout(operator_id))


@router.post("/me/pause", response_model=MyStateOut, summary="Pause with a reason code")
async def my_pause(body: PauseIn, actor: ActorDep, acd: AcdDep) -> MyStateOut:
    operator_id = require_operator(actor)
    return _state_out(operator_id, await acd.pause(operator_id, body.reason.value))


@router.post(
    "/me/unpause", response_model=MyStateOut, summary="End the pause or the after-call work"
)
async def my_unpause(actor: ActorDep, acd: AcdDep) -> MyStateOut:
    operator_id = require_operator(actor)
    return _state_out(operator_id, await acd.ready(operator_id))


@router.post("/me/ready", response_model=MyStateOut, summary="Ready for calls (same as unpause)")
async def my_ready(actor: ActorDep, acd: AcdDep) -> MyStateOut:
    return await my_unpause(actor, acd)


# --- the live view ------------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class MetricsOut(_Out):
    offered: int
    answered: int
    abandoned: int
    left: int = Field(description="left the queue unanswered: overflow, timeout, transfer")
    answered_within_target: int
    asa_seconds: float | None = Field(description="average speed of answer")
    service_level: float | None = Field(description="share answered within the target (40 s)")
    abandon_rate: float | None
    aht_seconds: float | None = Field(description="average handling time: talk + after-call work")
    occupancy: float | None
    busy_seconds: float
    ready_seconds: float


class IntervalOut(_Out):
    start: datetime
    end: datetime
    metrics: MetricsOut


class LineMetricsOut(_Out):
    line: int | None = Field(description="support line; empty: every line together")
    today: MetricsOut
    current_interval: IntervalOut


class LineIntervalsOut(_Out):
    line: int | None
    intervals: list[IntervalOut]


class CallerOut(_Out):
    position: int
    wait_seconds: float
    priority: int


class CallbackOut(_Out):
    id: uuid.UUID
    state: CallbackState
    waiting_seconds: float
    attempts: int


class QueueOut(_Out):
    name: str
    support_line: int | None
    is_overflow: bool
    description: str
    waiting: int
    longest_wait_seconds: float
    callers: list[CallerOut]
    callbacks: list[CallbackOut]
    operators: dict[str, int] = Field(description="members by state")
    expected_wait_seconds: float | None = Field(
        description="for a caller joining now; empty: nobody serves the queue"
    )
    wait_target_seconds: float
    all_busy_seconds: float | None


class OperatorOut(_Out):
    operator_id: int
    extension: str
    full_name: str
    support_line: int
    state: OperatorState
    since: datetime | None
    pause_reason: str | None
    pending_pause: str | None
    call_queue: str | None


class EmergencyOut(_Out):
    active: bool
    source: EmergencySource | None
    since: datetime | None
    announcement: str
    wait_target_seconds: float


class NodeOut(_Out):
    name: str
    site: str
    pbx_connected: bool
    heartbeat_at: datetime | None


class LiveViewOut(_Out):
    generated_at: datetime
    version: int
    pbx_connected: bool
    emergency: EmergencyOut
    lines: list[int] = Field(description="the support lines shown")
    queues: list[QueueOut]
    operators: list[OperatorOut]
    metrics: list[LineMetricsOut]
    intervals: list[LineIntervalsOut] | None = Field(
        default=None, description="today's 15-minute intervals (with ?intervals=true)"
    )
    nodes: list[NodeOut] | None = Field(
        default=None,
        description="the telephony nodes (sites) merged into this view; empty in one process",
    )


async def _visible_lines(request: Request, actor: Actor) -> frozenset[int] | None:
    if actor.role.at_least(Role.SUPERVISOR):
        return None
    platform: Platform = request.app.state.platform
    async with platform.session_factory() as tx:
        viewer = await viewer_for(tx, actor)
    return operator_lines_visible(viewer)


@router.get("/queues", response_model=LiveViewOut, summary="Live view of the queues")
async def live_view(
    request: Request,
    actor: ActorDep,
    acd: AcdDep,
    with_intervals: Annotated[bool, Query(alias="intervals")] = False,
) -> LiveViewOut:
    lines = await _visible_lines(request, actor)
    snapshot = acd.snapshot(lines, with_intervals=with_intervals)
    return LiveViewOut.model_validate(snapshot)


# --- staffing -----------------------------------------------------------------------------------


class StaffingOut(BaseModel):
    agents: int = Field(description="operators needed")
    service_level: float = Field(description="share answered within target_seconds with them")
    asa_seconds: float = Field(description="average speed of answer with them")
    occupancy: float
    probability_of_wait: float
    traffic_erlangs: float
    calls_per_hour: float
    aht: float
    target_sl: float
    target_seconds: float

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agents": 8,
                    "service_level": 0.8801,
                    "asa_seconds": 10.04,
                    "occupancy": 0.625,
                    "probability_of_wait": 0.1673,
                    "traffic_erlangs": 5.0,
                    "calls_per_hour": 100,
                    "aht": 180,
                    "target_sl": 0.8,
                    "target_seconds": 20,
                }
            ]
        }
    )


@router.get("/staffing", response_model=StaffingOut, summary="Erlang C: operators needed")
async def staffing(
    _user: SupervisorDep,
    calls_per_hour: Annotated[float, Query(ge=0, le=1_000_000)],
    aht: Annotated[float, Query(gt=0, le=86_400, description="average handling time, s")],
    target_sl: Annotated[
        float,
        Query(
            gt=0,
            lt=1,
            description="service level target as a share of calls, between 0 and 1 "
            "(0.8 means 80 % answered within target_seconds)",
        ),
    ] = 0.8,
    target_seconds: Annotated[float, Query(ge=0, le=3600)] = 40,
) -> StaffingOut:
    share = target_sl
    try:
        result = erlang.staffing(
            calls_per_hour, aht, target_service_level=share, target_seconds=target_seconds
        )
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return StaffingOut(
        agents=result.agents,
        service_level=round(result.service_level, 4),
        asa_seconds=round(result.asa_seconds, 2),
        occupancy=round(result.occupancy, 4),
        probability_of_wait=round(result.probability_of_wait, 4),
        traffic_erlangs=round(result.traffic, 4),
        calls_per_hour=calls_per_hour,
        aht=aht,
        target_sl=share,
        target_seconds=target_seconds,
    )


# --- emergency mode -----------------------------------------------------------------------------


class EmergencyIn(BaseModel):
    active: bool
    announcement: str | None = Field(
        default=None,
        max_length=1000,
        description="what callers hear after the greeting; empty: the standard outage text",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"active": True, "announcement": "В Твери плановое отключение до 18:00."}]
        }
    )


@router.get("/emergency", response_model=EmergencyOut, summary="Is the emergency mode on?")
async def emergency_state(_user: UserDep, acd: AcdDep) -> EmergencyOut:
    return EmergencyOut.model_validate(acd.emergency)


@router.post("/emergency", response_model=EmergencyOut, summary="Switch the emergency mode")
async def switch_emergency(
    body: EmergencyIn, actor: ActorDep, _sup: SupervisorDep, acd: AcdDep
) -> EmergencyOut:
    mode = await acd.set_emergency(
        body.active,
        user_id=actor.user_id,
        announcement=body.announcement,
        remote_addr=actor.remote_addr,
    )
    return EmergencyOut.model_validate(mode)


# --- the WebSocket --------------------------------------------------------------------------


async def _ws_actor(websocket: WebSocket) -> Actor | None:
    user = await websocket_user(websocket)
    if user is None:
        return None
    client = websocket.client
    return Actor(
        user_id=user.id,
        role=user.role,
        operator_id=user.operator_id,
        remote_addr=client.host if client else None,
    )


def _ws_acd(websocket: WebSocket) -> Acd | None:
    acd = getattr(websocket.app.state, "acd", None)
    if acd is None:
        acd = websocket.app.state.platform.acd
    return acd if isinstance(acd, AcdService | RemoteAcd) else None


async def _ws_lines(websocket: WebSocket, actor: Actor) -> frozenset[int] | None:
    if actor.role.at_least(Role.SUPERVISOR):
        return None
    platform: Platform = websocket.app.state.platform
    async with platform.session_factory() as tx:
        viewer = await viewer_for(tx, actor)
    return operator_lines_visible(viewer)


@router.websocket("/ws/supervisor")
async def live_stream(websocket: WebSocket) -> None:
    """Live-view snapshots (the JSON of `GET /api/v1/queues`) as `{"type": "snapshot",
    "data": ...}`: one at once, then one on every change (coalesced), and at least every
    5 s. Close codes: 1008 not signed in, 1013 the ACD is not running."""
    actor = await _ws_actor(websocket)
    if actor is None:
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    acd = _ws_acd(websocket)
    if acd is None:
        await websocket.close(code=status.WS_1013_TRY_AGAIN_LATER)
        return
    lines = await _ws_lines(websocket, actor)
    await websocket.accept()

    async def until_closed() -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await websocket.receive_text()  # nothing is expected; this notices the close

    closed = asyncio.create_task(until_closed())
    try:
        while not closed.done():
            version = acd.feed.version
            snapshot = acd.snapshot(lines)
            data = LiveViewOut.model_validate(snapshot).model_dump(mode="json")
            try:
                await websocket.send_json({"type": "snapshot", "data": data})
            except (WebSocketDisconnect, RuntimeError):
                break
            change = asyncio.create_task(acd.feed.wait(version, HEARTBEAT_SECONDS))
            await asyncio.wait({change, closed}, return_when=asyncio.FIRST_COMPLETED)
            change.cancel()
            # let a burst of events settle into one snapshot (well within the 1 s promise)
            await asyncio.sleep(0.05)
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closed
        # the browser may be gone already (a closed tab): nothing left to close
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()
