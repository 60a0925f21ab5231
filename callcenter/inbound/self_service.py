"""Self-service of the IVR against the database: who is calling, readings, applications,
outages, amounts owed, callbacks and voice messages.

Each method is one short transaction and returns what the stepper needs (`CallerInfo`, a
`Result` whose fields are already worded for the voice). Appeals registered here (a callback, a
voice message) carry the call's id when its call record exists already, and always its IVR
path and call id in `params`, so the workstation can tie them to the call either way.

A voice message is recorded where the recordings service wants it when the call record exists
(then `VoicemailService` files it as recording + voicemail + appeal, playable by operators), else
under `<recordings>/ivr-voicemail/` with an appeal that names the file.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callcenter.domain import deadlines, phones
from callcenter.domain.appeals import AppealChannel, AppealKind
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.grid_applications import STATUS_TEXT_RU
from callcenter.domain.ivr import (
    ApplicationStatus,
    Balance,
    CallerInfo,
    CreateCallback,
    Digits,
    Outages,
    Result,
    Said,
    SaveReading,
    Spoken,
)
from callcenter.domain.outages import OutageKind
from callcenter.ports.records import Customer, Outage
from callcenter.ports.stores import StoreConflict, Stores, Transactions
from callcenter.speech import numbers_ru

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = ZoneInfo("Europe/Moscow")
_NUMBER_ATTEMPTS = 5
VOICEMAIL_FALLBACK_DIR = "ivr-voicemail"


@dataclass(frozen=True, slots=True)
class CallContext:
    """The call a piece of self-service belongs to.

    `call_ids`: the ids its call record may have, most likely first (the dialplan's CALL_UUID,
    under which the record is published; else the id derived from the Linkedid).
    """

    call_ids: tuple[uuid.UUID, ...]
    caller: CallerInfo
    path: str  # IVR path so far, e.g. "2>1>1"
    started_at: datetime

    @property
    def call_id(self) -> uuid.UUID:
        return self.call_ids[0]


class VoicemailFiler(Protocol):
    """`callcenter.recordings.voicemails.VoicemailService` as far as the IVR uses it."""

    async def save_voicemail(
        self,
        call_id: uuid.UUID,
        *,
        caller_number: str,
        support_line: int | None,
        recorded_at: datetime,
    ) -> Any: ...


class VoicemailPaths(Protocol):
    """`callcenter.recordings.registry.RecordingService` as far as the IVR uses it."""

    def voicemail_path(self, call_id: uuid.UUID, call_started_at: datetime) -> str: ...


@dataclass(frozen=True, slots=True)
class VoicemailTarget:
    path: str  # for RECORD FILE: without ".wav"
    filed: bool  # True: the recordings service files it (the call record exists)
    call_id: uuid.UUID | None  # the call record's id, when it exists


def support_line_of(queue: str) -> int | None:
    """`line2` -> 2: the support line whose operators get a voice message left in that branch."""
    digits = queue.removeprefix("line")
    return int(digits) if digits != queue and digits.isdigit() else None


class IvrSelfService:
    def __init__(
        self,
        sessions: Transactions,
        *,
        clock: Callable[[], datetime],
        recordings_dir: Path,
        local_tz: tzinfo = DEFAULT_TIMEZONE,
        voicemail_paths: VoicemailPaths | None = None,
        voicemails: VoicemailFiler | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._recordings_dir = recordings_dir
        self._local_tz = local_tz
        self._vm_paths = voicemail_paths
        self._vm_filer = voicemails

    def now(self) -> datetime:
        return self._clock()

    # --- who is calling --------------------------------------------------------------------

    async def identify(self, raw_number: str) -> CallerInfo:
        """The caller by their number (ANI): one customer with it is a known caller; a number
        several customers share gives only the locality they have in common."""
        phone = phones.normalise_or_keep(raw_number) if raw_number else ""
        if not phone.startswith("+"):
            return CallerInfo(phone=phone)
        async with self._sessions() as tx:
            customers = await tx.customers.find_by_phone(phone)
        if len(customers) == 1:
            return _caller_of(customers[0], phone)
        localities = {(c.locality_id, c.locality.name if c.locality else None) for c in customers}
        if len(localities) == 1:
            locality_id, name = localities.pop()
            return CallerInfo(phone=phone, locality_id=locality_id, locality_name=name)
        return CallerInfo(phone=phone)

    async def find_account(self, account: str) -> Result:
        async with self._sessions() as tx:
            customer = await tx.customers.find_by_account(account)
        if customer is None:
            return Result(ok=False)
        return Result(ok=True, caller=_caller_of(customer, ""))

    # --- readings, applications, outages, amounts ------------------------------------------

    async def save_reading(self, call: CallContext, request: SaveReading) -> Result:
        async with self._sessions() as tx:
            await tx.meter_readings.add(
                account_number=request.account,
                value=request.value,
                source=request.source,
                taken_at=self.now(),
                customer_id=request.customer_id,
                call_id=await _existing_call(tx, call.call_ids),
            )
            await tx.commit()
        return Result(ok=True)

    async def application_status(self, request: ApplicationStatus) -> Result:
        async with self._sessions() as tx:
            application = await tx.grid_applications.by_number(request.number)
        if application is None:
            return Result(ok=False)
        status = application.status_text_ru or STATUS_TEXT_RU.get(application.status, "")
        updated = application.updated_at.astimezone(self._local_tz).date()
        fields: dict[str, Spoken] = {
            "number": Digits(application.number),
            "status": Said(status.rstrip(". ")),
            "updated": Said(numbers_ru.date_words(updated, with_year=False)),
        }
        return Result(ok=True, fields=tuple(fields.items()))

    async def outages(self, request: Outages) -> Result:
        now = self.now()
        async with self._sessions() as tx:
            if request.locality_id is not None:
                locality = await tx.localities.get(request.locality_id)
            else:
                locality = await tx.localities.get_by_name(request.locality_name or "")
            if locality is None:
                log.warning("IVR outages: no locality %r", request.locality_name)
                return Result(ok=False)
            found = await tx.outages.for_locality(locality.id, at=now)
        tz = _zone(locality.timezone, self._local_tz)
        said = [describe_outage(o, now, tz) for o in found[: request.max_items]]
        rest = len(found) - len(said)
        if rest > 0:
            said.append(f"и ещё {numbers_ru.quantity(rest, _OUTAGE_WORD)}")
        fields: dict[str, Spoken] = {
            "locality": Said(locality.name),
            "count": Said(numbers_ru.quantity(len(found), _OUTAGE_WORD)),
            "outages": Said("; ".join(said)),
        }
        return Result(ok=True, variant="found" if found else "none", fields=tuple(fields.items()))

    async def balance(self, request: Balance) -> Result:
        async with self._sessions() as tx:
            customer = await tx.customers.find_by_account(request.account)
        if customer is None:
            return Result(ok=False)
        owed = Decimal(customer.balance_kopecks) / 100
        fields: dict[str, Spoken] = {
            "amount": Said(numbers_ru.money(abs(owed))),
            "account": Digits(customer.account_number),
        }
        variant = "debt" if customer.balance_kopecks > 0 else "no_debt"
        return Result(ok=True, variant=variant, fields=tuple(fields.items()))

    # --- appeals: callbacks and voice messages ---------------------------------------------

    async def create_callback(self, call: CallContext, request: CreateCallback) -> Result:
        """An appeal to call the customer back within 30 minutes of now (table 7)."""
        now = self.now()
        due = deadlines.initial_deadlines(AppealKind.CALLBACK, now)
        phone = phones.normalise_or_keep(request.phone)
        number = await self._register_appeal(
            call,
            channel=AppealChannel.IVR_CALLBACK,
            kind=AppealKind.CALLBACK,
            at=now,
            text=f"Клиент заказал в IVR обратный звонок на номер {phone}",
            handoff_due_at=due.handoff_due_at,
            answer_due_at=due.answer_due_at,
            params={"callback_phone": phone, "queue": request.queue},
        )
        return Result(ok=True, fields=(("number", Digits(number)),))

    async def voicemail_target(self, call: CallContext) -> VoicemailTarget:
        """Where RECORD FILE should write the message (see the module docstring)."""
        if self._vm_paths is not None and self._vm_filer is not None:
            async with self._sessions() as tx:
                call_id = await _existing_call(tx, call.call_ids)
                row = await tx.calls.get(call_id) if call_id is not None else None
            if row is not None:
                path = self._vm_paths.voicemail_path(row.id, row.started_at)
                return VoicemailTarget(path, True, row.id)
        stamp = self.now().astimezone(UTC)
        relative = f"{VOICEMAIL_FALLBACK_DIR}/{stamp:%Y/%m/%d}/{call.call_id}-{stamp:%H%M%S}"
        return VoicemailTarget(str((self._recordings_dir / relative).absolute()), False, None)

    async def file_voicemail(
        self, call: CallContext, target: VoicemailTarget, *, queue: str, seconds: float
    ) -> Result:
        """The message recorded at `target` becomes an appeal; ok=False when there is none."""
        now = self.now()
        line = support_line_of(queue)
        if target.filed and target.call_id is not None and self._vm_filer is not None:
            saved = await self._vm_filer.save_voicemail(
                target.call_id,
                caller_number=call.caller.phone,
                support_line=line,
                recorded_at=now,
            )
            if saved is None:
                return Result(ok=False)
            return Result(ok=True, fields=(("number", Digits(str(saved.appeal_number))),))
        if seconds <= 0:
            return Result(ok=False)
        due = deadlines.initial_deadlines(AppealKind.QUESTION, now)
        minutes, secs = divmod(round(seconds), 60)
        number = await self._register_appeal(
            call,
            channel=AppealChannel.IVR_VOICEMAIL,
            kind=AppealKind.QUESTION,
            at=now,
            text=(
                f"Голосовое сообщение от {call.caller.phone or 'неизвестного номера'}, "
                f"{minutes} мин {secs} с"
            ),
            handoff_due_at=due.handoff_due_at,
            answer_due_at=due.answer_due_at,
            params={"voicemail_file": f"{target.path}.wav", "support_line": line},
        )
        return Result(ok=True, fields=(("number", Digits(number)),))

    async def _register_appeal(
        self,
        call: CallContext,
        *,
        channel: AppealChannel,
        kind: AppealKind,
        at: datetime,
        text: str,
        handoff_due_at: datetime | None,
        answer_due_at: datetime | None,
        params: dict[str, Any],
    ) -> str:
        """Register the appeal; returns its number. Two registrations racing for the day's
        next number: the loser takes the one after."""
        day = at.astimezone(self._local_tz).date()
        all_params = {"call_uuid": str(call.call_id), "ivr_path": call.path, **params}
        async with self._sessions() as tx:
            call_id = await _existing_call(tx, call.call_ids)
            for _attempt in range(_NUMBER_ATTEMPTS):
                number = await tx.appeals.next_number(day)
                try:
                    async with tx.savepoint():
                        await tx.appeals.create(
                            number=number,
                            channel=channel,
                            kind=kind,
                            created_at=at,
                            text=text,
                            customer_id=call.caller.customer_id,
                            call_id=call_id,
                            handoff_due_at=handoff_due_at,
                            answer_due_at=answer_due_at,
                            params=all_params,
                        )
                except StoreConflict:
                    continue
                await tx.commit()
                return number
        raise RuntimeError("could not allocate an appeal number")


# --- wording ---------------------------------------------------------------------------------

_OUTAGE_WORD = numbers_ru.Unit(
    "n",
    ("отключение", "отключения", "отключению", "отключение", "отключением", "отключении"),
    ("отключения", "отключений", "отключениям", "отключения", "отключениями", "отключениях"),
)


def describe_outage(outage: Outage, now: datetime, tz: tzinfo) -> str:
    """One outage as the voice says it, in the locality's local time."""
    kind = "плановое отключение" if outage.kind is OutageKind.PLANNED else "аварийное отключение"
    start = outage.starts_at.astimezone(tz)
    today = now.astimezone(tz).date()
    words = [kind]
    if start.date() != today:
        words.append(numbers_ru.date_words(start.date(), with_year=False))
    words.append(f"с {numbers_ru.time_words(start.time(), case='g')}")
    if outage.ends_at is None:
        words.append(", время восстановления уточняется")
    else:
        end = outage.ends_at.astimezone(tz)
        until = f"до {numbers_ru.time_words(end.time(), case='g')}"
        if end.date() != start.date():
            until += f" {numbers_ru.date_words(end.date(), case='g', with_year=False)}"
        words.append(until)
    return " ".join(words).replace(" ,", ",")


def _caller_of(customer: Customer, phone: str) -> CallerInfo:
    return CallerInfo(
        phone=phone,
        customer_id=customer.id,
        account=customer.account_number,
        locality_id=customer.locality_id,
        locality_name=customer.locality.name if customer.locality is not None else None,
        social_facility=customer.category is CustomerCategory.SOCIAL_FACILITY,
    )


def _zone(name: str, default: tzinfo) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


async def _existing_call(tx: Stores, call_ids: tuple[uuid.UUID, ...]) -> uuid.UUID | None:
    """The id of the call's record when it exists (the call records service may not have
    written it yet); a link to a missing row would break the foreign key."""
    for call_id in call_ids:
        row = await tx.calls.get(call_id)
        if row is not None:
            return row.id
    return None
