# Generated from callcenter/db/models by scripts/gen_stores.py: run `make stores`.
"""What a stored row looks like to a use case: one Protocol per table, same names as
the models (the ORM rows satisfy them structurally)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any, Protocol

from callcenter.domain.agents import OperatorState
from callcenter.domain.appeals import AppealChannel, AppealKind, AppealStatus
from callcenter.domain.call_legs import LegRole
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.campaigns import (
    AttemptOutcome,
    CampaignKind,
    CampaignStatus,
    DialMode,
    MachineAction,
)
from callcenter.domain.customers import CustomerCategory
from callcenter.domain.grid_applications import GridApplicationStatus
from callcenter.domain.meter_readings import ReadingSource
from callcenter.domain.notify import Channel, DeliveryOutcome, DeliveryStatus, JobStatus
from callcenter.domain.outages import OutageKind
from callcenter.domain.queues import QueueStrategy
from callcenter.domain.recordings import RecordingAction, RecordingState
from callcenter.domain.reminders import ReminderKind
from callcenter.domain.roles import Role
from callcenter.domain.telephony_events import EventSource
from callcenter.domain.transfers import TransferKind


class CorporateContact(Protocol):
    id: int
    name: str
    department: str
    position: str
    phone: str | None
    extension: str | None
    email: str | None


class PersonalContact(Protocol):
    id: int
    user_id: int
    name: str
    phone: str
    note: str
    created_at: datetime


class AppealTopic(Protocol):
    id: int
    code: str
    name: str
    parent_id: int | None
    is_complaint: bool


class Appeal(Protocol):
    id: uuid.UUID
    number: str
    customer_id: int | None
    call_id: uuid.UUID | None
    channel: AppealChannel
    topic_id: int | None
    text: str
    kind: AppealKind
    status: AppealStatus
    operator_id: int | None
    created_at: datetime
    handoff_due_at: datetime | None
    answer_due_at: datetime | None
    extended_until: datetime | None
    closed_at: datetime | None
    params: dict[str, Any]


class AppealStatusHistory(Protocol):
    id: int
    appeal_id: uuid.UUID
    from_status: AppealStatus | None
    to_status: AppealStatus
    changed_by: int | None
    at: datetime
    comment: str


class AuditLogEntry(Protocol):
    id: int
    at: datetime
    user_id: int | None
    action: str
    object_type: str
    object_id: str
    details: dict[str, Any]
    remote_addr: str | None


class Call(Protocol):
    id: uuid.UUID
    linkedid: str
    direction: Direction
    caller_number: str
    caller_name: str | None
    dialled_number: str | None
    customer_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    ivr_path: list[str]
    ivr_seconds: float | None
    ivr_closed: bool
    recording_notice_version: str | None
    queue_name: str | None
    operator_id: int | None
    wait_seconds: float | None
    talk_seconds: float | None
    disposition: Disposition
    hangup_cause: int | None
    transfer_count: int
    is_queued_callback: bool
    priority: int
    campaign_attempt_id: int | None
    updated_at: datetime


class CallLeg(Protocol):
    id: int
    call_id: uuid.UUID
    uniqueid: str
    channel: str
    role: LegRole
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    operator_id: int | None


class CallTransfer(Protocol):
    id: int
    call_id: uuid.UUID
    kind: TransferKind
    from_operator_id: int | None
    to_target: str
    at: datetime


class ContactList(Protocol):
    id: int
    name: str
    created_at: datetime


class Contact(Protocol):
    id: int
    list_id: int
    phone: str
    customer_id: int | None
    name: str
    variables: dict[str, Any]
    timezone: str | None


class Campaign(Protocol):
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
    target_abandon_pct: float
    created_at: datetime
    dialer_owner: str | None
    dialer_heartbeat_at: datetime | None


class CallAttempt(Protocol):
    id: int
    campaign_id: int
    contact_id: int
    attempt_no: int
    started_at: datetime | None
    ended_at: datetime | None
    outcome: AttemptOutcome
    reason_code: int | None
    amd_status: str | None
    amd_cause: str | None
    result: str | None
    call_id: uuid.UUID | None
    next_attempt_at: datetime | None


class DoNotCall(Protocol):
    id: int
    phone: str
    reason: str
    added_at: datetime


class QueueCallbackRow(Protocol):
    id: uuid.UUID
    node: str
    queue: str
    number: str
    original_uniqueid: str
    waiting_since: datetime
    priority: int
    booked_at: datetime
    customer_id: int | None
    state: str
    attempts: int
    next_attempt_at: datetime | None
    channel_id: str | None
    dialled_at: datetime | None
    last_outcome: str | None
    history: list[str]
    updated_at: datetime


class EmergencySwitch(Protocol):
    id: int
    active: bool
    source: str | None
    since: datetime | None
    announcement: str
    baseline_per_hour: float | None
    updated_at: datetime


class ClusterNode(Protocol):
    name: str
    role: str
    site: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    snapshot: dict[str, Any] | None


class NodeRequest(Protocol):
    id: int
    node: str | None
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    taken_by: str | None
    done_at: datetime | None
    result: dict[str, Any] | None
    error: str | None
    error_kind: str | None


class RedialJobRow(Protocol):
    id: uuid.UUID
    node: str | None
    operator_id: int
    user_id: int
    number: str
    context: str
    exten: str
    device: str
    interface: str
    attempts: int
    interval_seconds: float
    made: int
    status: str
    channel_ids: list[str]
    last_error: str | None
    next_attempt_at: datetime
    taken_by: str | None
    lease_until: datetime | None
    created_at: datetime
    updated_at: datetime


class Locality(Protocol):
    id: int
    name: str
    region: str
    timezone: str


class Customer(Protocol):
    id: int
    account_number: str
    full_name: str
    category: CustomerCategory
    address: str
    locality_id: int | None
    email: str | None
    balance_kopecks: int
    created_at: datetime

    @property
    def locality(self) -> Locality | None: ...
    @property
    def phones(self) -> Sequence[CustomerPhone]: ...


class CustomerPhone(Protocol):
    id: int
    customer_id: int
    phone: str

    @property
    def customer(self) -> Customer: ...


class GridApplication(Protocol):
    id: int
    number: str
    customer_id: int | None
    status: GridApplicationStatus
    status_text_ru: str
    submitted_at: datetime
    updated_at: datetime


class KbArticle(Protocol):
    id: int
    title: str
    body: str
    tags: list[str]
    support_line: int | None
    updated_at: datetime
    search_text: str


class CallScript(Protocol):
    id: int
    name: str
    tree: dict[str, Any]
    updated_at: datetime


class MeterReading(Protocol):
    id: int
    customer_id: int | None
    account_number: str
    value: str
    source: ReadingSource
    call_id: uuid.UUID | None
    taken_at: datetime


class NotifyJob(Protocol):
    id: int
    campaign_id: int
    channel: Channel
    status: JobStatus
    contact_list_id: int | None
    message_template: str
    subject: str
    contacts_total: int
    expanded_after: int
    created_by: int | None
    created_at: datetime
    finished_at: datetime | None


class MessageDelivery(Protocol):
    id: int
    job_id: int
    campaign_id: int
    contact_id: int
    channel: Channel
    idempotency_key: str
    address: str
    subject: str
    text: str
    status: DeliveryStatus
    outcome: DeliveryOutcome | None
    reason: str
    attempts: int
    next_attempt_at: datetime
    locked_by: str | None
    gateway_message_id: str | None
    created_at: datetime
    sent_at: datetime | None
    finished_at: datetime | None


class Operator(Protocol):
    id: int
    extension: str
    full_name: str
    support_line: int
    interface: str
    skills: dict[str, int]
    is_active: bool
    created_at: datetime


class OperatorStateHistory(Protocol):
    id: int
    operator_id: int
    state: OperatorState
    pause_reason: str | None
    started_at: datetime
    ended_at: datetime | None


class Outage(Protocol):
    id: int
    locality_id: int
    kind: OutageKind
    starts_at: datetime
    ends_at: datetime | None
    reason: str
    description_ru: str


class Queue(Protocol):
    id: int
    name: str
    support_line: int | None
    strategy: QueueStrategy
    description: str
    wait_target_seconds: int
    is_overflow: bool

    @property
    def members(self) -> Sequence[QueueMember]: ...


class QueueMember(Protocol):
    id: int
    queue_id: int
    operator_id: int
    penalty: int

    @property
    def queue(self) -> Queue: ...


class Recording(Protocol):
    id: uuid.UUID
    call_id: uuid.UUID | None
    appeal_id: uuid.UUID | None
    path: str
    state: RecordingState
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    size_bytes: int | None
    sha256: str | None
    archived_at: datetime | None
    delete_after: datetime | None
    rule_name: str | None


class RecordingAccessLog(Protocol):
    id: int
    recording_id: uuid.UUID
    user_id: int | None
    action: RecordingAction
    at: datetime
    remote_addr: str | None


class Reminder(Protocol):
    id: int
    user_id: int
    appeal_id: uuid.UUID | None
    due_at: datetime
    text: str
    kind: ReminderKind
    created_at: datetime
    done_at: datetime | None


class _CallSums(Protocol):
    calls: int
    inbound: int
    outbound: int
    offered: int
    answered: int
    abandoned: int
    wait_answered_seconds: float
    talk_count: int
    talk_seconds: float
    ivr_closed: int
    operator_closed: int
    transferred: int
    ivr_count: int
    ivr_seconds: float
    in_progress: int
    within_10: int
    within_15: int
    within_20: int
    within_30: int
    within_40: int
    within_60: int
    within_90: int
    within_120: int
    within_180: int
    within_300: int


class _StateSums(Protocol):
    busy_seconds: float
    ready_seconds: float
    wrap_seconds: float


class ReportCallBucket(Protocol):
    id: int
    bucket: int
    direction: str
    queue_name: str
    operator_id: int
    campaign_id: int


class ReportCallQuarter(Protocol):
    id: int
    bucket: int
    direction: str
    queue_name: str
    campaign_id: int


class ReportCallDay(Protocol):
    id: int
    bucket: int
    direction: str
    queue_name: str
    operator_id: int
    campaign_id: int


class ReportOperatorBucket(Protocol):
    id: int
    bucket: int
    operator_id: int


class ReportLineBucket(Protocol):
    id: int
    bucket: int
    line: int


class ReportOperatorDay(Protocol):
    id: int
    bucket: int
    operator_id: int


class ReportIntervalTotal(Protocol):
    bucket: int


class ReportRollupMark(Protocol):
    name: str
    through: datetime


class SavedReport(Protocol):
    id: int
    name: str
    definition: dict[str, Any]
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class Survey(Protocol):
    id: int
    name: str
    description: str

    @property
    def questions(self) -> Sequence[SurveyQuestion]: ...


class SurveyQuestion(Protocol):
    id: int
    survey_id: int
    position: int
    text_ru: str
    answers: dict[str, str]


class SurveyResponse(Protocol):
    id: int
    survey_id: int
    contact_id: int | None
    call_id: uuid.UUID | None
    question_id: int
    answer_key: str
    at: datetime


class TelephonyEvent(Protocol):
    id: int
    event_key: str
    source: EventSource
    name: str
    linkedid: str | None
    uniqueid: str | None
    received_at: datetime
    payload: dict[str, Any]


class User(Protocol):
    id: int
    username: str
    password_hash: str
    role: Role
    full_name: str
    is_active: bool
    operator_id: int | None
    created_at: datetime


class Voicemail(Protocol):
    id: int
    call_id: uuid.UUID | None
    appeal_id: uuid.UUID | None
    caller_number: str
    recording_id: uuid.UUID | None
    duration_seconds: float | None
    created_at: datetime
    listened_at: datetime | None
    support_line: int | None
