"""Auto-informing by SMS and e-mail: start a campaign's sending (a job), its live progress per
channel (also over a WebSocket), the deliveries one by one, and the SMS gateway's delivery
reports (a callback authenticated by a shared token, `CALLCENTER_SMS_REPORT_TOKEN`)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import (
    APIRouter,
    Body,
    Depends,
    Header,
    HTTPException,
    Query,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi import status as http
from fastapi.openapi.models import Example
from pydantic import Field

from callcenter.api.deps import PlatformDep, SupervisorDep, websocket_user
from callcenter.api.schemas.notify import (
    ChannelProgressOut,
    DeliveryOut,
    MessagesProgressOut,
    ReportIn,
    ReportsOut,
    SendIn,
    SendOut,
)
from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, ClockDep, WorkstationRoute
from callcenter.bootstrap import Platform
from callcenter.common.access import Clock
from callcenter.domain.notify import (
    Channel,
    DeliveryStatus,
    parse_report_status,
)
from callcenter.domain.roles import Role
from callcenter.outbound.notify_jobs import NotifyJobs

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1",
    tags=["auto-informing"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)

LIVE_INTERVAL = 2.0  # seconds between WebSocket progress messages
MAX_REPORTS = 1000  # delivery reports in one callback


def notify_jobs_for(platform: Platform, clock: Clock) -> NotifyJobs:
    channels = set()
    if platform.sms is not None:
        channels.add(Channel.SMS)
    if platform.email is not None:
        channels.add(Channel.EMAIL)
    worker = platform.notify
    return NotifyJobs(
        platform.session_factory,
        clock=clock,
        channels=frozenset(channels),
        wake=worker.wake if worker is not None else None,
    )


def get_notify_jobs(platform: PlatformDep, clock: ClockDep) -> NotifyJobs:
    return notify_jobs_for(platform, clock)


NotifyJobsDep = Annotated[NotifyJobs, Depends(get_notify_jobs)]


# ----------------------------------------------------------------------------- schemas


async def messages_progress(jobs: NotifyJobs, campaign_id: int) -> MessagesProgressOut:
    channels = await jobs.progress(campaign_id)
    return MessagesProgressOut(
        campaign_id=campaign_id, channels=[ChannelProgressOut.of(p) for p in channels]
    )


# ----------------------------------------------------------------------------- endpoints


@router.post(
    "/campaigns/{campaign_id}/send",
    response_model=SendOut,
    status_code=http.HTTP_202_ACCEPTED,
)
async def campaign_send(
    campaign_id: int,
    body: SendIn,
    _: SupervisorDep,
    actor: ActorDep,
    jobs: NotifyJobsDep,
) -> SendOut:
    """Send the campaign's message to every contact of its list by SMS or e-mail: stores the
    job and returns at once; workers send it (progress: `GET .../messages`). Repeating the
    request returns the same job and sends nobody a second message."""
    job = await jobs.send(actor, campaign_id, body.channel, subject=body.subject)
    return SendOut.of(job)


@router.get("/campaigns/{campaign_id}/messages", response_model=MessagesProgressOut)
async def campaign_messages(
    campaign_id: int, _: SupervisorDep, jobs: NotifyJobsDep
) -> MessagesProgressOut:
    """SMS and e-mail progress per channel: queued, sent, delivered, failed, skipped,
    positive and negative, and per minute over the last hour."""
    return await messages_progress(jobs, campaign_id)


@router.get("/campaigns/{campaign_id}/messages/deliveries", response_model=list[DeliveryOut])
async def campaign_deliveries(
    campaign_id: int,
    _: SupervisorDep,
    jobs: NotifyJobsDep,
    channel: Channel | None = None,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[DeliveryOut]:
    """One row per contact and channel, with the gateway's reason when it failed."""
    rows = await jobs.deliveries(
        campaign_id, channel=channel, status=status, limit=limit, offset=offset
    )
    return [
        DeliveryOut(
            id=r.id,
            contact_id=r.contact_id,
            channel=r.channel,
            address=r.address,
            status=r.status,
            outcome=r.outcome,
            reason=r.reason,
            attempts=r.attempts,
            gateway_message_id=r.gateway_message_id,
            sent_at=r.sent_at,
            finished_at=r.finished_at,
        )
        for r in rows
    ]


REPORT_EXAMPLES: dict[str, Example] = {
    "delivered": {
        "summary": "one report",
        "value": {"id": "gw-123", "client_ref": "cc-5f2a9c", "status": "delivered"},
    },
    "several": {
        "summary": "a batch",
        "value": [
            {"id": "gw-124", "status": "failed", "reason": "absent subscriber"},
            {"id": "gw-125", "status": "delivered"},
        ],
    },
}


@router.post("/notify/sms/reports", response_model=ReportsOut)
async def sms_delivery_reports(
    body: Annotated[
        ReportIn | Annotated[list[ReportIn], Field(max_length=MAX_REPORTS)],
        Body(openapi_examples=REPORT_EXAMPLES),
    ],
    platform: PlatformDep,
    clock: ClockDep,
    authorization: Annotated[str, Header()] = "",
    token: Annotated[
        str, Query(description="the shared token, for gateways that can only call a URL")
    ] = "",
) -> ReportsOut:
    """The SMS gateway's delivery reports (one object or a list). Authenticated by the
    shared token `CALLCENTER_SMS_REPORT_TOKEN`, as `Authorization: Bearer <token>` or
    `?token=`. A report of delivery makes the message positive, of failure negative;
    repeated, interim and unknown reports are answered 200 too (so the gateway stops
    repeating them) and counted as ignored."""
    expected = platform.settings.sms_report_token.get_secret_value()
    given = authorization.removeprefix("Bearer ").strip() if authorization else token
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status_code=http.HTTP_401_UNAUTHORIZED,
            detail="delivery reports need the gateway's token",
        )
    reports = body if isinstance(body, list) else [body]
    jobs = notify_jobs_for(platform, clock)
    applied = ignored = 0
    for report in reports:
        verdict = parse_report_status(report.status)
        if verdict is None:
            ignored += 1
            continue
        result = await jobs.report(
            gateway_message_id=report.id,
            idempotency_key=report.client_ref,
            status=verdict,
            reason=report.reason,
        )
        if result.applied:
            applied += 1
        else:
            ignored += 1
    return ReportsOut(applied=applied, ignored=ignored)


# ----------------------------------------------------------------------------- live


@router.websocket("/campaigns/{campaign_id}/messages/live")
async def campaign_messages_live(websocket: WebSocket, campaign_id: int) -> None:
    """Supervisors: `?token=<bearer token>`; then every two seconds the same JSON as
    `GET /campaigns/{id}/messages`, with `"type": "messages"`."""
    platform: Platform = websocket.app.state.platform
    user = await websocket_user(websocket)
    if user is None or not user.role.at_least(Role.SUPERVISOR):
        # closed before the handshake completes: the client sees HTTP 403
        await websocket.close(code=http.WS_1008_POLICY_VIOLATION)
        return
    await websocket.accept()
    jobs = notify_jobs_for(platform, lambda: datetime.now(UTC))
    receiver = asyncio.create_task(_drain(websocket))
    try:
        while not receiver.done():
            progress = await messages_progress(jobs, campaign_id)
            await websocket.send_json({"type": "messages", **progress.model_dump(mode="json")})
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LIVE_INTERVAL):
                    await asyncio.shield(receiver)
    except WebSocketDisconnect:
        pass
    finally:
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await receiver


async def _drain(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message.get("type") == "websocket.disconnect":
            return
