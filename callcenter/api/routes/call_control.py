"""Call control from the operator workstation (table 9, functions 1-8) and the screen-pop
WebSocket (function 2: the caller's card the moment a call rings).

The PBX, the call records and the ACD are read from the platform at request time
(`platform.pbx.client`, `platform.calls`, `platform.acd`), so the routes work with whatever
`build_platform` wired (a real Asterisk or the simulator) and answer 503 without a PBX.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import State

from callcenter.api.deps import PlatformDep, user_for_token
from callcenter.api.routes.customers import _card
from callcenter.api.schemas.call_control import (
    ChannelIn,
    ConferenceIn,
    DialIn,
    DialOut,
    InvitedOut,
    LiveCallOut,
    ModerateIn,
    ParticipantOut,
    RedialIn,
    RedialOut,
    ScreenPopOut,
    TransferIn,
    TransferOut,
)
from callcenter.api.schemas.customers import CustomerCardOut
from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, ClockDep, ErrorOut, http_status
from callcenter.bootstrap import Platform
from callcenter.common.access import Actor, WorkstationError
from callcenter.domain.calls import CallRecord
from callcenter.workstation.call_control import (
    CallControlPbx,
    CallControlService,
    CallControlState,
    NotAvailable,
    PbxTimeout,
    PbxUnavailable,
    RedialJob,
)
from callcenter.workstation.customer_cards import CustomerCardsService
from callcenter.workstation.screen_pop import Ring, ScreenPopHub


def _status(exc: WorkstationError) -> int:
    if isinstance(exc, PbxUnavailable):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    if isinstance(exc, PbxTimeout):
        return status.HTTP_504_GATEWAY_TIMEOUT
    if isinstance(exc, NotAvailable):
        return status.HTTP_501_NOT_IMPLEMENTED
    return http_status(exc)


class CallControlRoute(APIRoute):
    """Service errors, including the PBX's, become JSON answers with a Russian detail."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except WorkstationError as exc:
                return JSONResponse(status_code=_status(exc), content={"detail": exc.message})

        return handler


ME = "/api/v1/me"
router = APIRouter(
    tags=["call control"],
    route_class=CallControlRoute,
    responses={
        **ERROR_RESPONSES,
        status.HTTP_501_NOT_IMPLEMENTED: {"model": ErrorOut, "description": "Not in the dialplan"},
        status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ErrorOut, "description": "No AMI link"},
        status.HTTP_504_GATEWAY_TIMEOUT: {"model": ErrorOut, "description": "Asterisk silent"},
    },
)


# ------------------------------------------------------------------ wiring


def _app_state(state: State) -> CallControlState:
    current: CallControlState | None = getattr(state, "call_control", None)
    if current is None:
        current = CallControlState()
        state.call_control = current
    return current


def call_control_state(request: Request) -> CallControlState:
    return _app_state(request.app.state)


def pbx_client(platform: Platform) -> CallControlPbx | None:
    """The AMI client here, or on an API node the client that has telephony nodes act."""
    client = platform.ami_client()
    if client is not None:
        return client
    remote: CallControlPbx | None = getattr(platform.pbx, "client", None)
    return remote


# the shipped dialplan's music-on-hold extension (asterisk_conf/extensions.conf, [hold])
HOLD_TARGET = ("hold", "s")


def get_call_control(
    platform: PlatformDep,
    clock: ClockDep,
    state: Annotated[CallControlState, Depends(call_control_state)],
) -> CallControlService:
    has_calls = platform.calls is not None or hasattr(platform.acd, "live_calls")
    return CallControlService(
        platform.session_factory,
        clock=clock,
        pbx=pbx_client(platform),
        state=state,
        live_calls=(lambda: platform.live_calls() or []) if has_calls else None,
        call_lookup=platform.call_lookup if has_calls else None,
        hold_target=HOLD_TARGET,
        redial_node=platform.redial_node,
        on_redial=platform.redials.wake if platform.redials is not None else None,
    )


CallControlDep = Annotated[CallControlService, Depends(get_call_control)]


