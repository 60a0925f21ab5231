"""Call control from the operator workstation (table 9, functions 1-8): click-to-call, hang up,
blind and attended transfer, hold, conference, the operator's live calls, auto-redial.

Every action goes to Asterisk over AMI (a small Protocol, so tests can use the real AmiClient
against a fake server). Where calls go is decided by the dialplan (asterisk_conf/extensions.conf):

    click-to-call   Originate Channel=<operator's interface> into `outbound`,8XXXXXXXXXX (the
                    context that refuses premium and international numbers, then outbound-dial)
                    or `internal`,<extension> (then internal-dial); ChannelId = a new UUID,
                    which also becomes CALL_UUID (recording name) and the call's linkedid
    transfer        `transfer`,line1|line2|line3|ivr|<extension>|8XXXXXXXXXX (it includes
                    internal and outbound): BlindTransfer of the operator's own leg, Redirect
                    of the caller's leg, Atxfer of the operator's leg for an attended one
    conference      Redirect legs (and Originate invitees through Local/<exten>@<context>)
                    into `conference`,9NN

Object-level rule: an operator acts only on their own legs (channel name of their interface),
on calls the platform's record gives to their interface (the caller's channel is the call's
linkedid), and on calls they originated here; supervisors act on any. Refusals are audited.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from callcenter.calls.records import normalise_interface
from callcenter.common.access import (
    AccessDenied,
    Actor,
    Clock,
    Conflict,
    InvalidInput,
    Sessions,
    UseCases,
    WorkstationError,
)
from callcenter.domain import dialplan, phones
from callcenter.domain.calls import CallRecord
from callcenter.pbx.ami_errors import (
    AmiActionError,
    AmiConnectionLostError,
    AmiError,
    AmiNotConnectedError,
    AmiTimeoutError,
)
from callcenter.pbx.results import ConfbridgeParticipant
from callcenter.ports.records import RedialJobRow

log = logging.getLogger(__name__)

LINE_QUEUES = tuple(dialplan.LINE_QUEUES.values())
MAX_REDIAL_ATTEMPTS = 10

_INTERNAL = re.compile(r"^[1-7]\d{2,3}$")  # extensions.conf [internal]: _[1-7]XX, _[1-7]XXX
_ROOM = re.compile(r"^9\d\d$")  # [conference]: _9XX
# Asterisk channel names and uniqueids: nothing that could smuggle a header line
_CHANNEL = re.compile(r"^[A-Za-z0-9/@._;:+\-]{1,128}$")


class CallControlPbx(Protocol):
    """The AMI actions call control needs (AmiClient has them all)."""

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

    async def redirect(
        self, channel: str, context: str, exten: str, priority: int = 1
    ) -> object: ...

    async def blind_transfer(self, channel: str, context: str, exten: str) -> object: ...

    async def atxfer(self, channel: str, exten: str, context: str | None = None) -> object: ...

    async def hangup(self, channel: str, cause: int | None = None) -> object: ...

    async def confbridge_list(self, conference: str) -> tuple[ConfbridgeParticipant, ...]: ...

    async def confbridge_kick(self, conference: str, channel: str) -> object: ...

    async def confbridge_mute(self, conference: str, channel: str) -> object: ...

    async def confbridge_unmute(self, conference: str, channel: str) -> object: ...


# ------------------------------------------------------------------------------ errors


class PbxRefused(Conflict):
    """Asterisk answered `Response: Error`: the message carries Asterisk's own text."""


class PbxUnavailable(WorkstationError):
    """No AMI link: nothing was sent."""


class PbxTimeout(WorkstationError):
    """No answer from Asterisk in time: the action may or may not have run."""


class NotAvailable(WorkstationError):
    """The dialplan has no way to do this (e.g. hold music via AMI)."""


