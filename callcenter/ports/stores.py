# Generated from callcenter/db/repositories by scripts/gen_stores.py: run `make stores`.
"""What a use case may ask of the database, one Protocol per repository module."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import Any, Protocol, Unpack

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
    AppealStatusHistory,
    AppealTopic,
    AuditLogEntry,
    Call,
    CallAttempt,
    CallLeg,
    CallScript,
    CallTransfer,
    Campaign,
    ClusterNode,
    Contact,
    ContactList,
    CorporateContact,
    Customer,
    DoNotCall,
    EmergencySwitch,
    GridApplication,
    KbArticle,
    Locality,
    MeterReading,
    NodeRequest,
    Operator,
    OperatorStateHistory,
    Outage,
    PersonalContact,
    Queue,
    QueueCallbackRow,
    QueueMember,
    Recording,
    RecordingAccessLog,
    RedialJobRow,
    Reminder,
    Survey,
    SurveyResponse,
    TelephonyEvent,
    User,
    Voicemail,
)


class AddressBookStore(Protocol):
    """`callcenter.db.repositories.address_book` bound to the transaction."""

    async def corporate_all(self) -> Sequence[CorporateContact]: ...

    async def corporate_get(self, contact_id: int) -> CorporateContact | None: ...

    async def corporate_create(
        self,
        *,
        name: str,
        department: str = "",
        position: str = "",
        phone: str | None = None,
        extension: str | None = None,
        email: str | None = None,
    ) -> CorporateContact: ...

    async def corporate_delete(self, contact: CorporateContact) -> None: ...

    async def corporate_by_phones(self, numbers: Collection[str]) -> Sequence[CorporateContact]: ...

    async def personal_get(self, contact_id: int) -> PersonalContact | None: ...

    async def personal_page(
        self, user_id: int, *, limit: int, offset: int
    ) -> Sequence[PersonalContact]: ...

    async def personal_count(self, user_id: int) -> int: ...

    async def personal_all(self, user_id: int) -> Sequence[PersonalContact]: ...

    async def personal_create(
        self, *, user_id: int, name: str, phone: str, created_at: datetime, note: str = ""
    ) -> PersonalContact: ...

    async def personal_delete(self, contact: PersonalContact) -> None: ...

    async def personal_by_phones(
        self, user_id: int, numbers: Collection[str]
    ) -> Sequence[PersonalContact]: ...


class AppealSearchStore(Protocol):
    """`callcenter.db.repositories.appeal_search` bound to the transaction."""

    async def search(self, scope: AppealScope, flt: AppealFilter) -> Sequence[Appeal]: ...

    async def count(self, scope: AppealScope, flt: AppealFilter) -> int: ...

    async def overdue(
        self, scope: AppealScope, now: datetime, *, limit: int = 200
    ) -> Sequence[Appeal]: ...

    async def owner_line(self, appeal: Appeal) -> int | None: ...


class AppealsStore(Protocol):
    """`callcenter.db.repositories.appeals` bound to the transaction."""

    async def get(self, appeal_id: uuid.UUID) -> Appeal | None: ...

    async def get_by_number(self, number: str) -> Appeal | None: ...

    async def next_number(self, day: date) -> str: ...

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
    ) -> Appeal: ...

    async def change_status(
        self,
        appeal: Appeal,
        to_status: AppealStatus,
        *,
        at: datetime,
        changed_by: int | None = None,
        comment: str = "",
    ) -> AppealStatusHistory: ...

    async def history(self, appeal_id: uuid.UUID) -> Sequence[AppealStatusHistory]: ...

    async def list_for_customer(self, customer_id: int, *, limit: int = 20) -> Sequence[Appeal]: ...

    async def open_due_before(self, moment: datetime) -> Sequence[Appeal]: ...

    async def topics(self) -> Sequence[AppealTopic]: ...

    async def topic_by_code(self, code: str) -> AppealTopic | None: ...

    async def add_topic(
        self, *, code: str, name: str, parent_id: int | None = None, is_complaint: bool = False
    ) -> AppealTopic: ...

    async def get_topic(self, topic_id: int) -> AppealTopic | None: ...


class AuditStore(Protocol):
    """`callcenter.db.repositories.audit` bound to the transaction."""

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
    ) -> AuditLogEntry: ...

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
    ) -> Sequence[AuditLogEntry]: ...


class CallHistoryStore(Protocol):
    """`callcenter.db.repositories.call_history` bound to the transaction."""

    async def history(
        self,
        operator_id: int,
        *,
        kind: HistoryKind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[HistoryEntry]: ...

    async def received(
        self, operator_id: int, *, since: datetime, until: datetime
    ) -> list[HistoryEntry]: ...

    async def involves(self, operator_id: int, call_id: uuid.UUID) -> Call | None: ...


class CallsStore(Protocol):
    """`callcenter.db.repositories.calls` bound to the transaction."""

    async def get(self, call_id: uuid.UUID) -> Call | None: ...

    async def get_by_linkedid(self, linkedid: str) -> Call | None: ...

    async def search(self, flt: CallFilter | None = None) -> Sequence[Call]: ...

    async def count(self, flt: CallFilter | None = None) -> int: ...

    async def upsert(self, linkedid: str, /, **fields: Unpack[CallFields]) -> Call: ...

    async def upsert_many(self, records: Sequence[tuple[str, CallFields]]) -> None: ...

    async def upsert_legs(self, legs: Sequence[LegFields]) -> None: ...

    async def add_leg(
        self,
        call_id: uuid.UUID,
        *,
        uniqueid: str,
        channel: str,
        role: LegRole,
        started_at: datetime,
        operator_id: int | None = None,
    ) -> CallLeg: ...

    async def get_leg(self, uniqueid: str) -> CallLeg | None: ...

    async def legs(self, call_id: uuid.UUID) -> Sequence[CallLeg]: ...

    async def add_transfer(
        self,
        call_id: uuid.UUID,
        *,
        kind: TransferKind,
        to_target: str,
        at: datetime,
        from_operator_id: int | None = None,
    ) -> CallTransfer: ...

    async def transfers(self, call_id: uuid.UUID) -> Sequence[CallTransfer]: ...

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
    ) -> None: ...

    async def open_calls(self) -> Sequence[Call]: ...


class CampaignsStore(Protocol):
    """`callcenter.db.repositories.campaigns` bound to the transaction."""

    async def create_list(self, name: str) -> ContactList: ...

    async def get_list(self, list_id: int) -> ContactList | None: ...

    async def get_list_by_name(self, name: str) -> ContactList | None: ...

    async def lists_with_counts(self) -> Sequence[tuple[ContactList, int]]: ...

    async def existing_phones(self, list_id: int, phones: Iterable[str]) -> set[str]: ...

    async def add_contacts(self, list_id: int, contacts: Sequence[NewContact]) -> int: ...

    async def count_contacts(self, list_id: int) -> int: ...

    async def list_contacts(
        self, list_id: int, *, limit: int = 100, offset: int = 0
    ) -> Sequence[Contact]: ...

    async def get_contact(self, contact_id: int) -> Contact | None: ...

    async def add_do_not_call(self, phone: str, reason: str, at: datetime) -> bool: ...

    async def remove_do_not_call(self, phone: str) -> bool: ...

    async def list_do_not_call(
        self, *, limit: int = 100, offset: int = 0
    ) -> Sequence[DoNotCall]: ...

    async def do_not_call_among(self, phones: Iterable[str]) -> set[str]: ...

    async def create_campaign(self, **values: Any) -> Campaign: ...

    async def get_campaign(self, campaign_id: int) -> Campaign | None: ...

    async def get_campaign_for_update(self, campaign_id: int) -> Campaign | None: ...

    async def get_campaign_by_name(self, name: str) -> Campaign | None: ...

    async def list_campaigns(
        self, *, statuses: Iterable[CampaignStatus] | None = None
    ) -> Sequence[Campaign]: ...

    async def campaigns_due(self, now: datetime) -> Sequence[Campaign]: ...

    async def set_status(
        self,
        campaign_id: int,
        status: CampaignStatus,
        *,
        expected: Iterable[CampaignStatus] | None = None,
    ) -> bool: ...

    async def due_zones(self, campaign: Campaign, now: datetime) -> list[str | None]: ...

    async def due_contacts(
        self,
        campaign: Campaign,
        now: datetime,
        *,
        limit: int,
        zones: Sequence[str | None] | None = None,
        exclude: Iterable[int] = (),
    ) -> list[DueContact]: ...

    async def create_attempt(
        self, *, campaign_id: int, contact_id: int, attempt_no: int, started_at: datetime
    ) -> CallAttempt: ...

    async def delete_attempt(self, attempt_id: int) -> None: ...

    async def get_attempt(self, attempt_id: int) -> CallAttempt | None: ...

    async def record_answer(
        self,
        attempt_id: int,
        *,
        reason_code: int,
        amd_status: str | None = None,
        amd_cause: str | None = None,
    ) -> None: ...

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
    ) -> bool: ...

    async def stale_pending(
        self, campaign_id: int, *, started_before: datetime
    ) -> Sequence[CallAttempt]: ...

    async def list_attempts(
        self, campaign_id: int, *, limit: int = 100, offset: int = 0
    ) -> Sequence[tuple[CallAttempt, Contact]]: ...

    async def contact_progress(self, campaign: Campaign) -> ContactProgress: ...

    async def attempt_totals(self, campaign_id: int) -> AttemptTotals: ...

    async def campaign_of_attempt(self, attempt_id: int) -> int | None: ...


class ClusterStore(Protocol):
    """`callcenter.db.repositories.cluster` bound to the transaction."""

    async def save_callbacks(self, rows: Iterable[dict[str, Any]]) -> None: ...

    async def active_callbacks(self, node: str) -> Sequence[QueueCallbackRow]: ...

    async def get_callback(self, callback_id: uuid.UUID) -> QueueCallbackRow | None: ...

    async def load_emergency(self) -> EmergencySwitch | None: ...

    async def save_emergency(
        self,
        *,
        active: bool,
        source: str | None,
        since: datetime | None,
        announcement: str,
        baseline_per_hour: float | None,
        now: datetime,
    ) -> None: ...

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
    ) -> None: ...

    async def live_nodes(
        self, *, role: str | None, seen_since: datetime
    ) -> Sequence[ClusterNode]: ...

    async def forget_node(self, name: str) -> None: ...

    async def submit_request(
        self, *, node: str | None, kind: str, payload: dict[str, Any], now: datetime
    ) -> int: ...

    async def take_requests(
        self, *, node: str, not_before: datetime, limit: int = 50
    ) -> Sequence[NodeRequest]: ...

    async def finish_request(
        self,
        request_id: int,
        *,
        now: datetime,
        result: dict[str, Any] | None,
        error: str | None = None,
        error_kind: str | None = None,
    ) -> None: ...

    async def get_request(self, request_id: int) -> NodeRequest | None: ...

    async def purge_requests(self, *, before: datetime) -> None: ...

    async def add_redial(self, values: dict[str, Any]) -> RedialJobRow: ...

    async def get_redial(self, job_id: uuid.UUID) -> RedialJobRow | None: ...

    async def redials_of(
        self, *, user_id: int | None, limit: int = 100
    ) -> Sequence[RedialJobRow]: ...

    async def running_redial_of(self, operator_id: int) -> RedialJobRow | None: ...

    async def take_due_redials(
        self, *, node: str, now: datetime, lease_until: datetime, limit: int = 20
    ) -> Sequence[RedialJobRow]: ...

    async def update_redial(self, job_id: uuid.UUID, values: dict[str, Any]) -> None: ...

    async def next_redial_at(self, *, node: str) -> datetime | None: ...

    async def notify(self, channel: str, payload: str = "") -> None: ...


class CustomersStore(Protocol):
    """`callcenter.db.repositories.customers` bound to the transaction."""

    async def get(self, customer_id: int) -> Customer | None: ...

    async def find_by_phone(self, phone: str) -> Sequence[Customer]: ...

    async def find_by_account(self, account_number: str) -> Customer | None: ...

    async def count(self) -> int: ...

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
    ) -> Customer: ...


class GridApplicationsStore(Protocol):
    """`callcenter.db.repositories.grid_applications` bound to the transaction."""

    async def by_number(self, number: str) -> GridApplication | None: ...


class KnowledgeBaseStore(Protocol):
    """`callcenter.db.repositories.knowledge_base` bound to the transaction."""

    async def get(self, article_id: int) -> KbArticle | None: ...

    async def create(
        self,
        *,
        title: str,
        body: str,
        updated_at: datetime,
        tags: Sequence[str] = (),
        support_line: int | None = None,
    ) -> KbArticle: ...

    async def update(
        self,
        article: KbArticle,
        *,
        updated_at: datetime,
        title: str | None = None,
        body: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> KbArticle: ...

    async def search(
        self, query: str, *, support_line: int | None = None, limit: int = 20
    ) -> Sequence[KbArticle]: ...

    async def full_text_search(
        self, query: str, *, support_line: int | None = None, limit: int = 20
    ) -> list[KbHit]: ...

    async def list_recent(
        self, *, support_line: int | None = None, limit: int = 20, offset: int = 0
    ) -> Sequence[KbArticle]: ...

    async def update_line(
        self, article: KbArticle, support_line: int | None, *, updated_at: datetime
    ) -> KbArticle: ...


class LocalitiesStore(Protocol):
    """`callcenter.db.repositories.localities` bound to the transaction."""

    async def get(self, locality_id: int) -> Locality | None: ...

    async def get_by_name(self, name: str) -> Locality | None: ...

    async def list_all(self) -> Sequence[Locality]: ...

    async def create(
        self, *, name: str, region: str, timezone: str = "Europe/Moscow"
    ) -> Locality: ...


class MeterReadingsStore(Protocol):
    """`callcenter.db.repositories.meter_readings` bound to the transaction."""

    async def add(
        self,
        *,
        account_number: str,
        value: str,
        source: ReadingSource,
        taken_at: datetime,
        customer_id: int | None = None,
        call_id: uuid.UUID | None = None,
    ) -> MeterReading: ...

    async def latest_for_account(self, account_number: str) -> MeterReading | None: ...


class NotifyJobsStore(Protocol):
    """`callcenter.db.repositories.notify_jobs` bound to the transaction."""

    async def campaign_for_send(self, campaign_id: int) -> CampaignForSend | None: ...

    async def create_job(
        self,
        campaign: CampaignForSend,
        channel: Channel,
        subject: str,
        *,
        user_id: int | None,
        now: datetime,
    ) -> JobView: ...

    async def lock_expanding_job(self) -> ExpansionJob | None: ...

    async def contacts_after(self, list_id: int, after_id: int, limit: int) -> list[ContactRow]: ...

    async def add_deliveries(
        self, job: ExpansionJob, planned: Sequence[NewDelivery], now: datetime
    ) -> None: ...

    async def advance_job(self, job_id: int, expanded_after: int, *, expanded: bool) -> None: ...

    async def close_finished_jobs(self, now: datetime) -> int: ...

    async def claim(
        self, channel: Channel, worker: str, *, now: datetime, lease_until: datetime, limit: int
    ) -> list[Claimed]: ...

    async def renew(self, worker: str, ids: Sequence[int], lease_until: datetime) -> None: ...

    async def release(self, worker: str, now: datetime) -> int: ...

    async def finish(self, worker: str, outcomes: Sequence[Outcome], now: datetime) -> None: ...

    async def apply_report(
        self,
        *,
        gateway_message_id: str,
        idempotency_key: str,
        status: ReportStatus,
        reason: str,
        now: datetime,
    ) -> ReportResult: ...

    async def progress(self, campaign_id: int, *, since: datetime) -> list[ChannelProgress]: ...

    async def deliveries(
        self,
        campaign_id: int,
        *,
        channel: Channel | None,
        status: DeliveryStatus | None,
        limit: int,
        offset: int,
    ) -> list[DeliveryRow]: ...


class OperatorStatesStore(Protocol):
    """`callcenter.db.repositories.operator_states` bound to the transaction."""

    async def current_states(
        self, operator_ids: Collection[int]
    ) -> Mapping[int, OperatorStateHistory]: ...


class OperatorsStore(Protocol):
    """`callcenter.db.repositories.operators` bound to the transaction."""

    async def get(self, operator_id: int) -> Operator | None: ...

    async def get_by_extension(self, extension: str) -> Operator | None: ...

    async def list_all(
        self, *, support_lines: Sequence[int] | None = None, active_only: bool = True
    ) -> Sequence[Operator]: ...

    async def create(
        self,
        *,
        extension: str,
        full_name: str,
        support_line: int,
        skills: Mapping[str, int] | None = None,
        interface: str | None = None,
    ) -> Operator: ...

    async def current_state(self, operator_id: int) -> OperatorStateHistory | None: ...

    async def set_state(
        self,
        operator_id: int,
        state: OperatorState,
        *,
        at: datetime,
        pause_reason: str | None = None,
    ) -> OperatorStateHistory: ...

    async def state_history(
        self, operator_id: int, *, since: datetime, until: datetime
    ) -> Sequence[OperatorStateHistory]: ...

    async def interfaces(self) -> list[tuple[int, str]]: ...


class OutagesStore(Protocol):
    """`callcenter.db.repositories.outages` bound to the transaction."""

    async def for_locality(
        self, locality_id: int, *, at: datetime, horizon: timedelta = timedelta(days=7)
    ) -> Sequence[Outage]: ...

    async def add(
        self,
        *,
        locality_id: int,
        kind: OutageKind,
        starts_at: datetime,
        ends_at: datetime | None = None,
        reason: str = "",
        description_ru: str = "",
    ) -> Outage: ...


class QueuesStore(Protocol):
    """`callcenter.db.repositories.queues` bound to the transaction."""

    async def get_by_name(self, name: str) -> Queue | None: ...

    async def list_all(self) -> Sequence[Queue]: ...

    async def create(
        self,
        *,
        name: str,
        support_line: int | None,
        strategy: QueueStrategy = QueueStrategy.LEASTRECENT,
        description: str = "",
        wait_target_seconds: int = 40,
        is_overflow: bool = False,
    ) -> Queue: ...

    async def add_member(
        self, queue: Queue, operator_id: int, *, penalty: int = 0
    ) -> QueueMember: ...


class RecordingsStore(Protocol):
    """`callcenter.db.repositories.recordings` bound to the transaction."""

    async def search(
        self, flt: RecordingFilter, scope: RecordingScope
    ) -> tuple[list[RecordingListItem], bool]: ...

    async def item(self, recording_id: uuid.UUID) -> RecordingListItem | None: ...

    async def in_scope(self, recording_id: uuid.UUID, scope: RecordingScope) -> bool: ...

    async def get(self, recording_id: uuid.UUID) -> Recording | None: ...

    async def get_for_update(self, recording_id: uuid.UUID) -> Recording | None: ...

    async def get_by_path(self, path: str) -> Recording | None: ...

    async def for_call(self, call_id: uuid.UUID) -> Sequence[Recording]: ...

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
    ) -> Recording: ...

    async def link_appeal(self, call_id: uuid.UUID, appeal_id: uuid.UUID) -> int: ...

    async def appeal_for_call(self, call_id: uuid.UUID) -> uuid.UUID | None: ...

    async def awaiting_completion(
        self, *, limit: int = 500
    ) -> Sequence[tuple[Recording, datetime | None]]: ...

    async def known_paths(self) -> dict[str, tuple[uuid.UUID, RecordingState]]: ...

    async def due_for_archiving(
        self, *, started_before: datetime, limit: int
    ) -> Sequence[Recording]: ...

    async def due_for_deletion(self, *, now: datetime, limit: int) -> Sequence[Recording]: ...

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> Sequence[Recording]: ...

    async def log_access(
        self,
        recording_id: uuid.UUID,
        action: RecordingAction,
        *,
        at: datetime,
        user_id: int | None,
        remote_addr: str | None = None,
    ) -> RecordingAccessLog: ...

    async def access_log(
        self, recording_id: uuid.UUID, *, limit: int = 100
    ) -> Sequence[RecordingAccessLog]: ...

    async def count_in_states(
        self, states: Sequence[RecordingState]
    ) -> dict[RecordingState, int]: ...


class RemindersStore(Protocol):
    """`callcenter.db.repositories.reminders` bound to the transaction."""

    async def get(self, reminder_id: int) -> Reminder | None: ...

    async def create(
        self,
        *,
        user_id: int,
        due_at: datetime,
        text: str,
        kind: ReminderKind,
        created_at: datetime,
        appeal_id: uuid.UUID | None = None,
    ) -> Reminder: ...

    async def list_for_user(
        self, user_id: int, *, include_done: bool = False, limit: int = 100, offset: int = 0
    ) -> Sequence[Reminder]: ...

    async def count_for_user(self, user_id: int, *, include_done: bool = False) -> int: ...

    async def due_for_user(self, user_id: int, now: datetime) -> Sequence[Reminder]: ...

    async def for_appeal(self, appeal_id: uuid.UUID) -> Sequence[Reminder]: ...

    async def mark_done(self, reminder: Reminder, at: datetime) -> Reminder: ...

    async def delete_pending_automatic(self, appeal_id: uuid.UUID) -> int: ...


class ScriptsStore(Protocol):
    """`callcenter.db.repositories.scripts` bound to the transaction."""

    async def get(self, script_id: int) -> CallScript | None: ...

    async def get_by_name(self, name: str) -> CallScript | None: ...

    async def list_all(self) -> Sequence[CallScript]: ...

    async def create(
        self, *, name: str, tree: Mapping[str, Any], updated_at: datetime
    ) -> CallScript: ...

    async def update(
        self,
        script: CallScript,
        *,
        updated_at: datetime,
        name: str | None = None,
        tree: Mapping[str, Any] | None = None,
    ) -> CallScript: ...


class SurveysStore(Protocol):
    """`callcenter.db.repositories.surveys` bound to the transaction."""

    async def get(self, survey_id: int) -> Survey | None: ...

    async def get_by_name(self, name: str) -> Survey | None: ...

    async def list_all(self) -> Sequence[Survey]: ...

    async def create(
        self, *, name: str, description: str, questions: Sequence[NewQuestion]
    ) -> Survey: ...

    async def record_answer(
        self,
        *,
        survey_id: int,
        question_id: int,
        answer_key: str,
        at: datetime,
        call_id: uuid.UUID | None = None,
        contact_id: int | None = None,
    ) -> SurveyResponse: ...

    async def answer_counts(self, survey_id: int) -> dict[int, dict[str, int]]: ...

    async def respondent_count(self, survey_id: int) -> int: ...


class TelephonyEventsStore(Protocol):
    """`callcenter.db.repositories.telephony_events` bound to the transaction."""

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
    ) -> bool: ...

    async def for_linkedid(self, linkedid: str) -> Sequence[TelephonyEvent]: ...

    async def add_many(self, rows: list[dict[str, Any]]) -> None: ...

    async def last_seen(self, linkedids: list[str]) -> dict[str, datetime]: ...


class UsersStore(Protocol):
    """`callcenter.db.repositories.users` bound to the transaction."""

    async def get(self, user_id: int) -> User | None: ...

    async def get_by_username(self, username: str) -> User | None: ...

    async def get_by_operator(self, operator_id: int) -> User | None: ...

    async def create(
        self,
        *,
        username: str,
        password_hash: str,
        role: Role,
        full_name: str = "",
        operator_id: int | None = None,
        is_active: bool = True,
    ) -> User: ...

    async def upsert_admin(
        self, username: str, password_hash: str, *, full_name: str = "Администратор"
    ) -> User: ...

    async def list_all(self) -> Sequence[User]: ...


class VoicemailsStore(Protocol):
    """`callcenter.db.repositories.voicemails` bound to the transaction."""

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
    ) -> Voicemail: ...

    async def get(self, voicemail_id: int) -> Voicemail | None: ...

    async def by_recording(self, recording_id: uuid.UUID) -> Voicemail | None: ...

    async def list_for_line(
        self,
        support_line: int | None,
        *,
        unlistened_only: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Voicemail]: ...

    async def mark_listened(self, voicemail: Voicemail, at: datetime) -> None: ...


class StoreError(Exception):
    """The database could not do what was asked."""


class StoreConflict(StoreError):
    """The change clashes with a unique key or a reference (a lost race, a duplicate)."""


class StoreUnavailable(StoreError):
    """The database failed or cannot be reached; the caller may go on without it."""


class Stores(Protocol):
    """One transaction: every store, plus the unit-of-work controls."""

    @property
    def address_book(self) -> AddressBookStore: ...

    @property
    def appeal_search(self) -> AppealSearchStore: ...

    @property
    def appeals(self) -> AppealsStore: ...

    @property
    def audit(self) -> AuditStore: ...

    @property
    def call_history(self) -> CallHistoryStore: ...

    @property
    def calls(self) -> CallsStore: ...

    @property
    def campaigns(self) -> CampaignsStore: ...

    @property
    def cluster(self) -> ClusterStore: ...

    @property
    def customers(self) -> CustomersStore: ...

    @property
    def grid_applications(self) -> GridApplicationsStore: ...

    @property
    def knowledge_base(self) -> KnowledgeBaseStore: ...

    @property
    def localities(self) -> LocalitiesStore: ...

    @property
    def meter_readings(self) -> MeterReadingsStore: ...

    @property
    def notify_jobs(self) -> NotifyJobsStore: ...

    @property
    def operator_states(self) -> OperatorStatesStore: ...

    @property
    def operators(self) -> OperatorsStore: ...

    @property
    def outages(self) -> OutagesStore: ...

    @property
    def queues(self) -> QueuesStore: ...

    @property
    def recordings(self) -> RecordingsStore: ...

    @property
    def reminders(self) -> RemindersStore: ...

    @property
    def scripts(self) -> ScriptsStore: ...

    @property
    def surveys(self) -> SurveysStore: ...

    @property
    def telephony_events(self) -> TelephonyEventsStore: ...

    @property
    def users(self) -> UsersStore: ...

    @property
    def voicemails(self) -> VoicemailsStore: ...

    async def flush(self) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def savepoint(self) -> AbstractAsyncContextManager[object]: ...

    async def refresh(self, row: object, /) -> None: ...

    def expunge(self, row: object, /) -> None: ...

    def add(self, row: object, /) -> None: ...


class Transactions(Protocol):
    """Opens a transaction; leaving it without `commit()` rolls back."""

    def __call__(self) -> AbstractAsyncContextManager[Stores]: ...

    def begin(self) -> AbstractAsyncContextManager[Stores]:
        """A transaction committed on a clean exit."""
        ...
