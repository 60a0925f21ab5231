"""The reports context's port: what its use cases need from storage (implemented by
`callcenter/db/reports/`) and from an e-mail sender."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from callcenter.domain.report_metrics import Dimension, Interval, Totals


@dataclass(frozen=True, slots=True)
class Filters:
    queue: str | None = None
    line: int | None = None
    operator_id: int | None = None
    direction: str | None = None
    campaign_id: int | None = None

    @property
    def call_only(self) -> bool:
        """Filters the operators' state time cannot follow."""
        return any(v is not None for v in (self.queue, self.direction, self.campaign_id))


@dataclass(frozen=True, slots=True)
class SummaryQuery:
    start: datetime  # aware, on a 15-minute boundary
    end: datetime
    group_by: tuple[Dimension, ...] = ()
    interval: Interval = Interval.HOUR
    # the centre's UTC offset at `start`: interval keys fall on local hours and days
    utc_offset_seconds: int = 0
    sla_seconds: int = 40
    filters: Filters = Filters()


@dataclass(slots=True)
class GroupRow:
    # interval: the local start as Unix seconds; line: 1-3; queue, direction: names;
    # operator, campaign, topic: ids (0 or "" when the call had none)
    key: dict[Dimension, int | str]
    totals: Totals
    labels: dict[Dimension, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppealTransition:
    from_status: str  # "" for registration
    to_status: str
    count: int
    avg_seconds: float | None  # time spent in `from_status` before the change
    max_seconds: float | None


@dataclass(frozen=True, slots=True)
class TransferHandling:
    target: str  # the queue, extension or number the call was transferred to
    transfers: int
    avg_seconds_after: float | None  # from the transfer to the end of the call


@dataclass(frozen=True, slots=True)
class IvrNodeStats:
    node: str
    visits: int  # calls that went through this node
    left_here: int  # callers who hung up here (the node was the last they reached)
    closed_here: int  # calls self-service finished here


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign_id: int
    name: str
    channel: str  # phone, sms, email
    positive: int
    negative: int
    pending: int


@dataclass(frozen=True, slots=True)
class SavedReportRecord:
    id: int
    name: str
    definition: dict[str, Any]
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class ReportStore(Protocol):
    async def refresh(self, now: datetime) -> None:
        """Bring the roll-ups up to date with the call records and operator states."""

    async def summary(self, query: SummaryQuery) -> list[GroupRow]: ...

    async def interval_totals(self, query: SummaryQuery) -> list[tuple[int, Totals]]:
        """The whole centre (no filters) per interval, in order: the interval's local start
        (Unix seconds) and its sums, the operators' time included. The same figures as
        `summary` grouped by interval, without a `GroupRow` per interval."""
        ...

    async def appeal_transitions(
        self, start: datetime, end: datetime
    ) -> list[AppealTransition]: ...

    async def transfer_handling(self, start: datetime, end: datetime) -> list[TransferHandling]: ...

    async def ivr_nodes(self, start: datetime, end: datetime) -> list[IvrNodeStats]: ...

    async def campaign_results(self, start: datetime, end: datetime) -> list[CampaignResult]: ...

    async def list_saved(self) -> list[SavedReportRecord]: ...

    async def get_saved(self, report_id: int) -> SavedReportRecord | None: ...

    async def get_saved_by_name(self, name: str) -> SavedReportRecord | None: ...

    async def save(
        self, name: str, definition: dict[str, Any], user_id: int | None, now: datetime
    ) -> SavedReportRecord:
        """Create the report, or replace the definition of the one with this name."""

    async def delete_saved(self, report_id: int) -> bool: ...


class ReportMailer(Protocol):
    async def send(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: tuple[tuple[str, str, bytes], ...] = (),
    ) -> object:
        """Send one letter; attachments are (file name, MIME type, content)."""