def _pbx_error(action: str, exc: AmiError) -> WorkstationError:
    if isinstance(exc, AmiActionError):
        return PbxRefused(f"АТС отклонила команду {action}: {exc.message}")
    if isinstance(exc, AmiNotConnectedError):
        return PbxUnavailable("Нет связи с АТС: команда не отправлена, повторите позже")
    if isinstance(exc, AmiTimeoutError | AmiConnectionLostError):
        return PbxTimeout(
            f"АТС не ответила на команду {action} вовремя; проверьте состояние вызова"
        )
    return PbxUnavailable(f"Ошибка связи с АТС: {exc}")


# ------------------------------------------------------------------------------ values


class TargetKind(StrEnum):
    OPERATOR = "operator"  # another operator or an employee: an internal extension
    LINE = "line"  # a support line's queue
    IVR = "ivr"  # back to the voice menu
    EXTERNAL = "external"  # a public number


@dataclass(frozen=True, slots=True)
class Destination:
    context: str
    exten: str
    number: str  # as shown to people: E.164 or the extension


@dataclass(frozen=True, slots=True)
class Dialled:
    channel_id: str
    channel: str
    destination: Destination


class RedialStatus(StrEnum):
    RUNNING = "running"
    ANSWERED = "answered"
    EXHAUSTED = "exhausted"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(slots=True)
class RedialJob:
    id: uuid.UUID
    operator_id: int
    user_id: int
    number: str
    attempts: int
    interval_seconds: float
    made: int = 0
    status: RedialStatus = RedialStatus.RUNNING
    channel_ids: list[str] = field(default_factory=list)
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    node: str | None = None  # the telephony node that makes the attempts (None: any)


# a new or cancelled redial job: telephony nodes LISTEN and look at the table at once
REDIAL_CHANNEL = "cc_redials"


def redial_job(row: RedialJobRow) -> RedialJob:
    return RedialJob(
        id=row.id,
        operator_id=row.operator_id,
        user_id=row.user_id,
        number=row.number,
        attempts=row.attempts,
        interval_seconds=row.interval_seconds,
        made=row.made,
        status=RedialStatus(row.status),
        channel_ids=list(row.channel_ids or []),
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
        node=row.node,
    )


def external_exten(raw: str) -> tuple[str, str]:
    """(E.164 number, the `outbound` extension 8XXXXXXXXXX) of a number we may call out to."""
    try:
        number = phones.dialable(raw)
    except phones.InvalidPhoneNumber as exc:
        raise InvalidInput(str(exc)) from None
    return number, "8" + number[2:]


def destination_for_dial(raw: str) -> Destination:
    text = raw.strip()
    if _INTERNAL.fullmatch(text):
        return Destination(dialplan.INTERNAL_CONTEXT, text, text)
    number, exten = external_exten(text)
    return Destination(dialplan.OUTBOUND_CONTEXT, exten, number)


def destination_for_transfer(kind: TargetKind, target: str) -> Destination:
    text = target.strip()
    match kind:
        case TargetKind.OPERATOR:
            if not _INTERNAL.fullmatch(text):
                raise InvalidInput(f"«{target}» не внутренний номер (три или четыре цифры, 1-7…)")
            return Destination(dialplan.TRANSFER_CONTEXT, text, text)
        case TargetKind.LINE:
            by_number = {str(line): name for line, name in dialplan.LINE_QUEUES.items()}
            queue = text if text in LINE_QUEUES else by_number.get(text, "")
            if queue not in LINE_QUEUES:
                raise InvalidInput(f"Нет линии «{target}»: допустимы 1, 2, 3")
            return Destination(dialplan.TRANSFER_CONTEXT, queue, queue)
        case TargetKind.IVR:
            return Destination(dialplan.TRANSFER_CONTEXT, dialplan.IVR_EXTEN, dialplan.IVR_EXTEN)
        case TargetKind.EXTERNAL:
            number, exten = external_exten(text)
            return Destination(dialplan.TRANSFER_CONTEXT, exten, number)


def check_channel(channel: str) -> str:
    value = channel.strip()
    if not _CHANNEL.fullmatch(value):
        raise InvalidInput(f"«{channel}» не похоже на имя канала Asterisk")
    return value


def check_room(room: str) -> str:
    value = room.strip()
    if not _ROOM.fullmatch(value):
        raise InvalidInput(f"Комната конференции «{room}» должна быть номером 900-999")
    return value


