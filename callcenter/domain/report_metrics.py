"""Report metrics over a period (pure): what each figure means, written once.

Every report figure is derived from additive sums (`Totals`) so that 15-minute buckets, days
and months add up the same way, and the same definitions serve the API, the exports and the
charts. The usual contact-centre definitions, with these choices:

- a *call* is counted in the interval in which it started (Asterisk's first channel), in the
  local time zone of the centre; calls still going on are counted only in `in_progress`;
- *offered* = ended calls that waited for an operator in a queue (inbound or a dialler call put
  to a queue). Self-service calls that never asked for an operator are not offered;
- *answered* = offered calls an operator took; *abandoned* = offered calls whose caller hung up
  while waiting. Short abandons are NOT excluded: every caller who gave up counts, however
  quickly (the standard's 40 s target leaves no grace period). Offered calls that left the
  queue otherwise (voicemail, a failure) are neither answered nor abandoned;
- *service level* = answered within the threshold (40 s by default) / offered, abandoned
  calls staying in the denominator;
- *ASA* (average speed of answer) = mean queue wait of the answered calls;
- *abandon rate* = abandoned / offered;
- *AHT* (average handling time) = (talk + hold + after-call work) / answered calls whose
  talk is known. Talk is answer to hang-up, so it holds the hold time (the caller stays in
  the bridge while on hold). After-call work comes from the operators' wrap-up state and is
  added where the grouping says whose work it was (no grouping, interval, line, operator);
  grouped by queue, direction, campaign or topic AHT is talk and hold only;
- *closed by the IVR* = calls self-service finished; *closed by an operator* = answered calls
  not transferred afterwards; *transferred* = answered calls an operator transferred;
- *IVR time* = mean seconds callers spent in the IVR, over calls that entered it;
- *occupancy* = busy / (busy + ready) operator time, busy being ringing, talking and wrap-up;
  paused and logged-out time do not count (operator and line groupings only);
- a ratio with nothing to divide by is None ("no data"), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

SERVICE_LEVEL_SECONDS = 40
# The thresholds the report tables keep a count for: the service level can be asked for at
# any of them (answered within 10 s, 20 s, ... 300 s).
SLA_THRESHOLDS: tuple[int, ...] = (10, 15, 20, 30, 40, 60, 90, 120, 180, 300)


class Dimension(StrEnum):
    INTERVAL = "interval"
    LINE = "line"
    QUEUE = "queue"
    OPERATOR = "operator"
    DIRECTION = "direction"
    CAMPAIGN = "campaign"
    TOPIC = "topic"


# groupings under which an operator's wrap-up and ready time can be attributed
STATE_DIMENSIONS = frozenset({Dimension.INTERVAL, Dimension.LINE, Dimension.OPERATOR})


class Interval(StrEnum):
    MIN15 = "15m"
    HOUR = "1h"
    DAY = "1d"

    @property
    def seconds(self) -> int:
        return {"15m": 900, "1h": 3600, "1d": 86400}[self.value]


class Metric(StrEnum):
    CALLS = "calls"
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    OFFERED = "offered"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    ANSWERED_WITHIN_SLA = "answered_within_sla"
    SERVICE_LEVEL = "service_level"
    ASA_SECONDS = "asa_seconds"
    ABANDON_RATE = "abandon_rate"
    AHT_SECONDS = "aht_seconds"
    IVR_CLOSED = "ivr_closed"
    OPERATOR_CLOSED = "operator_closed"
    IVR_SECONDS_AVG = "ivr_seconds_avg"
    TRANSFERRED = "transferred"
    OCCUPANCY = "occupancy"
    IN_PROGRESS = "in_progress"


ALL_METRICS: tuple[Metric, ...] = tuple(Metric)

# Russian column titles for the files supervisors open
METRIC_TITLES: dict[Metric, str] = {
    Metric.CALLS: "Звонков",
    Metric.INBOUND: "Входящих",
    Metric.OUTBOUND: "Исходящих",
    Metric.OFFERED: "Поступило на операторов",
    Metric.ANSWERED: "Отвечено",
    Metric.ABANDONED: "Потеряно",
    Metric.ANSWERED_WITHIN_SLA: "Отвечено в норматив",
    Metric.SERVICE_LEVEL: "Уровень обслуживания",
    Metric.ASA_SECONDS: "Среднее время ответа, с",
    Metric.ABANDON_RATE: "Доля потерянных",
    Metric.AHT_SECONDS: "Среднее время обработки, с",
    Metric.IVR_CLOSED: "Закрыто в IVR",
    Metric.OPERATOR_CLOSED: "Закрыто оператором",
    Metric.IVR_SECONDS_AVG: "Среднее время в IVR, с",
    Metric.TRANSFERRED: "Переведено",
    Metric.OCCUPANCY: "Занятость операторов",
    Metric.IN_PROGRESS: "Сейчас в работе",
}

# one line per metric, in Russian, written into every export
METRIC_DEFINITIONS: dict[Metric, str] = {
    Metric.CALLS: "все завершённые звонки, начавшиеся в периоде",
    Metric.INBOUND: "завершённые входящие звонки",
    Metric.OUTBOUND: "завершённые исходящие звонки",
    Metric.OFFERED: "звонки, ожидавшие оператора в очереди",
    Metric.ANSWERED: "поступившие звонки, принятые оператором",
    Metric.ABANDONED: "поступившие звонки, абонент положил трубку в очереди "
    "(короткие не исключаются)",
    Metric.ANSWERED_WITHIN_SLA: "отвеченные с ожиданием не больше норматива",
    Metric.SERVICE_LEVEL: "отвеченные в норматив / поступившие",
    Metric.ASA_SECONDS: "среднее ожидание в очереди отвеченных звонков",
    Metric.ABANDON_RATE: "потерянные / поступившие",
    Metric.AHT_SECONDS: "(разговор с удержанием + поствызывная обработка) / отвеченные",
    Metric.IVR_CLOSED: "звонки, завершённые самообслуживанием",
    Metric.OPERATOR_CLOSED: "отвеченные звонки без перевода",
    Metric.IVR_SECONDS_AVG: "среднее время в IVR звонков, прошедших через IVR",
    Metric.TRANSFERRED: "отвеченные звонки, переведённые оператором",
    Metric.OCCUPANCY: "занят (вызов, разговор, обработка) / (занят + готов)",
    Metric.IN_PROGRESS: "звонки периода, идущие сейчас",
}


@dataclass(slots=True)
class Totals:
    """Additive sums of one group; every metric is derived from these."""

    calls: int = 0
    inbound: int = 0
    outbound: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_sla: int = 0
    wait_answered_seconds: float = 0.0
    talk_count: int = 0
    talk_seconds: float = 0.0
    ivr_closed: int = 0
    operator_closed: int = 0
    transferred: int = 0
    ivr_count: int = 0
    ivr_seconds: float = 0.0
    in_progress: int = 0
    # operator time, from the state history; None where the grouping cannot attribute it
    busy_seconds: float | None = None
    ready_seconds: float | None = None
    wrap_seconds: float | None = None

    def add(self, other: Totals) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if theirs is None:
                continue
            setattr(self, f.name, theirs if mine is None else mine + theirs)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def derive(totals: Totals) -> dict[Metric, float | int | None]:
    """Every metric of one group, by the definitions of the module doc."""
    return dict(zip(ALL_METRICS, derive_values(totals), strict=True))


def derive_values(totals: Totals) -> tuple[float | int | None, ...]:
    """`derive` as a tuple in `ALL_METRICS` order: the same figures without building a dict
    (a month by 15 minutes derives thousands of groups)."""
    t = totals
    handle = t.talk_seconds + (t.wrap_seconds or 0.0)
    occupancy = None
    if t.busy_seconds is not None and t.ready_seconds is not None:
        occupancy = _ratio(t.busy_seconds, t.busy_seconds + t.ready_seconds)
    # the order of `Metric`
    return (
        t.calls,
        t.inbound,
        t.outbound,
        t.offered,
        t.answered,
        t.abandoned,
        t.answered_within_sla,
        _ratio(t.answered_within_sla, t.offered),  # service level
        _ratio(t.wait_answered_seconds, t.answered),  # ASA
        _ratio(t.abandoned, t.offered),  # abandon rate
        _ratio(handle, t.talk_count),  # AHT
        t.ivr_closed,
        t.operator_closed,
        _ratio(t.ivr_seconds, t.ivr_count),  # IVR time
        t.transferred,
        occupancy,
        t.in_progress,
    )


def check_threshold(seconds: int) -> int:
    if seconds not in SLA_THRESHOLDS:
        allowed = ", ".join(str(s) for s in SLA_THRESHOLDS)
        raise ValueError(f"service-level threshold must be one of {allowed} seconds")
    return seconds
