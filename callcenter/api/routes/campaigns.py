"""Outbound (SPEC section 6): contact lists from CSV, the do-not-call list, auto-informing,
survey and operator campaigns, their live progress (also over a WebSocket) and reports.

Supervisors manage everything; operators may only take preview-mode contacts.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    Query,
    Response,
    UploadFile,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from callcenter.api.deps import PlatformDep, SupervisorDep, UserDep, websocket_user
from callcenter.api.routes.notify import NotifyJobsDep, messages_progress
from callcenter.api.schemas.notify import ChannelProgressOut
from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, ClockDep, WorkstationRoute
from callcenter.bootstrap import Platform
from callcenter.common.access import InvalidInput, NotFound
from callcenter.domain.campaign_lifecycle import CampaignAction
from callcenter.domain.campaigns import (
    AttemptOutcome,
    CampaignKind,
    CampaignStatus,
    DialMode,
    MachineAction,
)
from callcenter.domain.roles import Role
from callcenter.outbound.campaigns import (
    CampaignChanges,
    CampaignDraft,
    CampaignProgress,
    CampaignsService,
)
from callcenter.outbound.contact_import import MAX_FILE_BYTES, ContactImportService, ImportReport
from callcenter.outbound.dialer import DialerService, LiveStats

router = APIRouter(
    prefix="/api/v1",
    tags=["campaigns"],
    route_class=WorkstationRoute,
    responses=ERROR_RESPONSES,
)

LIVE_INTERVAL = 2.0  # seconds between WebSocket progress updates


# ----------------------------------------------------------------------------- wiring


def _dialer(platform: Platform) -> DialerService | None:
    """The platform's dialer, when the composition root built one (`platform.dialer`)."""
    dialer = platform.dialer
    return dialer if isinstance(dialer, DialerService) else None


def get_campaigns(platform: PlatformDep, clock: ClockDep) -> CampaignsService:
    return CampaignsService(platform.session_factory, clock=clock, dialer=_dialer(platform))


def get_contact_import(platform: PlatformDep, clock: ClockDep) -> ContactImportService:
    return ContactImportService(platform.session_factory, clock=clock)


CampaignsDep = Annotated[CampaignsService, Depends(get_campaigns)]
ImportDep = Annotated[ContactImportService, Depends(get_contact_import)]


# ----------------------------------------------------------------------------- schemas


class ContactListOut(BaseModel):
    id: int
    name: str
    contacts: int
    created_at: datetime


class ContactOut(BaseModel):
    id: int
    phone: str = Field(description="E.164")
    name: str
    timezone: str | None
    variables: dict[str, Any]

    model_config = ConfigDict(from_attributes=True)


class RowErrorOut(BaseModel):
    line: int = Field(description="line of the file; the header is line 1")
    messages: list[str]


class ImportOut(BaseModel):
    list_id: int | None
    rows: int
    imported: int
    already_in_list: int
    duplicates: list[int] = Field(description="lines repeating a number seen earlier")
    do_not_call: int = Field(description="imported, but on the do-not-call list")
    errors: list[RowErrorOut]
    dry_run: bool

    @classmethod
    def of(cls, report: ImportReport) -> ImportOut:
        return cls(
            list_id=report.list_id,
            rows=report.rows,
            imported=report.imported,
            already_in_list=report.already_in_list,
            duplicates=list(report.duplicates),
            do_not_call=report.do_not_call,
            errors=[RowErrorOut(line=e.line, messages=list(e.messages)) for e in report.errors],
            dry_run=report.dry_run,
        )


class DoNotCallIn(BaseModel):
    phone: str = Field(max_length=32, examples=["8 (916) 123-45-67"])
    reason: str = Field(default="", max_length=255)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"phone": "8 (916) 123-45-67", "reason": "просьба абонента"}]
        }
    )


class DoNotCallOut(BaseModel):
    phone: str
    reason: str
    added_at: datetime

    model_config = ConfigDict(from_attributes=True)


class CampaignIn(BaseModel):
    name: str = Field(max_length=128)
    kind: CampaignKind
    mode: DialMode | None = Field(
        default=None, description="operator campaigns: predictive (default), progressive, ..."
    )
    contact_list_id: int
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    window_start: time | None = Field(default=None, description="callee's local time; 08:00")
    window_end: time | None = Field(default=None, description="callee's local time; 22:00")
    weekdays: list[int] | None = Field(default=None, description="ISO, 1 = Monday")
    max_attempts: int = 3
    retry_delays: list[int] | None = Field(default=None, description="seconds, by attempt")
    message_template: str = Field(
        default="",
        max_length=1000,
        examples=["Задолженность {debt:money}. Отключение {day:date} в {at:time}."],
    )
    survey_id: int | None = None
    amd_machine_action: MachineAction = MachineAction.HANGUP
    max_abandon_pct: float = Field(default=3.0, description="at most 3 % of live answers")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Отключение 24.11, Тверь",
                    "kind": "auto_inform",
                    "contact_list_id": 1,
                    "starts_at": "2026-11-24T08:00:00+03:00",
                    "window_start": "08:00",
                    "window_end": "22:00",
                    "max_attempts": 3,
                    "message_template": "{day:date} с {at:time} плановое отключение.",
                }
            ]
        }
    )


