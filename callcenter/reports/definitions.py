"""A report definition as a supervisor builds it: kind, metrics, groupings, filters, period.

Only whitelisted names are accepted (metrics and dimensions of the domain, filters below);
nothing a user sends becomes SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from callcenter.domain.report_metrics import (
    ALL_METRICS,
    SERVICE_LEVEL_SECONDS,
    Dimension,
    Interval,
    Metric,
    check_threshold,
)
from callcenter.ports.reports import Filters

MAX_PERIOD = timedelta(days=366)
STEP = 900  # the roll-ups' 15-minute buckets


class ReportError(ValueError):
    """A definition or a request that cannot be run; the message is Russian, for the user."""


class ReportKind(StrEnum):
    SUMMARY = "summary"
    APPEAL_TRANSITIONS = "appeal_transitions"
    TRANSFERS = "transfers"
    IVR_NODES = "ivr_nodes"
    CAMPAIGNS = "campaigns"


class PeriodPreset(StrEnum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    LAST_7_DAYS = "last_7_days"
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    CUSTOM = "custom"


FILTER_NAMES = ("queue", "line", "operator_id", "direction", "campaign_id")


@dataclass(frozen=True)
class ReportDefinition:
    kind: ReportKind = ReportKind.SUMMARY
    metrics: tuple[Metric, ...] = ALL_METRICS
    group_by: tuple[Dimension, ...] = ()
    interval: Interval = Interval.HOUR
    sla_seconds: int = SERVICE_LEVEL_SECONDS
    filters: Filters = field(default_factory=Filters)
    period: PeriodPreset = PeriodPreset.YESTERDAY
    start: datetime | None = None  # custom periods
    end: datetime | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportDefinition:
        known = {"kind", "metrics", "group_by", "interval", "sla_seconds", "filters", "period"}
        known |= {"start", "end"}
        unknown = set(data) - known
        if unknown:
            raise ReportError(f"неизвестные поля отчёта: {', '.join(sorted(unknown))}")
        try:
            kind = ReportKind(data.get("kind", "summary"))
            metrics = tuple(Metric(m) for m in data.get("metrics") or ALL_METRICS)
            group_by = tuple(Dimension(d) for d in data.get("group_by") or ())
            interval = Interval(data.get("interval", "1h"))
            period = PeriodPreset(data.get("period", "yesterday"))
        except ValueError as exc:
            raise ReportError(f"недопустимое значение: {exc}") from None
        if len(set(group_by)) != len(group_by) or len(set(metrics)) != len(metrics):
            raise ReportError("метрики и группировки не должны повторяться")
        try:
            sla = check_threshold(int(data.get("sla_seconds", SERVICE_LEVEL_SECONDS)))
        except (TypeError, ValueError) as exc:
            raise ReportError(f"норматив ответа: {exc}") from None
        raw_filters = data.get("filters") or {}
        if not isinstance(raw_filters, dict) or set(raw_filters) - set(FILTER_NAMES):
            raise ReportError(f"фильтры: допустимы только {', '.join(FILTER_NAMES)}")
        try:
            filters = Filters(
                queue=_opt_str(raw_filters.get("queue")),
                line=_opt_int(raw_filters.get("line")),
                operator_id=_opt_int(raw_filters.get("operator_id")),
                direction=_opt_str(raw_filters.get("direction")),
                campaign_id=_opt_int(raw_filters.get("campaign_id")),
            )
        except (TypeError, ValueError):
            raise ReportError("фильтры: неверные значения") from None
        start = _opt_time(data.get("start"))
        end = _opt_time(data.get("end"))
        if period is PeriodPreset.CUSTOM and (start is None or end is None):
            raise ReportError("для произвольного периода нужны start и end")
        return cls(kind, metrics, group_by, interval, sla, filters, period, start, end)

    def to_dict(self) -> dict[str, Any]:
        f = self.filters
        filters = {n: getattr(f, n) for n in FILTER_NAMES if getattr(f, n) is not None}
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "metrics": [m.value for m in self.metrics],
            "group_by": [d.value for d in self.group_by],
            "interval": self.interval.value,
            "sla_seconds": self.sla_seconds,
            "filters": filters,
            "period": self.period.value,
        }
        if self.period is PeriodPreset.CUSTOM:
            assert self.start is not None
            assert self.end is not None
            out["start"] = self.start.isoformat()
            out["end"] = self.end.isoformat()
        return out


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError(value)
    return value


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    return int(value)


def _opt_time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ReportError(f"не дата и время: {value}") from None
    if moment.tzinfo is None:
        raise ReportError("время периода должно быть с часовым поясом, например +03:00")
    return moment


def resolve_period(
    preset: PeriodPreset,
    now: datetime,
    zone: ZoneInfo,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[datetime, datetime]:
    """[start, end) of a preset in the centre's zone, or a custom one, on 15-minute marks."""
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    match preset:
        case PeriodPreset.TODAY:
            start, end = midnight, _next_day(midnight, zone)
        case PeriodPreset.YESTERDAY:
            start, end = _prev_day(midnight, zone), midnight
        case PeriodPreset.LAST_7_DAYS:
            end = _next_day(midnight, zone)
            start = (midnight - timedelta(days=6)).replace(tzinfo=zone)
        case PeriodPreset.THIS_MONTH:
            start = midnight.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1)
        case PeriodPreset.LAST_MONTH:
            end = midnight.replace(day=1)
            start = (end - timedelta(days=1)).replace(day=1)
        case PeriodPreset.CUSTOM:
            if start is None or end is None:
                raise ReportError("для произвольного периода нужны start и end")
    return align(start, end)


def _next_day(midnight: datetime, zone: ZoneInfo) -> datetime:
    return (midnight + timedelta(days=1)).replace(tzinfo=zone)


def _prev_day(midnight: datetime, zone: ZoneInfo) -> datetime:
    return (midnight - timedelta(days=1)).replace(tzinfo=zone)


def align(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period widened to whole 15-minute buckets; checked for order and length."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ReportError("время периода должно быть с часовым поясом, например +03:00")
    if end <= start:
        raise ReportError("конец периода должен быть позже начала")
    if end - start > MAX_PERIOD:
        raise ReportError("период отчёта не длиннее 366 дней")
    lo = int(start.timestamp()) // STEP * STEP
    hi = -(-int(end.timestamp()) // STEP) * STEP
    zone = start.tzinfo
    return datetime.fromtimestamp(lo, zone), datetime.fromtimestamp(hi, zone)