def screen_pop_hub(state: State, platform: Platform) -> ScreenPopHub:
    """One hub per application, subscribed to the ACD and the call records on first use."""
    hub: ScreenPopHub | None = getattr(state, "screen_pop", None)
    if hub is None:
        calls = platform.calls
        hub = ScreenPopHub(call_lookup=platform.call_lookup)
        if platform.acd is not None:
            platform.acd.states.subscribe(hub.on_state_change)
        if calls is not None:
            calls.subscribe(hub.on_call_change)
        # an API node: the rings telephony nodes relay through the database
        relayed = getattr(platform.acd, "subscribe_rings", None)
        if callable(relayed):
            relayed(hub.deliver)
        state.screen_pop = hub
    return hub


# ------------------------------------------------------------------ bodies and answers


def _redial_out(job: RedialJob) -> RedialOut:
    return RedialOut(
        id=job.id,
        number=job.number,
        attempts=job.attempts,
        made=job.made,
        interval_seconds=job.interval_seconds,
        status=job.status,
        channel_ids=list(job.channel_ids),
        last_error=job.last_error,
    )


def _live_out(record: CallRecord) -> LiveCallOut:
    talking = [leg for leg in record.operator_legs if leg.answered_at and leg.ended_at is None]
    return LiveCallOut(
        linkedid=record.linkedid,
        call_id=record.id,
        direction=record.direction.value,
        caller_number=record.caller_number,
        dialled_number=record.dialled_number,
        queue_name=record.queue_name,
        operator_interface=record.operator_interface,
        operator_channel=talking[-1].channel if talking else None,
        started_at=record.started_at,
        answered_at=record.answered_at,
    )


# ------------------------------------------------------------------ routes


@router.post(
    ME + "/calls/dial",
    response_model=DialOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Call a customer or an employee: my phone rings first, then the number",
)
async def dial(actor: ActorDep, control: CallControlDep, body: DialIn) -> DialOut:
    d = await control.dial(actor, body.number)
    return DialOut(
        channel_id=d.channel_id,
        channel=d.channel,
        number=d.destination.number,
        context=d.destination.context,
    )


@router.post(
    ME + "/calls/{channel_id:path}/hangup",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Hang up a channel of one of my calls",
)
async def hangup(actor: ActorDep, control: CallControlDep, channel_id: str) -> Response:
    await control.hangup(actor, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    ME + "/calls/transfer",
    response_model=TransferOut,
    summary="Transfer a call to an operator/employee, a line, the IVR or an external number",
)
async def transfer(actor: ActorDep, control: CallControlDep, body: TransferIn) -> TransferOut:
    d = await control.transfer(
        actor, body.channel, body.target_kind, body.target, attended=body.attended
    )
    return TransferOut(channel=body.channel, context=d.context, exten=d.exten)