class CampaignPatch(BaseModel):
    name: str | None = Field(default=None, max_length=128)
    mode: DialMode | None = None
    contact_list_id: int | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    clear_ends_at: bool = False
    window_start: time | None = None
    window_end: time | None = None
    weekdays: list[int] | None = None
    max_attempts: int | None = None
    retry_delays: list[int] | None = None
    message_template: str | None = Field(default=None, max_length=1000)
    survey_id: int | None = None
    amd_machine_action: MachineAction | None = None
    max_abandon_pct: float | None = None

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"max_attempts": 4, "window_end": "21:00"}]}
    )


class CampaignOut(BaseModel):
    id: int
    name: str
    kind: CampaignKind
    mode: DialMode
    status: CampaignStatus
    contact_list_id: int | None
    starts_at: datetime
    ends_at: datetime | None
    window_start: time | None
    window_end: time | None
    weekdays: list[int]
    max_attempts: int
    retry_delays: list[int]
    message_template: str
    survey_id: int | None
    amd_machine_action: MachineAction
    max_abandon_pct: float

    model_config = ConfigDict(from_attributes=True)


class ContactsOut(BaseModel):
    total: int
    do_not_call: int
    untouched: int
    in_flight: int
    waiting_retry: int
    reached: int = Field(description="positive: the message got through")
    given_up: int = Field(description="negative, no attempt left")
    remaining: int


class AttemptsOut(BaseModel):
    total: int
    positive: int
    negative: int
    pending: int
    by_reason: dict[int, int] = Field(description="OriginateResponse Reason -> attempts")
    by_amd: dict[str, int]


class LiveOut(BaseModel):
    dialling: int
    in_session: int
    placed: int
    answered: int
    live: int
    abandoned: int
    abandon_rate: float = Field(description="rolling window, share of live answers")
    answer_rate: float
    results: dict[str, int]
    operators_ready: int
    operators_busy: int
    last_decision: int
    last_reason: str
    updated_at: datetime

    @classmethod
    def of(cls, live: LiveStats) -> LiveOut:
        return cls(
            dialling=live.dialling,
            in_session=live.in_session,
            placed=live.placed,
            answered=live.answered,
            live=live.live,
            abandoned=live.abandoned,
            abandon_rate=live.abandon_rate,
            answer_rate=live.answer_rate,
            results=live.results,
            operators_ready=live.operators_ready,
            operators_busy=live.operators_busy,
            last_decision=live.last_decision,
            last_reason=live.last_reason,
            updated_at=live.updated_at,
        )


class ProgressOut(BaseModel):
    campaign_id: int
    name: str
    status: CampaignStatus
    percent_done: float
    contacts: ContactsOut
    attempts: AttemptsOut
    live: LiveOut | None = Field(description="present while this instance dials the campaign")

    @classmethod
    def of(cls, progress: CampaignProgress) -> ProgressOut:
        c = progress.contacts
        a = progress.attempts
        return cls(
            campaign_id=progress.campaign.id,
            name=progress.campaign.name,
            status=progress.campaign.status,
            percent_done=round(progress.percent_done, 1),
            contacts=ContactsOut(
                total=c.total,
                do_not_call=c.do_not_call,
                untouched=c.untouched,
                in_flight=c.in_flight,
                waiting_retry=c.waiting_retry,
                reached=c.reached,
                given_up=c.given_up,
                remaining=c.remaining,
            ),
            attempts=AttemptsOut(
                total=a.total,
                positive=a.positive,
                negative=a.negative,
                pending=a.pending,
                by_reason=a.by_reason,
                by_amd=a.by_amd,
            ),
            live=LiveOut.of(progress.live) if progress.live is not None else None,
        )


class ReportOut(BaseModel):
    progress: ProgressOut
    positive: int
    negative: dict[str, int] = Field(
        description="no_answer, busy, congestion, failed, machine, hung_up"
    )
    answer_rate: float
    messages: list[ChannelProgressOut] = Field(
        default_factory=list, description="SMS and e-mail results per channel, when sent"
    )


class AttemptOut(BaseModel):
    id: int
    contact_id: int
    phone: str
    name: str
    attempt_no: int
    started_at: datetime | None
    ended_at: datetime | None
    outcome: AttemptOutcome
    reason_code: int | None
    amd_status: str | None
    amd_cause: str | None
    next_attempt_at: datetime | None