def operator_interfaces(interface: str | None, extension: str | None) -> frozenset[str]:
    """Every normalised name an operator's calls may carry: the configured interface, and for
    extension 101 both PJSIP/101 (the phone) and Local/101@agents (the queue member that
    [agents] turns into PJSIP/101)."""
    names = {normalise_interface(interface)} if interface else set()
    if extension:
        names |= {f"pjsip/{extension}", f"local/{extension}@agents"}
    return frozenset(names)


class Originated:
    """The channels each operator originated here (in memory: they live as long as calls)."""

    def __init__(self, limit: int = 200) -> None:
        self._by_operator: dict[int, list[str]] = {}
        self._limit = limit

    def add(self, operator_id: int, channel_id: str) -> None:
        ids = self._by_operator.setdefault(operator_id, [])
        ids.append(channel_id)
        del ids[: max(0, len(ids) - self._limit)]

    def owned(self, operator_id: int) -> frozenset[str]:
        return frozenset(self._by_operator.get(operator_id, ()))


class CallControlState:
    """What outlives a request: the channels operators originated here. (Auto-redial jobs
    are rows in the database, carried out by `RedialRunner` on a telephony node.)"""

    def __init__(self) -> None:
        self.originated = Originated()

    async def close(self) -> None:
        return None


async def originate_call(
    client: CallControlPbx, device: str, interface: str | None, destination: Destination
) -> Dialled:
    """Ring the operator's phone `device`, then `destination` (click-to-call, auto-redial)."""
    channel_id = str(uuid.uuid4())
    try:
        await client.originate(
            device,
            context=destination.context,
            exten=destination.exten,
            priority=1,
            channel_id=channel_id,
            # the operator's phone shows whom it is about to call
            caller_id_number=destination.number,
            variables={
                "CALL_UUID": channel_id,
                # the call record: whose call it is and whom it is to (not the phone's
                # caller ID, which shows the callee on the operator's display)
                "DIAL_OPERATOR": interface or device,
                "DIAL_NUMBER": destination.number,
            },
        )
    except AmiError as exc:
        raise _pbx_error("Originate", exc) from exc
    return Dialled(channel_id, device, destination)


LiveCalls = Callable[[], list[CallRecord]]
CallLookup = Callable[[str], CallRecord | None]


@dataclass(frozen=True, slots=True)
class _Me:
    operator_id: int | None
    interface: str | None  # normalised
    extension: str | None
    device: str | None = None  # the interface as configured, e.g. PJSIP/101

    @property
    def names(self) -> frozenset[str]:
        return operator_interfaces(self.interface, self.extension)


