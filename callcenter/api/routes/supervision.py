"""Listen / whisper / barge on an operator's call (the wallboard's buttons)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from callcenter.acd.supervision import SpyMode, SpyUnavailable, SupervisionService
from callcenter.api.deps import PlatformDep, SupervisorDep
from callcenter.api.routes.acd import AcdDep, operator_extension
from callcenter.api.routes.call_control import CallControlRoute, pbx_client
from callcenter.api.workstation import ERROR_RESPONSES, ActorDep, ErrorOut
from callcenter.pbx.ami_errors import AmiError
from callcenter.workstation.call_control import PbxUnavailable, _pbx_error

router = APIRouter(
    prefix="/api/v1/supervisor",
    tags=["acd"],
    route_class=CallControlRoute,
    responses={
        **ERROR_RESPONSES,
        status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ErrorOut, "description": "No AMI link"},
        status.HTTP_504_GATEWAY_TIMEOUT: {"model": ErrorOut, "description": "Asterisk silent"},
    },
)


class SpyIn(BaseModel):
    operator_id: int
    mode: SpyMode = Field(
        description="listen: only hear; whisper: the operator hears you; barge: both hear you"
    )
    phone: str = Field(
        min_length=2, max_length=8, description="your own extension: the PBX rings it first"
    )

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"operator_id": 1, "mode": "whisper", "phone": "150"}]}
    )


class SpyOut(BaseModel):
    channel_id: str
    channel: str = Field(description="your phone, rung now")
    context: str
    exten: str
    mode: SpyMode
    operator_extension: str


def get_supervision(platform: PlatformDep) -> SupervisionService:
    return SupervisionService(pbx_client(platform))


@router.post(
    "/spy",
    response_model=SpyOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Listen to, whisper to or barge in on an operator's call (ChanSpy)",
)
async def spy(
    body: SpyIn,
    actor: ActorDep,
    _sup: SupervisorDep,
    acd: AcdDep,
    service: Annotated[SupervisionService, Depends(get_supervision)],
) -> SpyOut:
    extension = operator_extension(acd, body.operator_id)
    try:
        session = await service.spy(
            actor, operator_extension=extension, mode=body.mode, phone=body.phone
        )
    except SpyUnavailable as exc:
        raise PbxUnavailable(exc.message) from None
    except AmiError as exc:
        raise _pbx_error("Originate", exc) from exc
    return SpyOut(
        channel_id=session.channel_id,
        channel=session.phone_channel,
        context=session.context,
        exten=session.exten,
        mode=session.mode,
        operator_extension=session.operator_extension,
    )
