# Generated from callcenter/db/repositories by scripts/gen_stores.py: run `make stores`.
"""The stores of `callcenter.ports.stores` on an SQLAlchemy session."""

from __future__ import annotations

import functools
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, Unpack, cast

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db import models as m
from callcenter.db.repositories import (
    address_book,
    appeal_search,
    appeals,
    audit,
    call_history,
    calls,
    campaigns,
    cluster,
    customers,
    grid_applications,
    knowledge_base,
    localities,
    meter_readings,
    notify_jobs,
    operator_states,
    operators,
    outages,
    queues,
    recordings,
    reminders,
    scripts,
    surveys,
    telephony_events,
    users,
    voicemails,
)
from callcenter.domain.agents import OperatorState
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus
from callcenter.domain.call_legs import LegRole
from callcenter.domain.campaigns import AttemptOutcome, CampaignStatus
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.meter_readings import ReadingSource
from callcenter.domain.notify import (
    CampaignForSend,
    Channel,
    ChannelProgress,
    Claimed,
    ContactRow,
    DeliveryRow,
    DeliveryStatus,
    ExpansionJob,
    JobView,
    NewDelivery,
    Outcome,
    ReportResult,
    ReportStatus,
)
from callcenter.domain.outages import OutageKind
from callcenter.domain.queues import QueueStrategy
from callcenter.domain.recordings import RecordingAction, RecordingState
from callcenter.domain.reminders import ReminderKind
from callcenter.domain.roles import Role
from callcenter.domain.telephony_events import EventSource
from callcenter.domain.transfers import TransferKind
from callcenter.ports.queries import (
    AppealFilter,
    AppealScope,
    AttemptTotals,
    CallFields,
    CallFilter,
    ContactProgress,
    DueContact,
    HistoryEntry,
    HistoryKind,
    KbHit,
    LegFields,
    NewContact,
    NewQuestion,
    RecordingFilter,
    RecordingListItem,
    RecordingScope,
)
from callcenter.ports.records import (
    Appeal,
    CallScript,
    Campaign,
    CorporateContact,
    KbArticle,
    PersonalContact,
    Queue,
    Reminder,
    Voicemail,
)
from callcenter.ports.stores import StoreConflict, Stores, StoreUnavailable, Transactions

_P = ParamSpec("_P")
_R = TypeVar("_R")


class SqlConflict(IntegrityError, StoreConflict):
    """An IntegrityError seen through the port: both names catch it."""


@contextmanager
def _translating() -> Iterator[None]:
    try:
        yield
    except StoreConflict:
        raise
    except IntegrityError as exc:
        raise SqlConflict(exc.statement, exc.params, exc.orig or exc) from exc
    except (SQLAlchemyError, OSError) as exc:  # asyncpg reports a refused connection as OSError
        raise StoreUnavailable(str(exc)) from exc


def _translated(
    method: Callable[_P, Awaitable[_R]],
) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Database errors leave a store as the port's errors (StoreConflict, StoreUnavailable)."""

    @functools.wraps(method)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _translating():
            return await method(*args, **kwargs)

    return wrapper


class SqlAddressBookStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def corporate_all(self) -> list[m.CorporateContact]:
        return await address_book.corporate_all(self._session)

    @_translated
    async def corporate_get(self, contact_id: int) -> m.CorporateContact | None:
        return await address_book.corporate_get(self._session, contact_id)

    @_translated
    async def corporate_create(
        self,
        *,
        name: str,
        department: str = "",
        position: str = "",
        phone: str | None = None,
        extension: str | None = None,
        email: str | None = None,
    ) -> m.CorporateContact:
        return await address_book.corporate_create(
            self._session,
            name=name,
            department=department,
            position=position,
            phone=phone,
            extension=extension,
            email=email,
        )

    @_translated
    async def corporate_delete(self, contact: CorporateContact) -> None:
        return await address_book.corporate_delete(
            self._session, cast("m.CorporateContact", contact)
        )

    @_translated
    async def corporate_by_phones(self, numbers: Collection[str]) -> list[m.CorporateContact]:
        return await address_book.corporate_by_phones(self._session, numbers)

    @_translated
    async def personal_get(self, contact_id: int) -> m.PersonalContact | None:
        return await address_book.personal_get(self._session, contact_id)

    @_translated
    async def personal_page(
        self, user_id: int, *, limit: int, offset: int
    ) -> list[m.PersonalContact]:
        return await address_book.personal_page(self._session, user_id, limit=limit, offset=offset)

    @_translated
    async def personal_count(self, user_id: int) -> int:
        return await address_book.personal_count(self._session, user_id)

    @_translated
    async def personal_all(self, user_id: int) -> list[m.PersonalContact]:
        return await address_book.personal_all(self._session, user_id)

    @_translated
    async def personal_create(
        self, *, user_id: int, name: str, phone: str, created_at: datetime, note: str = ""
    ) -> m.PersonalContact:
        return await address_book.personal_create(
            self._session, user_id=user_id, name=name, phone=phone, created_at=created_at, note=note
        )

    @_translated
    async def personal_delete(self, contact: PersonalContact) -> None:
        return await address_book.personal_delete(self._session, cast("m.PersonalContact", contact))

    @_translated
    async def personal_by_phones(
        self, user_id: int, numbers: Collection[str]
    ) -> list[m.PersonalContact]:
        return await address_book.personal_by_phones(self._session, user_id, numbers)


class SqlAppealSearchStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def search(self, scope: AppealScope, flt: AppealFilter) -> list[m.Appeal]:
        return await appeal_search.search(self._session, scope, flt)

    @_translated
    async def count(self, scope: AppealScope, flt: AppealFilter) -> int:
        return await appeal_search.count(self._session, scope, flt)

    @_translated
    async def overdue(
        self, scope: AppealScope, now: datetime, *, limit: int = 200
    ) -> list[m.Appeal]:
        return await appeal_search.overdue(self._session, scope, now, limit=limit)

    @_translated
    async def owner_line(self, appeal: Appeal) -> int | None:
        return await appeal_search.owner_line(self._session, cast("m.Appeal", appeal))


class SqlAppealsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, appeal_id: uuid.UUID) -> m.Appeal | None:
        return await appeals.get(self._session, appeal_id)

    @_translated
    async def get_by_number(self, number: str) -> m.Appeal | None:
        return await appeals.get_by_number(self._session, number)

    @_translated
    async def next_number(self, day: date) -> str:
        return await appeals.next_number(self._session, day)

    @_translated
    async def create(
        self,
        *,
        number: str,
        channel: AppealChannel,
        created_at: datetime,
        kind: AppealKind = AppealKind.QUESTION,
        text: str = "",
        customer_id: int | None = None,
        call_id: uuid.UUID | None = None,
        topic_id: int | None = None,
        operator_id: int | None = None,
        handoff_due_at: datetime | None = None,
        answer_due_at: datetime | None = None,
        params: Mapping[str, Any] | None = None,
        registered_by: int | None = None,
    ) -> m.Appeal:
        return await appeals.create(
            self._session,
            number=number,
            channel=channel,
            created_at=created_at,
            kind=kind,
            text=text,
            customer_id=customer_id,
            call_id=call_id,
            topic_id=topic_id,
            operator_id=operator_id,
            handoff_due_at=handoff_due_at,
            answer_due_at=answer_due_at,
            params=params,
            registered_by=registered_by,
        )

    @_translated
    async def change_status(
        self,
        appeal: Appeal,
        to_status: AppealStatus,
        *,
        at: datetime,
        changed_by: int | None = None,
        comment: str = "",
    ) -> m.AppealStatusHistory:
        return await appeals.change_status(
            self._session,
            cast("m.Appeal", appeal),
            to_status,
            at=at,
            changed_by=changed_by,
            comment=comment,
        )

    @_translated
    async def history(self, appeal_id: uuid.UUID) -> list[m.AppealStatusHistory]:
        return await appeals.history(self._session, appeal_id)

    @_translated
    async def list_for_customer(self, customer_id: int, *, limit: int = 20) -> list[m.Appeal]:
        return await appeals.list_for_customer(self._session, customer_id, limit=limit)

    @_translated
    async def open_due_before(self, moment: datetime) -> list[m.Appeal]:
        return await appeals.open_due_before(self._session, moment)

    @_translated
    async def topics(self) -> list[m.AppealTopic]:
        return await appeals.topics(self._session)

    @_translated
    async def topic_by_code(self, code: str) -> m.AppealTopic | None:
        return await appeals.topic_by_code(self._session, code)

    @_translated
    async def add_topic(
        self, *, code: str, name: str, parent_id: int | None = None, is_complaint: bool = False
    ) -> m.AppealTopic:
        return await appeals.add_topic(
            self._session, code=code, name=name, parent_id=parent_id, is_complaint=is_complaint
        )

    @_translated
    async def get_topic(self, topic_id: int) -> m.AppealTopic | None:
        return await appeals.get_topic(self._session, topic_id)


class SqlAuditStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def append(
        self,
        action: str,
        *,
        at: datetime,
        user_id: int | None = None,
        object_type: str = "",
        object_id: str = "",
        details: Mapping[str, Any] | None = None,
        remote_addr: str | None = None,
    ) -> m.AuditLogEntry:
        return await audit.append(
            self._session,
            action,
            at=at,
            user_id=user_id,
            object_type=object_type,
            object_id=object_id,
            details=details,
            remote_addr=remote_addr,
        )

    @_translated
    async def search(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
        action: str | None = None,
        object_type: str | None = None,
        object_id: str | None = None,
        limit: int = 100,
    ) -> list[m.AuditLogEntry]:
        return await audit.search(
            self._session,
            since=since,
            until=until,
            user_id=user_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            limit=limit,
        )


class SqlCallHistoryStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def history(
        self,
        operator_id: int,
        *,
        kind: HistoryKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[HistoryEntry]:
        return await call_history.history(
            self._session,
            operator_id,
            kind=kind,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )

    @_translated
    async def received(
        self, operator_id: int, *, since: datetime, until: datetime
    ) -> list[HistoryEntry]:
        return await call_history.received(self._session, operator_id, since=since, until=until)

    @_translated
    async def involves(self, operator_id: int, call_id: uuid.UUID) -> m.Call | None:
        return await call_history.involves(self._session, operator_id, call_id)


class SqlCallsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, call_id: uuid.UUID) -> m.Call | None:
        return await calls.get(self._session, call_id)

    @_translated
    async def get_by_linkedid(self, linkedid: str) -> m.Call | None:
        return await calls.get_by_linkedid(self._session, linkedid)

    @_translated
    async def search(self, flt: CallFilter | None = None) -> list[m.Call]:
        return await calls.search(self._session, flt)

    @_translated
    async def count(self, flt: CallFilter | None = None) -> int:
        return await calls.count(self._session, flt)

    @_translated
    async def upsert(self, linkedid: str, /, **fields: Unpack[CallFields]) -> m.Call:
        return await calls.upsert(self._session, linkedid, **fields)

    @_translated
    async def upsert_many(self, records: Sequence[tuple[str, CallFields]]) -> None:
        return await calls.upsert_many(self._session, records)

    @_translated
    async def upsert_legs(self, legs: Sequence[LegFields]) -> None:
        return await calls.upsert_legs(self._session, legs)

    @_translated
    async def add_leg(
        self,
        call_id: uuid.UUID,
        *,
        uniqueid: str,
        channel: str,
        role: LegRole,
        started_at: datetime,
        operator_id: int | None = None,
    ) -> m.CallLeg:
        return await calls.add_leg(
            self._session,
            call_id,
            uniqueid=uniqueid,
            channel=channel,
            role=role,
            started_at=started_at,
            operator_id=operator_id,
        )

    @_translated
    async def get_leg(self, uniqueid: str) -> m.CallLeg | None:
        return await calls.get_leg(self._session, uniqueid)

    @_translated
    async def legs(self, call_id: uuid.UUID) -> list[m.CallLeg]:
        return await calls.legs(self._session, call_id)

    @_translated
    async def add_transfer(
        self,
        call_id: uuid.UUID,
        *,
        kind: TransferKind,
        to_target: str,
        at: datetime,
        from_operator_id: int | None = None,
    ) -> m.CallTransfer:
        return await calls.add_transfer(
            self._session,
            call_id,
            kind=kind,
            to_target=to_target,
            at=at,
            from_operator_id=from_operator_id,
        )

    @_translated
    async def transfers(self, call_id: uuid.UUID) -> list[m.CallTransfer]:
        return await calls.transfers(self._session, call_id)

    @_translated
    async def upsert_leg(
        self,
        call_id: uuid.UUID,
        *,
        uniqueid: str,
        channel: str,
        role: LegRole,
        started_at: datetime,
        answered_at: datetime | None,
        ended_at: datetime | None,
        operator_id: int | None,
    ) -> None:
        return await calls.upsert_leg(
            self._session,
            call_id,
            uniqueid=uniqueid,
            channel=channel,
            role=role,
            started_at=started_at,
            answered_at=answered_at,
            ended_at=ended_at,
            operator_id=operator_id,
        )

    @_translated
    async def open_calls(self) -> list[m.Call]:
        return await calls.open_calls(self._session)


class SqlCampaignsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def create_list(self, name: str) -> m.ContactList:
        return await campaigns.create_list(self._session, name)

    @_translated
    async def get_list(self, list_id: int) -> m.ContactList | None:
        return await campaigns.get_list(self._session, list_id)

    @_translated
    async def get_list_by_name(self, name: str) -> m.ContactList | None:
        return await campaigns.get_list_by_name(self._session, name)

    @_translated
    async def lists_with_counts(self) -> list[tuple[m.ContactList, int]]:
        return await campaigns.lists_with_counts(self._session)

    @_translated
    async def existing_phones(self, list_id: int, phones: Iterable[str]) -> set[str]:
        return await campaigns.existing_phones(self._session, list_id, phones)

    @_translated
    async def add_contacts(self, list_id: int, contacts: Sequence[NewContact]) -> int:
        return await campaigns.add_contacts(self._session, list_id, contacts)

    @_translated
    async def count_contacts(self, list_id: int) -> int:
        return await campaigns.count_contacts(self._session, list_id)

    @_translated
    async def list_contacts(
        self, list_id: int, *, limit: int = 100, offset: int = 0
    ) -> list[m.Contact]:
        return await campaigns.list_contacts(self._session, list_id, limit=limit, offset=offset)

    @_translated
    async def get_contact(self, contact_id: int) -> m.Contact | None:
        return await campaigns.get_contact(self._session, contact_id)

    @_translated
    async def add_do_not_call(self, phone: str, reason: str, at: datetime) -> bool:
        return await campaigns.add_do_not_call(self._session, phone, reason, at)

    @_translated
    async def remove_do_not_call(self, phone: str) -> bool:
        return await campaigns.remove_do_not_call(self._session, phone)

    @_translated
    async def list_do_not_call(self, *, limit: int = 100, offset: int = 0) -> list[m.DoNotCall]:
        return await campaigns.list_do_not_call(self._session, limit=limit, offset=offset)

    @_translated
    async def do_not_call_among(self, phones: Iterable[str]) -> set[str]:
        return await campaigns.do_not_call_among(self._session, phones)

    @_translated
    async def create_campaign(self, **values: Any) -> m.Campaign:
        return await campaigns.create_campaign(self._session, **values)

    @_translated
    async def get_campaign(self, campaign_id: int) -> m.Campaign | None:
        return await campaigns.get_campaign(self._session, campaign_id)

    @_translated
    async def get_campaign_for_update(self, campaign_id: int) -> m.Campaign | None:
        return await campaigns.get_campaign_for_update(self._session, campaign_id)

    @_translated
    async def get_campaign_by_name(self, name: str) -> m.Campaign | None:
        return await campaigns.get_campaign_by_name(self._session, name)

    @_translated
    async def list_campaigns(
        self, *, statuses: Iterable[CampaignStatus] | None = None
    ) -> list[m.Campaign]:
        return await campaigns.list_campaigns(self._session, statuses=statuses)

    @_translated
    async def campaigns_due(self, now: datetime) -> list[m.Campaign]:
        return await campaigns.campaigns_due(self._session, now)

    @_translated
    async def set_status(
        self,
        campaign_id: int,
        status: CampaignStatus,
        *,
        expected: Iterable[CampaignStatus] | None = None,
    ) -> bool:
        return await campaigns.set_status(self._session, campaign_id, status, expected=expected)

    @_translated
    async def due_zones(self, campaign: Campaign, now: datetime) -> list[str | None]:
        return await campaigns.due_zones(self._session, cast("m.Campaign", campaign), now)

    @_translated
    async def due_contacts(
        self,
        campaign: Campaign,
        now: datetime,
        *,
        limit: int,
        zones: Sequence[str | None] | None = None,
        exclude: Iterable[int] = (),
    ) -> list[DueContact]:
        return await campaigns.due_contacts(
            self._session,
            cast("m.Campaign", campaign),
            now,
            limit=limit,
            zones=zones,
            exclude=exclude,
        )

    @_translated
    async def create_attempt(
        self, *, campaign_id: int, contact_id: int, attempt_no: int, started_at: datetime
    ) -> m.CallAttempt:
        return await campaigns.create_attempt(
            self._session,
            campaign_id=campaign_id,
            contact_id=contact_id,
            attempt_no=attempt_no,
            started_at=started_at,
        )

    @_translated
    async def delete_attempt(self, attempt_id: int) -> None:
        return await campaigns.delete_attempt(self._session, attempt_id)

    @_translated
    async def get_attempt(self, attempt_id: int) -> m.CallAttempt | None:
        return await campaigns.get_attempt(self._session, attempt_id)

    @_translated
    async def record_answer(
        self,
        attempt_id: int,
        *,
        reason_code: int,
        amd_status: str | None = None,
        amd_cause: str | None = None,
    ) -> None:
        return await campaigns.record_answer(
            self._session,
            attempt_id,
            reason_code=reason_code,
            amd_status=amd_status,
            amd_cause=amd_cause,
        )

    @_translated
    async def finish_attempt(
        self,
        attempt_id: int,
        *,
        outcome: AttemptOutcome,
        ended_at: datetime,
        reason_code: int | None,
        amd_status: str | None = None,
        amd_cause: str | None = None,
        next_attempt_at: datetime | None = None,
        result: str | None = None,
    ) -> bool:
        return await campaigns.finish_attempt(
            self._session,
            attempt_id,
            outcome=outcome,
            ended_at=ended_at,
            reason_code=reason_code,
            amd_status=amd_status,
            amd_cause=amd_cause,
            next_attempt_at=next_attempt_at,
            result=result,
        )

    @_translated
    async def stale_pending(
        self, campaign_id: int, *, started_before: datetime
    ) -> list[m.CallAttempt]:
        return await campaigns.stale_pending(
            self._session, campaign_id, started_before=started_before
        )

    @_translated
    async def list_attempts(
        self, campaign_id: int, *, limit: int = 100, offset: int = 0
    ) -> list[tuple[m.CallAttempt, m.Contact]]:
        return await campaigns.list_attempts(self._session, campaign_id, limit=limit, offset=offset)

    @_translated
    async def contact_progress(self, campaign: Campaign) -> ContactProgress:
        return await campaigns.contact_progress(self._session, cast("m.Campaign", campaign))

    @_translated
    async def attempt_totals(self, campaign_id: int) -> AttemptTotals:
        return await campaigns.attempt_totals(self._session, campaign_id)

    @_translated
    async def campaign_of_attempt(self, attempt_id: int) -> int | None:
        return await campaigns.campaign_of_attempt(self._session, attempt_id)


class SqlClusterStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def save_callbacks(self, rows: Iterable[dict[str, Any]]) -> None:
        return await cluster.save_callbacks(self._session, rows)

    @_translated
    async def active_callbacks(self, node: str) -> Sequence[m.QueueCallbackRow]:
        return await cluster.active_callbacks(self._session, node)

    @_translated
    async def get_callback(self, callback_id: uuid.UUID) -> m.QueueCallbackRow | None:
        return await cluster.get_callback(self._session, callback_id)

    @_translated
    async def load_emergency(self) -> m.EmergencySwitch | None:
        return await cluster.load_emergency(self._session)

    @_translated
    async def save_emergency(
        self,
        *,
        active: bool,
        source: str | None,
        since: datetime | None,
        announcement: str,
        baseline_per_hour: float | None,
        now: datetime,
    ) -> None:
        return await cluster.save_emergency(
            self._session,
            active=active,
            source=source,
            since=since,
            announcement=announcement,
            baseline_per_hour=baseline_per_hour,
            now=now,
        )

    @_translated
    async def heartbeat(
        self,
        *,
        name: str,
        role: str,
        site: str,
        pid: int,
        started_at: datetime,
        now: datetime,
        snapshot: dict[str, Any] | None,
    ) -> None:
        return await cluster.heartbeat(
            self._session,
            name=name,
            role=role,
            site=site,
            pid=pid,
            started_at=started_at,
            now=now,
            snapshot=snapshot,
        )

    @_translated
    async def live_nodes(
        self, *, role: str | None, seen_since: datetime
    ) -> Sequence[m.ClusterNode]:
        return await cluster.live_nodes(self._session, role=role, seen_since=seen_since)

    @_translated
    async def forget_node(self, name: str) -> None:
        return await cluster.forget_node(self._session, name)

    @_translated
    async def submit_request(
        self, *, node: str | None, kind: str, payload: dict[str, Any], now: datetime
    ) -> int:
        return await cluster.submit_request(
            self._session, node=node, kind=kind, payload=payload, now=now
        )

    @_translated
    async def take_requests(
        self, *, node: str, not_before: datetime, limit: int = 50
    ) -> Sequence[m.NodeRequest]:
        return await cluster.take_requests(
            self._session, node=node, not_before=not_before, limit=limit
        )

    @_translated
    async def finish_request(
        self,
        request_id: int,
        *,
        now: datetime,
        result: dict[str, Any] | None,
        error: str | None = None,
        error_kind: str | None = None,
    ) -> None:
        return await cluster.finish_request(
            self._session, request_id, now=now, result=result, error=error, error_kind=error_kind
        )

    @_translated
    async def get_request(self, request_id: int) -> m.NodeRequest | None:
        return await cluster.get_request(self._session, request_id)

    @_translated
    async def purge_requests(self, *, before: datetime) -> None:
        return await cluster.purge_requests(self._session, before=before)

    @_translated
    async def add_redial(self, values: dict[str, Any]) -> m.RedialJobRow:
        return await cluster.add_redial(self._session, values)

    @_translated
    async def get_redial(self, job_id: uuid.UUID) -> m.RedialJobRow | None:
        return await cluster.get_redial(self._session, job_id)

    @_translated
    async def redials_of(
        self, *, user_id: int | None, limit: int = 100
    ) -> Sequence[m.RedialJobRow]:
        return await cluster.redials_of(self._session, user_id=user_id, limit=limit)

    @_translated
    async def running_redial_of(self, operator_id: int) -> m.RedialJobRow | None:
        return await cluster.running_redial_of(self._session, operator_id)

    @_translated
    async def take_due_redials(
        self, *, node: str, now: datetime, lease_until: datetime, limit: int = 20
    ) -> Sequence[m.RedialJobRow]:
        return await cluster.take_due_redials(
            self._session, node=node, now=now, lease_until=lease_until, limit=limit
        )

    @_translated
    async def update_redial(self, job_id: uuid.UUID, values: dict[str, Any]) -> None:
        return await cluster.update_redial(self._session, job_id, values)

    @_translated
    async def next_redial_at(self, *, node: str) -> datetime | None:
        return await cluster.next_redial_at(self._session, node=node)

    @_translated
    async def notify(self, channel: str, payload: str = "") -> None:
        return await cluster.notify(self._session, channel, payload)


class SqlCustomersStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, customer_id: int) -> m.Customer | None:
        return await customers.get(self._session, customer_id)

    @_translated
    async def find_by_phone(self, phone: str) -> list[m.Customer]:
        return await customers.find_by_phone(self._session, phone)

    @_translated
    async def find_by_account(self, account_number: str) -> m.Customer | None:
        return await customers.find_by_account(self._session, account_number)

    @_translated
    async def count(self) -> int:
        return await customers.count(self._session)

    @_translated
    async def create(
        self,
        *,
        account_number: str,
        full_name: str,
        category: CustomerCategory,
        phones: Iterable[str] = (),
        address: str = "",
        locality_id: int | None = None,
        email: str | None = None,
        balance_kopecks: int = 0,
    ) -> m.Customer:
        return await customers.create(
            self._session,
            account_number=account_number,
            full_name=full_name,
            category=category,
            phones=phones,
            address=address,
            locality_id=locality_id,
            email=email,
            balance_kopecks=balance_kopecks,
        )


class SqlGridApplicationsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def by_number(self, number: str) -> m.GridApplication | None:
        return await grid_applications.by_number(self._session, number)


class SqlKnowledgeBaseStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, article_id: int) -> m.KbArticle | None:
        return await knowledge_base.get(self._session, article_id)

    @_translated
    async def create(
        self,
        *,
        title: str,
        body: str,
        updated_at: datetime,
        tags: Sequence[str] = (),
        support_line: int | None = None,
    ) -> m.KbArticle:
        return await knowledge_base.create(
            self._session,
            title=title,
            body=body,
            updated_at=updated_at,
            tags=tags,
            support_line=support_line,
        )

    @_translated
    async def update(
        self,
        article: KbArticle,
        *,
        updated_at: datetime,
        title: str | None = None,
        body: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> m.KbArticle:
        return await knowledge_base.update(
            self._session,
            cast("m.KbArticle", article),
            updated_at=updated_at,
            title=title,
            body=body,
            tags=tags,
        )

    @_translated
    async def search(
        self, query: str, *, support_line: int | None = None, limit: int = 20
    ) -> list[m.KbArticle]:
        return await knowledge_base.search(
            self._session, query, support_line=support_line, limit=limit
        )

    @_translated
    async def full_text_search(
        self, query: str, *, support_line: int | None = None, limit: int = 20
    ) -> list[KbHit]:
        return await knowledge_base.full_text_search(
            self._session, query, support_line=support_line, limit=limit
        )

    @_translated
    async def list_recent(
        self, *, support_line: int | None = None, limit: int = 20, offset: int = 0
    ) -> list[m.KbArticle]:
        return await knowledge_base.list_recent(
            self._session, support_line=support_line, limit=limit, offset=offset
        )

    @_translated
    async def update_line(
        self, article: KbArticle, support_line: int | None, *, updated_at: datetime
    ) -> m.KbArticle:
        return await knowledge_base.update_line(
            self._session, cast("m.KbArticle", article), support_line, updated_at=updated_at
        )


class SqlLocalitiesStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, locality_id: int) -> m.Locality | None:
        return await localities.get(self._session, locality_id)

    @_translated
    async def get_by_name(self, name: str) -> m.Locality | None:
        return await localities.get_by_name(self._session, name)

    @_translated
    async def list_all(self) -> list[m.Locality]:
        return await localities.list_all(self._session)

    @_translated
    async def create(
        self, *, name: str, region: str, timezone: str = "Europe/Moscow"
    ) -> m.Locality:
        return await localities.create(self._session, name=name, region=region, timezone=timezone)


class SqlMeterReadingsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def add(
        self,
        *,
        account_number: str,
        value: str,
        source: ReadingSource,
        taken_at: datetime,
        customer_id: int | None = None,
        call_id: uuid.UUID | None = None,
    ) -> m.MeterReading:
        return await meter_readings.add(
            self._session,
            account_number=account_number,
            value=value,
            source=source,
            taken_at=taken_at,
            customer_id=customer_id,
            call_id=call_id,
        )

    @_translated
    async def latest_for_account(self, account_number: str) -> m.MeterReading | None:
        return await meter_readings.latest_for_account(self._session, account_number)


class SqlNotifyJobsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def campaign_for_send(self, campaign_id: int) -> CampaignForSend | None:
        return await notify_jobs.campaign_for_send(self._session, campaign_id)

    @_translated
    async def create_job(
        self,
        campaign: CampaignForSend,
        channel: Channel,
        subject: str,
        *,
        user_id: int | None,
        now: datetime,
    ) -> JobView:
        return await notify_jobs.create_job(
            self._session, campaign, channel, subject, user_id=user_id, now=now
        )

    @_translated
    async def lock_expanding_job(self) -> ExpansionJob | None:
        return await notify_jobs.lock_expanding_job(self._session)

    @_translated
    async def contacts_after(self, list_id: int, after_id: int, limit: int) -> list[ContactRow]:
        return await notify_jobs.contacts_after(self._session, list_id, after_id, limit)

    @_translated
    async def add_deliveries(
        self, job: ExpansionJob, planned: Sequence[NewDelivery], now: datetime
    ) -> None:
        return await notify_jobs.add_deliveries(self._session, job, planned, now)

    @_translated
    async def advance_job(self, job_id: int, expanded_after: int, *, expanded: bool) -> None:
        return await notify_jobs.advance_job(
            self._session, job_id, expanded_after, expanded=expanded
        )

    @_translated
    async def close_finished_jobs(self, now: datetime) -> int:
        return await notify_jobs.close_finished_jobs(self._session, now)

    @_translated
    async def claim(
        self, channel: Channel, worker: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[Claimed]:
        return await notify_jobs.claim(
            self._session, channel, worker, now=now, lease_until=lease_until, limit=limit
        )

    @_translated
    async def renew(self, worker: str, ids: Sequence[int], lease_until: datetime) -> None:
        return await notify_jobs.renew(self._session, worker, ids, lease_until)

    @_translated
    async def release(self, worker: str, now: datetime) -> int:
        return await notify_jobs.release(self._session, worker, now)

    @_translated
    async def finish(self, worker: str, outcomes: Sequence[Outcome], now: datetime) -> None:
        return await notify_jobs.finish(self._session, worker, outcomes, now)

    @_translated
    async def apply_report(
        self,
        *,
        gateway_message_id: str,
        idempotency_key: str,
        status: ReportStatus,
        reason: str,
        now: datetime,
    ) -> ReportResult:
        return await notify_jobs.apply_report(
            self._session,
            gateway_message_id=gateway_message_id,
            idempotency_key=idempotency_key,
            status=status,
            reason=reason,
            now=now,
        )

    @_translated
    async def progress(self, campaign_id: int, *, since: datetime) -> list[ChannelProgress]:
        return await notify_jobs.progress(self._session, campaign_id, since=since)

    @_translated
    async def deliveries(
        self,
        campaign_id: int,
        *,
        channel: Channel | None,
        status: DeliveryStatus | None,
        limit: int,
        offset: int,
    ) -> list[DeliveryRow]:
        return await notify_jobs.deliveries(
            self._session, campaign_id, channel=channel, status=status, limit=limit, offset=offset
        )


class SqlOperatorStatesStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def current_states(
        self, operator_ids: Collection[int]
    ) -> dict[int, m.OperatorStateHistory]:
        return await operator_states.current_states(self._session, operator_ids)


class SqlOperatorsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, operator_id: int) -> m.Operator | None:
        return await operators.get(self._session, operator_id)

    @_translated
    async def get_by_extension(self, extension: str) -> m.Operator | None:
        return await operators.get_by_extension(self._session, extension)

    @_translated
    async def list_all(
        self, *, support_lines: Sequence[int] | None = None, active_only: bool = True
    ) -> list[m.Operator]:
        return await operators.list_all(
            self._session, support_lines=support_lines, active_only=active_only
        )

    @_translated
    async def create(
        self,
        *,
        extension: str,
        full_name: str,
        support_line: int,
        skills: Mapping[str, int] | None = None,
        interface: str | None = None,
    ) -> m.Operator:
        return await operators.create(
            self._session,
            extension=extension,
            full_name=full_name,
            support_line=support_line,
            skills=skills,
            interface=interface,
        )

    @_translated
    async def current_state(self, operator_id: int) -> m.OperatorStateHistory | None:
        return await operators.current_state(self._session, operator_id)

    @_translated
    async def set_state(
        self,
        operator_id: int,
        state: OperatorState,
        *,
        at: datetime,
        pause_reason: str | None = None,
    ) -> m.OperatorStateHistory:
        return await operators.set_state(
            self._session, operator_id, state, at=at, pause_reason=pause_reason
        )

    @_translated
    async def state_history(
        self, operator_id: int, *, since: datetime, until: datetime
    ) -> list[m.OperatorStateHistory]:
        return await operators.state_history(self._session, operator_id, since=since, until=until)

    @_translated
    async def interfaces(self) -> list[tuple[int, str]]:
        return await operators.interfaces(self._session)


class SqlOutagesStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def for_locality(
        self, locality_id: int, *, at: datetime, horizon: timedelta = timedelta(days=7)
    ) -> list[m.Outage]:
        return await outages.for_locality(self._session, locality_id, at=at, horizon=horizon)

    @_translated
    async def add(
        self,
        *,
        locality_id: int,
        kind: OutageKind,
        starts_at: datetime,
        ends_at: datetime | None = None,
        reason: str = "",
        description_ru: str = "",
    ) -> m.Outage:
        return await outages.add(
            self._session,
            locality_id=locality_id,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            description_ru=description_ru,
        )


class SqlQueuesStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get_by_name(self, name: str) -> m.Queue | None:
        return await queues.get_by_name(self._session, name)

    @_translated
    async def list_all(self) -> list[m.Queue]:
        return await queues.list_all(self._session)

    @_translated
    async def create(
        self,
        *,
        name: str,
        support_line: int | None,
        strategy: QueueStrategy = QueueStrategy.LEASTRECENT,
        description: str = "",
        wait_target_seconds: int = 40,
        is_overflow: bool = False,
    ) -> m.Queue:
        return await queues.create(
            self._session,
            name=name,
            support_line=support_line,
            strategy=strategy,
            description=description,
            wait_target_seconds=wait_target_seconds,
            is_overflow=is_overflow,
        )

    @_translated
    async def add_member(
        self, queue: Queue, operator_id: int, *, penalty: int = 0
    ) -> m.QueueMember:
        return await queues.add_member(
            self._session, cast("m.Queue", queue), operator_id, penalty=penalty
        )


class SqlRecordingsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def search(
        self, flt: RecordingFilter, scope: RecordingScope
    ) -> tuple[list[RecordingListItem], bool]:
        return await recordings.search(self._session, flt, scope)

    @_translated
    async def item(self, recording_id: uuid.UUID) -> RecordingListItem | None:
        return await recordings.item(self._session, recording_id)

    @_translated
    async def in_scope(self, recording_id: uuid.UUID, scope: RecordingScope) -> bool:
        return await recordings.in_scope(self._session, recording_id, scope)

    @_translated
    async def get(self, recording_id: uuid.UUID) -> m.Recording | None:
        return await recordings.get(self._session, recording_id)

    @_translated
    async def get_for_update(self, recording_id: uuid.UUID) -> m.Recording | None:
        return await recordings.get_for_update(self._session, recording_id)

    @_translated
    async def get_by_path(self, path: str) -> m.Recording | None:
        return await recordings.get_by_path(self._session, path)

    @_translated
    async def for_call(self, call_id: uuid.UUID) -> list[m.Recording]:
        return await recordings.for_call(self._session, call_id)

    @_translated
    async def create(
        self,
        *,
        path: str,
        started_at: datetime,
        call_id: uuid.UUID | None = None,
        appeal_id: uuid.UUID | None = None,
        state: RecordingState = RecordingState.RECORDING,
        delete_after: datetime | None = None,
        rule_name: str | None = None,
    ) -> m.Recording:
        return await recordings.create(
            self._session,
            path=path,
            started_at=started_at,
            call_id=call_id,
            appeal_id=appeal_id,
            state=state,
            delete_after=delete_after,
            rule_name=rule_name,
        )

    @_translated
    async def link_appeal(self, call_id: uuid.UUID, appeal_id: uuid.UUID) -> int:
        return await recordings.link_appeal(self._session, call_id, appeal_id)

    @_translated
    async def appeal_for_call(self, call_id: uuid.UUID) -> uuid.UUID | None:
        return await recordings.appeal_for_call(self._session, call_id)

    @_translated
    async def awaiting_completion(
        self, *, limit: int = 500
    ) -> list[tuple[m.Recording, datetime | None]]:
        return await recordings.awaiting_completion(self._session, limit=limit)

    @_translated
    async def known_paths(self) -> dict[str, tuple[uuid.UUID, RecordingState]]:
        return await recordings.known_paths(self._session)

    @_translated
    async def due_for_archiving(self, *, started_before: datetime, limit: int) -> list[m.Recording]:
        return await recordings.due_for_archiving(
            self._session, started_before=started_before, limit=limit
        )

    @_translated
    async def due_for_deletion(self, *, now: datetime, limit: int) -> list[m.Recording]:
        return await recordings.due_for_deletion(self._session, now=now, limit=limit)

    @_translated
    async def by_ids(self, ids: Sequence[uuid.UUID]) -> list[m.Recording]:
        return await recordings.by_ids(self._session, ids)

    @_translated
    async def log_access(
        self,
        recording_id: uuid.UUID,
        action: RecordingAction,
        *,
        at: datetime,
        user_id: int | None,
        remote_addr: str | None = None,
    ) -> m.RecordingAccessLog:
        return await recordings.log_access(
            self._session, recording_id, action, at=at, user_id=user_id, remote_addr=remote_addr
        )

    @_translated
    async def access_log(
        self, recording_id: uuid.UUID, *, limit: int = 100
    ) -> list[m.RecordingAccessLog]:
        return await recordings.access_log(self._session, recording_id, limit=limit)

    @_translated
    async def count_in_states(self, states: Sequence[RecordingState]) -> dict[RecordingState, int]:
        return await recordings.count_in_states(self._session, states)


class SqlRemindersStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, reminder_id: int) -> m.Reminder | None:
        return await reminders.get(self._session, reminder_id)

    @_translated
    async def create(
        self,
        *,
        user_id: int,
        due_at: datetime,
        text: str,
        kind: ReminderKind,
        created_at: datetime,
        appeal_id: uuid.UUID | None = None,
    ) -> m.Reminder:
        return await reminders.create(
            self._session,
            user_id=user_id,
            due_at=due_at,
            text=text,
            kind=kind,
            created_at=created_at,
            appeal_id=appeal_id,
        )

    @_translated
    async def list_for_user(
        self, user_id: int, *, include_done: bool = False, limit: int = 100, offset: int = 0
    ) -> list[m.Reminder]:
        return await reminders.list_for_user(
            self._session, user_id, include_done=include_done, limit=limit, offset=offset
        )

    @_translated
    async def count_for_user(self, user_id: int, *, include_done: bool = False) -> int:
        return await reminders.count_for_user(self._session, user_id, include_done=include_done)

    @_translated
    async def due_for_user(self, user_id: int, now: datetime) -> list[m.Reminder]:
        return await reminders.due_for_user(self._session, user_id, now)

    @_translated
    async def for_appeal(self, appeal_id: uuid.UUID) -> list[m.Reminder]:
        return await reminders.for_appeal(self._session, appeal_id)

    @_translated
    async def mark_done(self, reminder: Reminder, at: datetime) -> m.Reminder:
        return await reminders.mark_done(self._session, cast("m.Reminder", reminder), at)

    @_translated
    async def delete_pending_automatic(self, appeal_id: uuid.UUID) -> int:
        return await reminders.delete_pending_automatic(self._session, appeal_id)


class SqlScriptsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, script_id: int) -> m.CallScript | None:
        return await scripts.get(self._session, script_id)

    @_translated
    async def get_by_name(self, name: str) -> m.CallScript | None:
        return await scripts.get_by_name(self._session, name)

    @_translated
    async def list_all(self) -> list[m.CallScript]:
        return await scripts.list_all(self._session)

    @_translated
    async def create(
        self, *, name: str, tree: Mapping[str, Any], updated_at: datetime
    ) -> m.CallScript:
        return await scripts.create(self._session, name=name, tree=tree, updated_at=updated_at)

    @_translated
    async def update(
        self,
        script: CallScript,
        *,
        updated_at: datetime,
        name: str | None = None,
        tree: Mapping[str, Any] | None = None,
    ) -> m.CallScript:
        return await scripts.update(
            self._session, cast("m.CallScript", script), updated_at=updated_at, name=name, tree=tree
        )


class SqlSurveysStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, survey_id: int) -> m.Survey | None:
        return await surveys.get(self._session, survey_id)

    @_translated
    async def get_by_name(self, name: str) -> m.Survey | None:
        return await surveys.get_by_name(self._session, name)

    @_translated
    async def list_all(self) -> list[m.Survey]:
        return await surveys.list_all(self._session)

    @_translated
    async def create(
        self, *, name: str, description: str, questions: Sequence[NewQuestion]
    ) -> m.Survey:
        return await surveys.create(
            self._session, name=name, description=description, questions=questions
        )

    @_translated
    async def record_answer(
        self,
        *,
        survey_id: int,
        question_id: int,
        answer_key: str,
        at: datetime,
        call_id: uuid.UUID | None = None,
        contact_id: int | None = None,
    ) -> m.SurveyResponse:
        return await surveys.record_answer(
            self._session,
            survey_id=survey_id,
            question_id=question_id,
            answer_key=answer_key,
            at=at,
            call_id=call_id,
            contact_id=contact_id,
        )

    @_translated
    async def answer_counts(self, survey_id: int) -> dict[int, dict[str, int]]:
        return await surveys.answer_counts(self._session, survey_id)

    @_translated
    async def respondent_count(self, survey_id: int) -> int:
        return await surveys.respondent_count(self._session, survey_id)


class SqlTelephonyEventsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def add_if_new(
        self,
        event_key: str,
        *,
        source: EventSource,
        name: str,
        received_at: datetime,
        payload: Mapping[str, Any],
        linkedid: str | None = None,
        uniqueid: str | None = None,
    ) -> bool:
        return await telephony_events.add_if_new(
            self._session,
            event_key,
            source=source,
            name=name,
            received_at=received_at,
            payload=payload,
            linkedid=linkedid,
            uniqueid=uniqueid,
        )

    @_translated
    async def for_linkedid(self, linkedid: str) -> list[m.TelephonyEvent]:
        return await telephony_events.for_linkedid(self._session, linkedid)

    @_translated
    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        return await telephony_events.add_many(self._session, rows)

    @_translated
    async def last_seen(self, linkedids: list[str]) -> dict[str, datetime]:
        return await telephony_events.last_seen(self._session, linkedids)


class SqlUsersStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def get(self, user_id: int) -> m.User | None:
        return await users.get(self._session, user_id)

    @_translated
    async def get_by_username(self, username: str) -> m.User | None:
        return await users.get_by_username(self._session, username)

    @_translated
    async def get_by_operator(self, operator_id: int) -> m.User | None:
        return await users.get_by_operator(self._session, operator_id)

    @_translated
    async def create(
        self,
        *,
        username: str,
        password_hash: str,
        role: Role,
        full_name: str = "",
        operator_id: int | None = None,
        is_active: bool = True,
    ) -> m.User:
        return await users.create(
            self._session,
            username=username,
            password_hash=password_hash,
            role=role,
            full_name=full_name,
            operator_id=operator_id,
            is_active=is_active,
        )

    @_translated
    async def upsert_admin(
        self, username: str, password_hash: str, *, full_name: str = "Администратор"
    ) -> m.User:
        return await users.upsert_admin(self._session, username, password_hash, full_name=full_name)

    @_translated
    async def list_all(self) -> list[m.User]:
        return await users.list_all(self._session)


class SqlVoicemailsStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @_translated
    async def create(
        self,
        *,
        caller_number: str,
        created_at: datetime,
        call_id: uuid.UUID | None = None,
        appeal_id: uuid.UUID | None = None,
        recording_id: uuid.UUID | None = None,
        duration_seconds: float | None = None,
        support_line: int | None = None,
    ) -> m.Voicemail:
        return await voicemails.create(
            self._session,
            caller_number=caller_number,
            created_at=created_at,
            call_id=call_id,
            appeal_id=appeal_id,
            recording_id=recording_id,
            duration_seconds=duration_seconds,
            support_line=support_line,
        )

    @_translated
    async def get(self, voicemail_id: int) -> m.Voicemail | None:
        return await voicemails.get(self._session, voicemail_id)

    @_translated
    async def by_recording(self, recording_id: uuid.UUID) -> m.Voicemail | None:
        return await voicemails.by_recording(self._session, recording_id)

    @_translated
    async def list_for_line(
        self,
        support_line: int | None,
        *,
        unlistened_only: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> list[m.Voicemail]:
        return await voicemails.list_for_line(
            self._session, support_line, unlistened_only=unlistened_only, limit=limit, offset=offset
        )

    @_translated
    async def mark_listened(self, voicemail: Voicemail, at: datetime) -> None:
        return await voicemails.mark_listened(self._session, cast("m.Voicemail", voicemail), at)


class SqlStores(AsyncSession):
    """A session that is also `callcenter.ports.stores.Stores`: the session factory makes
    these (`callcenter.db.engine.create_session_factory`), so a use case handed the factory
    gets its stores and the repositories keep working on the same session."""

    @cached_property
    def address_book(self) -> SqlAddressBookStore:
        return SqlAddressBookStore(self)

    @cached_property
    def appeal_search(self) -> SqlAppealSearchStore:
        return SqlAppealSearchStore(self)

    @cached_property
    def appeals(self) -> SqlAppealsStore:
        return SqlAppealsStore(self)

    @cached_property
    def audit(self) -> SqlAuditStore:
        return SqlAuditStore(self)

    @cached_property
    def call_history(self) -> SqlCallHistoryStore:
        return SqlCallHistoryStore(self)

    @cached_property
    def calls(self) -> SqlCallsStore:
        return SqlCallsStore(self)

    @cached_property
    def campaigns(self) -> SqlCampaignsStore:
        return SqlCampaignsStore(self)

    @cached_property
    def cluster(self) -> SqlClusterStore:
        return SqlClusterStore(self)

    @cached_property
    def customers(self) -> SqlCustomersStore:
        return SqlCustomersStore(self)

    @cached_property
    def grid_applications(self) -> SqlGridApplicationsStore:
        return SqlGridApplicationsStore(self)

    @cached_property
    def knowledge_base(self) -> SqlKnowledgeBaseStore:
        return SqlKnowledgeBaseStore(self)

    @cached_property
    def localities(self) -> SqlLocalitiesStore:
        return SqlLocalitiesStore(self)

    @cached_property
    def meter_readings(self) -> SqlMeterReadingsStore:
        return SqlMeterReadingsStore(self)

    @cached_property
    def notify_jobs(self) -> SqlNotifyJobsStore:
        return SqlNotifyJobsStore(self)

    @cached_property
    def operator_states(self) -> SqlOperatorStatesStore:
        return SqlOperatorStatesStore(self)

    @cached_property
    def operators(self) -> SqlOperatorsStore:
        return SqlOperatorsStore(self)

    @cached_property
    def outages(self) -> SqlOutagesStore:
        return SqlOutagesStore(self)

    @cached_property
    def queues(self) -> SqlQueuesStore:
        return SqlQueuesStore(self)

    @cached_property
    def recordings(self) -> SqlRecordingsStore:
        return SqlRecordingsStore(self)

    @cached_property
    def reminders(self) -> SqlRemindersStore:
        return SqlRemindersStore(self)

    @cached_property
    def scripts(self) -> SqlScriptsStore:
        return SqlScriptsStore(self)

    @cached_property
    def surveys(self) -> SqlSurveysStore:
        return SqlSurveysStore(self)

    @cached_property
    def telephony_events(self) -> SqlTelephonyEventsStore:
        return SqlTelephonyEventsStore(self)

    @cached_property
    def users(self) -> SqlUsersStore:
        return SqlUsersStore(self)

    @cached_property
    def voicemails(self) -> SqlVoicemailsStore:
        return SqlVoicemailsStore(self)

    async def flush(self, objects: Sequence[Any] | None = None) -> None:
        with _translating():
            await super().flush(objects)

    async def commit(self) -> None:
        with _translating():
            await super().commit()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        with _translating():
            async with self.begin_nested() as nested:
                yield nested


if TYPE_CHECKING:
    # the adapter must satisfy the ports: mypy checks these two assignments
    _stores: type[Stores] = SqlStores
    _transactions: Transactions = async_sessionmaker[SqlStores](class_=SqlStores)