@router.post(
    ME + "/calls/hold",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Put the caller on hold with music (501 while the dialplan has no hold extension)",
)
async def hold(actor: ActorDep, control: CallControlDep, body: ChannelIn) -> Response:
    await control.hold(actor, body.channel, on=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(ME + "/calls/unhold", status_code=status.HTTP_204_NO_CONTENT, summary="Take off hold")
async def unhold(actor: ActorDep, control: CallControlDep, body: ChannelIn) -> Response:
    await control.hold(actor, body.channel, on=False)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(ME + "/calls/live", response_model=list[LiveCallOut], summary="My calls in progress")
async def live(actor: ActorDep, control: CallControlDep) -> list[LiveCallOut]:
    return [_live_out(r) for r in await control.live(actor)]


@router.post(
    ME + "/conference",
    response_model=list[InvitedOut],
    summary="Bring calls (and invited numbers) into a conference room 9NN",
)
async def conference(
    actor: ActorDep, control: CallControlDep, body: ConferenceIn
) -> list[InvitedOut]:
    invited = await control.conference(actor, body.room, body.channels, body.invite)
    return [
        InvitedOut(channel_id=d.channel_id, channel=d.channel, number=d.destination.number)
        for d in invited
    ]


@router.get(
    ME + "/conference/{room}", response_model=list[ParticipantOut], summary="Who is in the room"
)
async def conference_members(
    actor: ActorDep, control: CallControlDep, room: str
) -> list[ParticipantOut]:
    return [
        ParticipantOut(
            channel=p.channel,
            uniqueid=p.uniqueid,
            caller_id_num=p.caller_id_num,
            caller_id_name=p.caller_id_name,
            muted=p.muted,
            talking=p.talking,
            answered_seconds=p.answered_seconds,
        )
        for p in await control.participants(actor, room)
    ]


@router.post(
    ME + "/conference/{room}/moderate",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Kick, mute or unmute a participant (participants and supervisors)",
)
async def conference_moderate(
    actor: ActorDep, control: CallControlDep, room: str, body: ModerateIn
) -> Response:
    await control.moderate(actor, room, body.channel, action=body.action)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    ME + "/calls/redial",
    response_model=RedialOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Auto-redial: call again every interval until answered or attempts run out",
)
async def start_redial(
    actor: ActorDep, control: CallControlDep, body: Annotated[RedialIn, Body()]
) -> RedialOut:
    job = await control.start_redial(
        actor, body.number, attempts=body.attempts, interval_seconds=body.interval_seconds
    )
    return _redial_out(job)


@router.get(ME + "/calls/redial", response_model=list[RedialOut], summary="My auto-redials")
async def list_redials(actor: ActorDep, control: CallControlDep) -> list[RedialOut]:
    return [_redial_out(j) for j in await control.redials(actor)]


@router.delete(
    ME + "/calls/redial/{job_id}", response_model=RedialOut, summary="Stop an auto-redial"
)
async def cancel_redial(actor: ActorDep, control: CallControlDep, job_id: uuid.UUID) -> RedialOut:
    return _redial_out(await control.cancel_redial(actor, job_id))


# ------------------------------------------------------------------ screen-pop


async def _pop(platform: Platform, actor: Actor, ring: Ring) -> dict[str, Any]:
    cards: list[CustomerCardOut] = []
    if ring.caller_number:
        service = CustomerCardsService(platform.session_factory, clock=lambda: datetime.now(UTC))
        with contextlib.suppress(WorkstationError):
            found = await service.lookup(actor, phone=ring.caller_number)
            cards = [_card(c) for c in found.cards]
    return ScreenPopOut(
        linkedid=ring.linkedid,
        caller_number=ring.caller_number,
        queue=ring.queue,
        ivr_path=list(ring.ivr_path),
        customers=cards,
    ).model_dump(mode="json")


_POLICY_VIOLATION = 1008


@router.websocket("/api/v1/ws/operator")
async def operator_socket(websocket: WebSocket, token: Annotated[str, Query(min_length=1)]) -> None:
    """Pushes {"type": "hello"} once subscribed, then {"type": "screen_pop", ...} per ring."""
    platform: Platform = websocket.app.state.platform
    user = await user_for_token(platform, token)
    if user is None:
        await websocket.close(code=_POLICY_VIOLATION, reason="invalid token")
        return
    async with platform.session_factory() as tx:
        operator = (
            await tx.operators.get(user.operator_id) if user.operator_id is not None else None
        )
    if operator is None:
        await websocket.close(code=_POLICY_VIOLATION, reason="not an operator")
        return
    actor = Actor(
        user_id=user.id,
        role=user.role,
        operator_id=operator.id,
        remote_addr=websocket.client.host if websocket.client else None,
    )
    hub = screen_pop_hub(websocket.app.state, platform)
    await websocket.accept()
    sub = hub.subscribe(operator.id, operator.interface, operator.extension)

    async def pump() -> None:
        while True:
            ring = await sub.queue.get()
            await websocket.send_json(await _pop(platform, actor, ring))

    sender = asyncio.create_task(pump(), name=f"screen-pop-{operator.id}")
    try:
        await websocket.send_json({"type": "hello", "operator_id": operator.id})
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        hub.unsubscribe(sub)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
