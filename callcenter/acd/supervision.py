"""Supervisors listen to an operator's call, whisper to the operator, or barge in.

The platform rings the supervisor's own phone (AMI Originate) into the shipped dialplan's
`[supervisor]` context: `*1<ext>` listen only, `*2<ext>` whisper (only the operator hears the
supervisor), `*3<ext>` barge (both hear); there `ChanSpy(PJSIP/<ext>-,...)` does the rest
(asterisk_conf/extensions.conf). The PBX is a port: the AMI client in production, the
simulator's in tests.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from callcenter.common.access import (
    AccessDenied,
    Actor,
    InvalidInput,
    NotFound,
    WorkstationError,
)

log = logging.getLogger(__name__)

SUPERVISOR_CONTEXT = "supervisor"
_PHONE = re.compile(r"^\d{2,8}$")


class SpyMode(StrEnum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


# the feature code of each mode in the [supervisor] context
FEATURE_CODES = {SpyMode.LISTEN: "*1", SpyMode.WHISPER: "*2", SpyMode.BARGE: "*3"}


class SpyPbx(Protocol):
    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        exten: str | None = None,
        priority: int | None = None,
        channel_id: str | None = None,
        caller_id_name: str | None = None,
        caller_id_number: str | None = None,
        variables: Mapping[str, object] | None = None,
    ) -> object: ...


class SpyUnavailable(WorkstationError):
    """No PBX link to ring the supervisor's phone."""


@dataclass(frozen=True, slots=True)
class SpySession:
    channel_id: str
    phone_channel: str
    context: str
    exten: str
    mode: SpyMode
    operator_extension: str


class SupervisionService:
    def __init__(self, pbx: SpyPbx | None, *, technology: str = "PJSIP") -> None:
        self._pbx = pbx
        self._technology = technology

    async def spy(
        self,
        actor: Actor,
        *,
        operator_extension: str | None,
        mode: SpyMode,
        phone: str,
    ) -> SpySession:
        """Ring `phone` (the supervisor's extension); when it answers it hears the operator's
        call in `mode`."""
        if not actor.is_supervisor:
            raise AccessDenied(
                "Прослушивание разговоров доступно только руководителям",
                action="call.spy",
                object_type="operator",
                object_id=operator_extension or "",
            )
        if operator_extension is None:
            raise NotFound("Нет такого оператора")
        phone = phone.strip()
        if not _PHONE.match(phone):
            raise InvalidInput("Телефон руководителя — добавочный номер из цифр")
        if phone == operator_extension:
            raise InvalidInput("Нельзя прослушивать оператора с его же телефона")
        if self._pbx is None:
            raise SpyUnavailable("Нет связи с АТС: прослушивание не начато")
        channel = f"{self._technology}/{phone}"
        exten = f"{FEATURE_CODES[mode]}{operator_extension}"
        channel_id = str(uuid.uuid4())
        await self._pbx.originate(
            channel,
            context=SUPERVISOR_CONTEXT,
            exten=exten,
            priority=1,
            channel_id=channel_id,
            caller_id_name=f"Контроль {operator_extension}",
            caller_id_number=operator_extension,
        )
        log.info(
            "supervisor %s: %s of operator %s on %s", actor.user_id, mode, operator_extension, phone
        )
        return SpySession(channel_id, channel, SUPERVISOR_CONTEXT, exten, mode, operator_extension)
