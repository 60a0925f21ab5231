"""The operator's own calls (table 9, functions 11, 12 and 21): history by kind, recent missed
calls with whether the number is in an address book, and today's statistics of received
calls. Everything here is about the signed-in operator only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from callcenter.common.access import (
    Actor,
    Clock,
    InvalidInput,
    Sessions,
    UseCases,
    require_operator,
)
from callcenter.domain import phones
from callcenter.domain.calls import Direction
from callcenter.ports.queries import HistoryEntry, HistoryKind
from callcenter.ports.records import Call
from callcenter.workstation.address_book import AddressBookService, BookEntry
from callcenter.workstation.appeals import DEFAULT_TIMEZONE

MISSED_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class MissedCall:
    call: Call
    number: str  # normalised (E.164 or extension), ready to dial back
    contact: BookEntry | None


@dataclass(frozen=True, slots=True)
class CallStats:
    day: date
    received: int  # inbound calls that reached the operator: answered + missed
    answered: int
    missed: int
    total_talk_seconds: float
    average_talk_seconds: float | None
    average_wait_seconds: float | None


def other_party(call: Call) -> str:
    """The number to call back: the caller of an inbound call, the called party otherwise."""
    if call.direction is Direction.OUTBOUND and call.dialled_number:
        return call.dialled_number
    return call.caller_number


class CallHistoryService(UseCases):
    def __init__(
        self,
        sessions: Sessions,
        *,
        clock: Clock,
        address_book: AddressBookService,
        local_tz: tzinfo = DEFAULT_TIMEZONE,
    ) -> None:
        super().__init__(sessions, clock=clock)
        self._book = address_book
        # "today" for the statistics is the operator's local day
        self._local_tz = local_tz

    async def calls(
        self,
        actor: Actor,
        *,
        kind: HistoryKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[HistoryEntry]:
        operator_id = require_operator(actor)
        if since is not None and until is not None and since >= until:
            raise InvalidInput("Начало периода должно быть раньше конца")
        async with self._sessions() as tx:
            return await tx.call_history.history(
                operator_id,
                kind=kind,
                since=since,
                until=until,
                limit=limit,
                offset=offset,
            )

    async def missed(self, actor: Actor, *, limit: int = 20) -> list[MissedCall]:
        """Missed calls of the last week, newest first, with their address-book entries."""
        operator_id = require_operator(actor)
        since = self.now() - MISSED_WINDOW
        async with self._sessions() as tx:
            entries = await tx.call_history.history(
                operator_id, kind=HistoryKind.MISSED, since=since, limit=limit
            )
            numbers = [phones.normalise_or_keep(e.call.caller_number) for e in entries]
            found = await self._book.find_numbers(tx, actor.user_id, numbers)
        return [
            MissedCall(call=e.call, number=number, contact=found.get(number))
            for e, number in zip(entries, numbers, strict=True)
        ]

    async def stats_today(self, actor: Actor) -> CallStats:
        operator_id = require_operator(actor)
        today = self.now().astimezone(self._local_tz).date()
        since = datetime.combine(today, time(0), tzinfo=self._local_tz)
        until = datetime.combine(today + timedelta(days=1), time(0), tzinfo=self._local_tz)
        async with self._sessions() as tx:
            entries = await tx.call_history.received(operator_id, since=since, until=until)
        answered = [e.call for e in entries if e.kind is HistoryKind.INBOUND]
        talks = [c.talk_seconds for c in answered if c.talk_seconds is not None]
        waits = [c.wait_seconds for c in answered if c.wait_seconds is not None]
        return CallStats(
            day=today,
            received=len(entries),
            answered=len(answered),
            missed=len(entries) - len(answered),
            total_talk_seconds=round(sum(talks), 1),
            average_talk_seconds=round(sum(talks) / len(talks), 1) if talks else None,
            average_wait_seconds=round(sum(waits) / len(waits), 1) if waits else None,
        )