class PreviewOut(BaseModel):
    contact: ContactOut
    attempts_made: int


# ----------------------------------------------------------------------------- contact lists


@router.get("/contact-lists", response_model=list[ContactListOut])
async def contact_lists(_: SupervisorDep, campaigns: CampaignsDep) -> list[ContactListOut]:
    return [
        ContactListOut(id=cl.id, name=cl.name, contacts=n, created_at=cl.created_at)
        for cl, n in await campaigns.lists()
    ]


@router.post("/contact-lists/import", response_model=ImportOut)
async def import_contacts(
    _: SupervisorDep,
    actor: ActorDep,
    importer: ImportDep,
    campaigns: CampaignsDep,
    file: Annotated[UploadFile, File(description="CSV: UTF-8 or Windows-1251, `,` `;` or tab")],
    list_id: Annotated[int | None, Form()] = None,
    name: Annotated[str | None, Form(description="a new list's name")] = None,
    campaign_id: Annotated[
        int | None, Form(description="check rows against this campaign's message")
    ] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> ImportOut:
    data = await file.read(MAX_FILE_BYTES + 1)
    template = None
    if campaign_id is not None:
        template = (await campaigns.get(campaign_id)).message_template or None
    report = await importer.import_csv(
        actor,
        data,
        list_id=list_id,
        new_list_name=name,
        template_text=template,
        dry_run=dry_run,
    )
    return ImportOut.of(report)


@router.get("/contact-lists/{list_id}/contacts", response_model=list[ContactOut])
async def contacts(
    list_id: int,
    _: SupervisorDep,
    campaigns: CampaignsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Any]:
    return list(await campaigns.contacts(list_id, limit=limit, offset=offset))


# ----------------------------------------------------------------------------- do not call


@router.get("/do-not-call", response_model=list[DoNotCallOut])
async def do_not_call(
    _: SupervisorDep,
    campaigns: CampaignsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[Any]:
    return list(await campaigns.do_not_call(limit=limit, offset=offset))


@router.post("/do-not-call", status_code=status.HTTP_201_CREATED)
async def add_do_not_call(
    body: DoNotCallIn, _: SupervisorDep, actor: ActorDep, campaigns: CampaignsDep
) -> dict[str, str]:
    return {"phone": await campaigns.add_do_not_call(actor, body.phone, body.reason)}


@router.delete("/do-not-call/{phone}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_do_not_call(
    phone: str, _: SupervisorDep, actor: ActorDep, campaigns: CampaignsDep
) -> Response:
    await campaigns.remove_do_not_call(actor, phone)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ----------------------------------------------------------------------------- campaigns


@router.get("/campaigns", response_model=list[ProgressOut])
async def list_campaigns(
    _: SupervisorDep,
    campaigns: CampaignsDep,
    status_: Annotated[list[CampaignStatus] | None, Query(alias="status")] = None,
) -> list[ProgressOut]:
    return [ProgressOut.of(p) for p in await campaigns.progress_all(status_)]


@router.post("/campaigns", response_model=CampaignOut, status_code=status.HTTP_201_CREATED)
async def create_campaign(
    body: CampaignIn, _: SupervisorDep, actor: ActorDep, campaigns: CampaignsDep
) -> Any:
    draft = CampaignDraft(
        name=body.name,
        kind=body.kind,
        contact_list_id=body.contact_list_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        mode=body.mode,
        window_start=body.window_start,
        window_end=body.window_end,
        weekdays=body.weekdays,
        max_attempts=body.max_attempts,
        retry_delays=body.retry_delays,
        message_template=body.message_template,
        survey_id=body.survey_id,
        amd_machine_action=body.amd_machine_action,
        max_abandon_pct=body.max_abandon_pct,
    )
    return await campaigns.create(actor, draft)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: int, _: SupervisorDep, campaigns: CampaignsDep) -> Any:
    return await campaigns.get(campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
async def update_campaign(
    campaign_id: int,
    body: CampaignPatch,
    _: SupervisorDep,
    actor: ActorDep,
    campaigns: CampaignsDep,
) -> Any:
    changes = CampaignChanges(**body.model_dump())
    return await campaigns.update(actor, campaign_id, changes)


@router.get("/campaigns/{campaign_id}/progress", response_model=ProgressOut)
async def campaign_progress(
    campaign_id: int, _: SupervisorDep, campaigns: CampaignsDep
) -> ProgressOut:
    return ProgressOut.of(await campaigns.progress(campaign_id))


@router.get("/campaigns/{campaign_id}/report", response_model=ReportOut)
async def campaign_report(
    campaign_id: int, _: SupervisorDep, campaigns: CampaignsDep, jobs: NotifyJobsDep
) -> ReportOut:
    report = await campaigns.report(campaign_id)
    return ReportOut(
        progress=ProgressOut.of(report.progress),
        positive=report.positive,
        negative=report.negative,
        answer_rate=report.answer_rate,
        messages=(await messages_progress(jobs, campaign_id)).channels,
    )


@router.get(
    "/campaigns/{campaign_id}/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "one row per attempt"}},
)
async def campaign_report_csv(
    campaign_id: int, _: SupervisorDep, campaigns: CampaignsDep
) -> Response:
    text = await campaigns.attempts_csv(campaign_id)
    return Response(
        content="\ufeff" + text,  # a BOM: Excel then reads UTF-8 Cyrillic correctly
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="campaign-{campaign_id}.csv"'},
    )


@router.get("/campaigns/{campaign_id}/attempts", response_model=list[AttemptOut])
async def campaign_attempts(
    campaign_id: int,
    _: SupervisorDep,
    campaigns: CampaignsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AttemptOut]:
    rows = await campaigns.attempts(campaign_id, limit=limit, offset=offset)
    return [
        AttemptOut(
            id=a.id,
            contact_id=c.id,
            phone=c.phone,
            name=c.name,
            attempt_no=a.attempt_no,
            started_at=a.started_at,
            ended_at=a.ended_at,
            outcome=a.outcome,
            reason_code=a.reason_code,
            amd_status=a.amd_status,
            amd_cause=a.amd_cause,
            next_attempt_at=a.next_attempt_at,
        )
        for a, c in rows
    ]


@router.get("/campaigns/{campaign_id}/message")
async def campaign_message(
    campaign_id: int,
    contact_id: Annotated[int, Query()],
    _: SupervisorDep,
    campaigns: CampaignsDep,
) -> dict[str, str]:
    """The message as this contact will hear or read it."""
    return {"text": await campaigns.preview_text(campaign_id, contact_id)}


# /campaigns/{id}/send is in routes/notify.py, whose router is included before this one
@router.post("/campaigns/{campaign_id}/{action}", response_model=CampaignOut)
async def campaign_action(
    campaign_id: int,
    action: CampaignAction,
    _: SupervisorDep,
    actor: ActorDep,
    campaigns: CampaignsDep,
) -> Any:
    return await campaigns.act(actor, campaign_id, action)


# ----------------------------------------------------------------------------- preview mode


@router.post("/campaigns/{campaign_id}/preview/next", response_model=PreviewOut)
async def preview_next(campaign_id: int, _: UserDep, platform: PlatformDep) -> PreviewOut:
    """The next contact of a preview-mode campaign, held for this operator for two minutes."""
    dialer = _dialer(platform)
    due = await dialer.preview_next(campaign_id) if dialer is not None else None
    if due is None:
        raise NotFound("Нет контактов для звонка (или кампания не в режиме предпросмотра)")
    return PreviewOut(
        contact=ContactOut.model_validate(due.contact), attempts_made=due.attempts_made
    )


@router.post(
    "/campaigns/{campaign_id}/preview/{contact_id}/dial", status_code=status.HTTP_202_ACCEPTED
)
async def preview_dial(
    campaign_id: int, contact_id: int, _: UserDep, platform: PlatformDep
) -> dict[str, bool]:
    dialer = _dialer(platform)
    if dialer is None or not await dialer.preview_dial(campaign_id, contact_id):
        raise InvalidInput("Этому контакту сейчас позвонить нельзя")
    return {"dialling": True}


# ----------------------------------------------------------------------------- live


@router.websocket("/campaigns/live")
async def campaigns_live(websocket: WebSocket) -> None:
    """Supervisors: `?token=<bearer token>`; then a JSON message every few seconds:
    `{"type": "campaigns", "campaigns": [<progress of each scheduled/running/paused one>]}`."""
    platform: Platform = websocket.app.state.platform
    user = await websocket_user(websocket)
    if user is None or not user.role.at_least(Role.SUPERVISOR):
        # closed before the handshake completes: the client sees HTTP 403
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION)
        return
    await websocket.accept()
    service = CampaignsService(platform.session_factory, clock=_utc_clock, dialer=_dialer(platform))
    watched = [CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED]
    receiver = asyncio.create_task(_drain(websocket))
    try:
        while not receiver.done():
            progress = await service.progress_all(watched)
            payload = {
                "type": "campaigns",
                "campaigns": [ProgressOut.of(p).model_dump(mode="json") for p in progress],
            }
            await websocket.send_json(payload)
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
    """Read (and ignore) what the client sends, to notice when it goes away."""
    while True:
        message = await websocket.receive()
        if message.get("type") == "websocket.disconnect":
            return


def _utc_clock() -> datetime:
    return datetime.now(UTC)