class CallControlService(UseCases):
    def __init__(
        self,
        sessions: Sessions,
        *,
        clock: Clock,
        pbx: CallControlPbx | None,
        state: CallControlState,
        live_calls: LiveCalls | None = None,
        call_lookup: CallLookup | None = None,
        hold_target: tuple[str, str] | None = None,
        redial_node: Callable[[int], str | None] | None = None,
        on_redial: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(sessions, clock=clock)
        # which telephony node makes an operator's redial attempts (None: any node)
        self._redial_node = redial_node
        # wakes a redial runner in this very process (NOTIFY reaches the others)
        self._on_redial = on_redial
        self._pbx = pbx
        self._state = state
        self._live_calls = live_calls
        self._call_lookup = call_lookup
        # (context, exten) of a music-on-hold extension; extensions.conf has none yet
        self._hold_target = hold_target

    # ------------------------------------------------------------------ helpers

    def _client(self) -> CallControlPbx:
        if self._pbx is None:
            raise PbxUnavailable("АТС не подключена: управление вызовами недоступно")
        return self._pbx

    async def _me(self, actor: Actor) -> _Me:
        if actor.operator_id is None:
            return _Me(None, None, None)
        async with self._sessions() as tx:
            operator = await tx.operators.get(actor.operator_id)
        if operator is None:
            return _Me(actor.operator_id, None, None)
        return _Me(
            operator.id,
            normalise_interface(operator.interface),
            operator.extension,
            operator.interface,
        )

    def _open_calls(self) -> list[CallRecord]:
        return self._live_calls() if self._live_calls is not None else []

    def _owns(self, me: _Me, channel: str) -> bool:
        lowered = channel.lower()
        if me.operator_id is not None and channel in self._state.originated.owned(me.operator_id):
            return True
        if any(lowered.startswith(name + "-") for name in me.names):
            return True  # the operator's own leg, e.g. PJSIP/101-0000000a
        return any(
            record.linkedid == channel and self._given_to(me, record)
            for record in self._open_calls()
        )

    @staticmethod
    def _given_to(me: _Me, record: CallRecord) -> bool:
        return (
            record.operator_interface is not None
            and normalise_interface(record.operator_interface) in me.names
        )

    def _is_own_leg(self, me: _Me, channel: str) -> bool:
        if me.operator_id is not None and channel in self._state.originated.owned(me.operator_id):
            return True  # the channel we originated is the operator's phone
        return any(channel.lower().startswith(name + "-") for name in me.names)

    async def _authorise(self, actor: Actor, me: _Me, channel: str, action: str) -> None:
        if actor.is_supervisor or self._owns(me, channel):
            return
        async with self.transaction(actor):
            raise AccessDenied(
                "Вызов не найден среди ваших",
                action=action,
                object_type="call",
                object_id=channel,
                hidden=True,  # another operator's call: not even whether it exists
            )

    async def _record(
        self, actor: Actor, action: str, object_id: str, details: Mapping[str, object]
    ) -> None:
        async with self.transaction(actor) as tx:
            await self.audit(
                tx, actor, action, object_type="call", object_id=object_id, details=details
            )

    # ------------------------------------------------------------------ click-to-call

    async def dial(self, actor: Actor, number: str) -> Dialled:
        me = await self._me(actor)
        if me.operator_id is None or me.interface is None:
            raise InvalidInput("Учётная запись не привязана к оператору: звонить не с чего")
        destination = destination_for_dial(number)
        dialled = await self._originate(me, destination)
        await self._record(
            actor,
            "call.dial",
            dialled.channel_id,
            {"number": destination.number, "context": destination.context},
        )
        return dialled

    async def _originate(self, me: _Me, destination: Destination) -> Dialled:
        client = self._client()
        if me.operator_id is None or me.device is None:
            raise InvalidInput("Учётная запись не привязана к оператору: звонить не с чего")
        dialled = await originate_call(client, me.device, me.interface, destination)
        self._state.originated.add(me.operator_id, dialled.channel_id)
        return dialled

    # ------------------------------------------------------------------ hang up

    async def hangup(self, actor: Actor, channel: str) -> None:
        channel = check_channel(channel)
        me = await self._me(actor)
        await self._authorise(actor, me, channel, "call.hangup")
        try:
            await self._client().hangup(channel)
        except AmiError as exc:
            raise _pbx_error("Hangup", exc) from exc
        await self._record(actor, "call.hangup", channel, {})

    # ------------------------------------------------------------------ transfer

    async def transfer(
        self, actor: Actor, channel: str, kind: TargetKind, target: str, *, attended: bool
    ) -> Destination:
        channel = check_channel(channel)
        destination = destination_for_transfer(kind, target)
        me = await self._me(actor)
        await self._authorise(actor, me, channel, "call.transfer")
        client = self._client()
        own_leg = self._is_own_leg(me, channel)
        try:
            if attended:
                if not own_leg and not actor.is_supervisor:
                    raise InvalidInput(
                        "Консультационный перевод начинается с вашего канала, не канала абонента"
                    )
                how = "Atxfer"
                await client.atxfer(channel, destination.exten, destination.context)
            elif own_leg:
                how = "BlindTransfer"  # the other party goes, the operator's leg is freed
                await client.blind_transfer(channel, destination.context, destination.exten)
            else:
                how = "Redirect"  # the caller's own channel is moved
                await client.redirect(channel, destination.context, destination.exten, 1)
        except AmiError as exc:
            raise _pbx_error(how, exc) from exc
        await self._record(
            actor,
            "call.transfer",
            channel,
            {"kind": kind.value, "target": destination.number, "how": how},
        )
        return destination

    # ------------------------------------------------------------------ hold

    async def hold(self, actor: Actor, channel: str, *, on: bool) -> None:
        channel = check_channel(channel)
        me = await self._me(actor)
        await self._authorise(actor, me, channel, "call.hold" if on else "call.unhold")
        if self._hold_target is None:
            raise NotAvailable(
                "Отдельного удержания через АРМ нет: в плане набора нет добавочного с музыкой "
                "ожидания. Для консультации с коллегой используйте консультационный перевод "
                "(attended: true) — абонент слышит музыку, пока вы говорите; или нажмите "
                "«Удержание» на телефоне — АТС включит музыку сама"
            )
        if on:
            context, exten = self._hold_target
        else:
            if me.extension is None:
                raise InvalidInput("Учётная запись не привязана к оператору: вернуть вызов некуда")
            context, exten = dialplan.TRANSFER_CONTEXT, me.extension
        try:
            await self._client().redirect(channel, context, exten, 1)
        except AmiError as exc:
            raise _pbx_error("Redirect", exc) from exc
        await self._record(actor, "call.hold" if on else "call.unhold", channel, {})

    # ------------------------------------------------------------------ conference

    async def conference(
        self, actor: Actor, room: str, channels: list[str], invite: list[str]
    ) -> list[Dialled]:
        room = check_room(room)
        names = [check_channel(c) for c in channels]
        if len(names) + len(invite) < 2:
            raise InvalidInput("Для конференции нужно хотя бы два участника кроме комнаты")
        me = await self._me(actor)
        for name in names:
            await self._authorise(actor, me, name, "conference.join")
        client = self._client()
        destinations = [destination_for_dial(n) for n in invite]
        invited: list[Dialled] = []
        try:
            for name in names:
                await client.redirect(name, dialplan.CONFERENCE_CONTEXT, room, 1)
            for destination in destinations:
                channel_id = str(uuid.uuid4())
                local = f"Local/{destination.exten}@{destination.context}"
                await client.originate(
                    local,
                    context=dialplan.CONFERENCE_CONTEXT,
                    exten=room,
                    priority=1,
                    channel_id=channel_id,
                    variables={"CALL_UUID": channel_id},
                )
                if me.operator_id is not None:
                    self._state.originated.add(me.operator_id, channel_id)
                invited.append(Dialled(channel_id, local, destination))
        except AmiError as exc:
            raise _pbx_error("Redirect/Originate", exc) from exc
        await self._record(
            actor,
            "conference.create",
            room,
            {"channels": names, "invited": [d.destination.number for d in invited]},
        )
        return invited

    async def participants(self, actor: Actor, room: str) -> list[ConfbridgeParticipant]:
        room = check_room(room)
        try:
            rows = await self._client().confbridge_list(room)
        except AmiActionError as exc:
            text = exc.message.lower()
            if "no active conference" in text or "no conference by that name" in text:
                return []  # app_confbridge's answers for a room nobody is in
            raise _pbx_error("ConfbridgeList", exc) from exc
        except AmiError as exc:
            raise _pbx_error("ConfbridgeList", exc) from exc
        return list(rows)

    async def moderate(self, actor: Actor, room: str, channel: str, *, action: str) -> None:
        """`action`: kick, mute or unmute; the operator must be in the room (or a supervisor)."""
        room = check_room(room)
        channel = check_channel(channel)
        me = await self._me(actor)
        if not actor.is_supervisor:
            rows = await self.participants(actor, room)
            if not any(self._is_own_leg(me, r.channel) or self._owns(me, r.uniqueid) for r in rows):
                async with self.transaction(actor):
                    raise AccessDenied(
                        "Вы не участник этой конференции",
                        action=f"conference.{action}",
                        object_type="conference",
                        object_id=room,
                    )
        client = self._client()
        try:
            match action:
                case "kick":
                    await client.confbridge_kick(room, channel)
                case "mute":
                    await client.confbridge_mute(room, channel)
                case "unmute":
                    await client.confbridge_unmute(room, channel)
                case _:
                    raise InvalidInput(f"Неизвестное действие «{action}»")
        except AmiError as exc:
            raise _pbx_error(f"Confbridge {action}", exc) from exc
        await self._record(actor, f"conference.{action}", room, {"channel": channel})

    # ------------------------------------------------------------------ live calls

    async def live(self, actor: Actor) -> list[CallRecord]:
        """The operator's calls in progress (supervisors: every call in progress)."""
        calls = self._open_calls()
        if actor.is_supervisor and actor.operator_id is None:
            return calls
        me = await self._me(actor)
        mine = self._state.originated.owned(me.operator_id) if me.operator_id else frozenset()
        return [c for c in calls if c.linkedid in mine or self._given_to(me, c)]

    # ------------------------------------------------------------------ auto-redial

    async def start_redial(
        self, actor: Actor, number: str, *, attempts: int, interval_seconds: float
    ) -> RedialJob:
        """Store the job; a telephony node's `RedialRunner` makes the attempts, so the job
        outlives this process, the node that started it and a restart."""
        me = await self._me(actor)
        if me.operator_id is None or me.interface is None or me.device is None:
            raise InvalidInput("Учётная запись не привязана к оператору: звонить не с чего")
        if not 1 <= attempts <= MAX_REDIAL_ATTEMPTS:
            raise InvalidInput(f"Попыток может быть от 1 до {MAX_REDIAL_ATTEMPTS}")
        destination = destination_for_dial(number)
        self._client()
        now = self.now()
        node = self._redial_node(me.operator_id) if self._redial_node is not None else None
        async with self.transaction(actor) as tx:
            if await tx.cluster.running_redial_of(me.operator_id) is not None:
                raise Conflict("Автодозвон уже идёт: остановите его, прежде чем начать новый")
            row = await tx.cluster.add_redial(
                {
                    "id": uuid.uuid4(),
                    "node": node,
                    "operator_id": me.operator_id,
                    "user_id": actor.user_id,
                    "number": destination.number,
                    "context": destination.context,
                    "exten": destination.exten,
                    "device": me.device,
                    "interface": me.interface,
                    "attempts": attempts,
                    "interval_seconds": interval_seconds,
                    "made": 0,
                    "status": RedialStatus.RUNNING.value,
                    "channel_ids": [],
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            job = redial_job(row)
            await self.audit(
                tx,
                actor,
                "call.redial",
                object_type="call",
                object_id=str(job.id),
                details={
                    "number": destination.number,
                    "attempts": attempts,
                    "interval": interval_seconds,
                },
            )
            await tx.cluster.notify(REDIAL_CHANNEL, node or "")
        if self._on_redial is not None:
            self._on_redial()
        return job

    async def redials(self, actor: Actor) -> list[RedialJob]:
        async with self._sessions() as tx:
            rows = await tx.cluster.redials_of(
                user_id=None if actor.is_supervisor else actor.user_id
            )
            return [redial_job(r) for r in rows]

    async def cancel_redial(self, actor: Actor, job_id: uuid.UUID) -> RedialJob:
        async with self.transaction(actor) as tx:
            row = await tx.cluster.get_redial(job_id)
            if row is None or (row.user_id != actor.user_id and not actor.is_supervisor):
                raise AccessDenied(
                    "Автодозвон не найден",
                    action="call.redial.cancel",
                    object_type="redial",
                    object_id=str(job_id),
                    hidden=True,
                )
            job = redial_job(row)
            if job.status is RedialStatus.RUNNING:
                job.status = RedialStatus.CANCELLED
                await tx.cluster.update_redial(
                    job_id, {"status": job.status.value, "updated_at": self.now()}
                )
                await self.audit(
                    tx,
                    actor,
                    "call.redial.cancel",
                    object_type="call",
                    object_id=str(job_id),
                    details={},
                )
        return job
