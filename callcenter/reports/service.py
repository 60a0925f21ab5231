"""Reports use cases: the summary over a period, the standard reports of SPEC §5, and the
report builder (saved definitions run later). Every result is a `ReportTable`, which the API
returns as JSON and the exports write as CSV and XLSX with the same rounded numbers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from callcenter.domain.report_metrics import (
    ALL_METRICS,
    METRIC_DEFINITIONS,
    METRIC_TITLES,
    Dimension,
    Interval,
    Metric,
    check_threshold,
    derive_values,
)
from callcenter.ports.reports import Filters, ReportStore, SavedReportRecord, SummaryQuery
from callcenter.reports.definitions import (
    PeriodPreset,
    ReportDefinition,
    ReportError,
    ReportKind,
    align,
    resolve_period,
)

Clock = Callable[[], datetime]
Value = int | float | str | None

DIMENSION_TITLES: dict[Dimension, str] = {
    Dimension.INTERVAL: "Интервал",
    Dimension.LINE: "Линия",
    Dimension.QUEUE: "Очередь",
    Dimension.OPERATOR: "Оператор",
    Dimension.DIRECTION: "Направление",
    Dimension.CAMPAIGN: "Кампания",
    Dimension.TOPIC: "Тема",
}
# dimensions whose key is an id: the table has the id and a readable label
_ID_DIMENSIONS = (Dimension.OPERATOR, Dimension.CAMPAIGN, Dimension.TOPIC, Dimension.LINE)
_RATIOS = (Metric.SERVICE_LEVEL, Metric.ABANDON_RATE, Metric.OCCUPANCY)
# the metrics that are not counts: means and ratios, None when there is nothing to divide by
_FRACTIONS = frozenset((*_RATIOS, Metric.ASA_SECONDS, Metric.AHT_SECONDS, Metric.IVR_SECONDS_AVG))

KIND_TITLES: dict[ReportKind, str] = {
    ReportKind.SUMMARY: "Сводный отчёт",
    ReportKind.APPEAL_TRANSITIONS: "Переходы состояний обращений",
    ReportKind.TRANSFERS: "Обработка в других подразделениях после перевода",
    ReportKind.IVR_NODES: "IVR: где абоненты завершили звонок",
    ReportKind.CAMPAIGNS: "Результаты кампаний оповещения",
}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str


@dataclass
class ReportTable:
    title: str
    kind: ReportKind
    start: datetime  # in the centre's zone
    end: datetime
    columns: list[Column]
    rows: list[dict[str, Value]]
    definitions: list[str] = field(default_factory=list)
    sla_seconds: int | None = None

    def period_text(self) -> str:
        return f"{self.start.isoformat()} — {self.end.isoformat()}"

    def values(self) -> list[list[Value]]:
        return [[row.get(c.key) for c in self.columns] for row in self.rows]


class ReportService:
    def __init__(
        self,
        store: ReportStore,
        *,
        timezone: str | ZoneInfo = "Europe/Moscow",
        clock: Clock | None = None,
        max_concurrent: int = 2,
        refresh_every: float = 10.0,
    ) -> None:
        self._store = store
        # the roll-ups are brought up to date before a report when the last refresh is older
        # than this (seconds): reports are at most that much behind the call records
        self._refresh_every = refresh_every
        self._refreshed_at: float | None = None
        self.zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
        self._clock = clock or (lambda: datetime.now(UTC))
        # reports share the API's database with nobody else's queries, but a burst of them
        # must not take every connection of their own small pool either
        self._slots = asyncio.Semaphore(max_concurrent)

    def now(self) -> datetime:
        return self._clock()

    async def refresh(self, *, force: bool = False) -> None:
        moment = time.monotonic()
        last = self._refreshed_at
        if force or last is None or moment - last >= self._refresh_every:
            await self._store.refresh(self.now())
            self._refreshed_at = moment

    # ------------------------------------------------------------------ summary

    async def summary(
        self,
        start: datetime,
        end: datetime,
        *,
        group_by: tuple[Dimension, ...] = (),
        interval: Interval = Interval.HOUR,
        sla_seconds: int = 40,
        filters: Filters | None = None,
        metrics: tuple[Metric, ...] = tuple(Metric),
    ) -> ReportTable:
        try:
            check_threshold(sla_seconds)
        except ValueError as exc:
            raise ReportError(f"норматив ответа: {exc}") from None
        start, end = align(start, end)
        start, end = start.astimezone(self.zone), end.astimezone(self.zone)
        offset = start.utcoffset()
        query = SummaryQuery(
            start=start,
            end=end,
            group_by=group_by,
            interval=interval,
            utc_offset_seconds=int(offset.total_seconds()) if offset else 0,
            sla_seconds=sla_seconds,
            filters=filters or Filters(),
        )
        # the whole centre by interval: one row per interval from the interval totals (a
        # month by 15 minutes is thousands of rows, built here without the general path)
        whole_by_interval = group_by == (Dimension.INTERVAL,) and query.filters == Filters()
        async with self._slots:
            await self.refresh()
            if whole_by_interval:
                pairs = await self._store.interval_totals(query)
            else:
                groups = await self._store.summary(query)
        columns: list[Column] = []
        for dim in group_by:
            columns.append(Column(dim.value, DIMENSION_TITLES[dim]))
            if dim in _ID_DIMENSIONS:
                columns.append(Column(f"{dim.value}_name", f"{DIMENSION_TITLES[dim]}: название"))
        columns += [Column(m.value, METRIC_TITLES[m]) for m in metrics]
        # a month by 15 minutes is thousands of rows: what is the same for every row (enum
        # values, which metrics are ratios) is looked up once, not per row and metric
        dims = [(dim, dim.value, dim in _ID_DIMENSIONS, f"{dim.value}_name") for dim in group_by]
        place = {m: i for i, m in enumerate(ALL_METRICS)}
        pick = [place[m] for m in metrics]
        names = [m.value for m in metrics]
        # the fractions (ratios to 4 digits, seconds to 0.1 s) are rounded; counts are whole
        fractions = [
            (i, 4 if m in _RATIOS else 1) for i, m in enumerate(metrics) if m in _FRACTIONS
        ]
        zone = self.zone
        rows: list[tuple[tuple[Any, ...], dict[str, Value]]] = []
        if whole_by_interval:
            ordered: list[dict[str, Value]] = []
            interval_name = Dimension.INTERVAL.value
            for key, totals in pairs:
                derived = derive_values(totals)
                values = [derived[i] for i in pick]
                for i, digits in fractions:
                    figure = values[i]
                    if figure is not None:
                        values[i] = round(figure, digits)
                line: dict[str, Value] = {
                    interval_name: datetime.fromtimestamp(key, zone).isoformat()
                }
                line.update(zip(names, values, strict=True))
                ordered.append(line)
            return self._summary_table(start, end, columns, ordered, metrics, sla_seconds)
        for group in groups:
            row: dict[str, Value] = {}
            sort_key: list[Any] = []
            for dim, name, has_label, label_name in dims:
                value = group.key[dim]
                sort_key.append((isinstance(value, str), value))
                if dim is Dimension.INTERVAL:
                    row[name] = datetime.fromtimestamp(int(value), zone).isoformat()
                else:
                    row[name] = value
                if has_label:
                    row[label_name] = group.labels.get(dim, "")
            derived = derive_values(group.totals)
            values = [derived[i] for i in pick]
            for i, digits in fractions:
                figure = values[i]
                if figure is not None:
                    values[i] = round(figure, digits)
            row.update(zip(names, values, strict=True))
            rows.append((tuple(sort_key), row))
        rows.sort(key=lambda item: item[0])
        return self._summary_table(
            start, end, columns, [row for _, row in rows], metrics, sla_seconds
        )

    def _summary_table(
        self,
        start: datetime,
        end: datetime,
        columns: list[Column],
        rows: list[dict[str, Value]],
        metrics: tuple[Metric, ...],
        sla_seconds: int,
    ) -> ReportTable:
        definitions = [
            f"Период: {start.isoformat()} — {end.isoformat()} ({self.zone.key})",
            f"Норматив ответа: {sla_seconds} с",
        ]
        definitions += [f"{METRIC_TITLES[m]} ({m.value}): {METRIC_DEFINITIONS[m]}" for m in metrics]
        return ReportTable(
            KIND_TITLES[ReportKind.SUMMARY],
            ReportKind.SUMMARY,
            start,
            end,
            columns,
            rows,
            definitions,
            sla_seconds,
        )

    # ------------------------------------------------------------------ standard reports

    async def standard(self, kind: ReportKind, start: datetime, end: datetime) -> ReportTable:
        if kind is ReportKind.SUMMARY:
            return await self.summary(start, end)
        start, end = align(start, end)
        start, end = start.astimezone(self.zone), end.astimezone(self.zone)
        columns: list[Column]
        rows: list[dict[str, Value]]
        notes: list[str]
        async with self._slots:
            match kind:
                case ReportKind.APPEAL_TRANSITIONS:
                    columns = [
                        Column("from_status", "Из состояния"),
                        Column("to_status", "В состояние"),
                        Column("count", "Переходов"),
                        Column("avg_seconds", "Среднее время в исходном состоянии, с"),
                        Column("max_seconds", "Наибольшее, с"),
                    ]
                    rows = [
                        {
                            "from_status": t.from_status,
                            "to_status": t.to_status,
                            "count": t.count,
                            "avg_seconds": _sec(t.avg_seconds),
                            "max_seconds": _sec(t.max_seconds),
                        }
                        for t in await self._store.appeal_transitions(start, end)
                    ]
                    notes = ["Пустое «из состояния» — регистрация обращения"]
                case ReportKind.TRANSFERS:
                    columns = [
                        Column("target", "Куда переведено"),
                        Column("transfers", "Переводов"),
                        Column("avg_seconds_after", "Среднее время обработки после перевода, с"),
                    ]
                    rows = [
                        {
                            "target": t.target,
                            "transfers": t.transfers,
                            "avg_seconds_after": _sec(t.avg_seconds_after),
                        }
                        for t in await self._store.transfer_handling(start, end)
                    ]
                    notes = ["Время обработки — от перевода до конца звонка"]
                case ReportKind.IVR_NODES:
                    columns = [
                        Column("node", "Узел IVR"),
                        Column("visits", "Прошло звонков"),
                        Column("left_here", "Абонент положил трубку здесь"),
                        Column("closed_here", "Закрыто самообслуживанием здесь"),
                    ]
                    rows = [
                        {
                            "node": n.node,
                            "visits": n.visits,
                            "left_here": n.left_here,
                            "closed_here": n.closed_here,
                        }
                        for n in await self._store.ivr_nodes(start, end)
                    ]
                    notes = ["Звонки учитываются по времени начала"]
                case ReportKind.CAMPAIGNS:
                    columns = [
                        Column("campaign_id", "Кампания"),
                        Column("name", "Название"),
                        Column("channel", "Канал"),
                        Column("positive", "Положительных"),
                        Column("negative", "Отрицательных"),
                        Column("pending", "Ожидают"),
                    ]
                    rows = [
                        {
                            "campaign_id": r.campaign_id,
                            "name": r.name,
                            "channel": r.channel,
                            "positive": r.positive,
                            "negative": r.negative,
                            "pending": r.pending,
                        }
                        for r in await self._store.campaign_results(start, end)
                    ]
                    notes = [
                        "Положительный — сообщение получено; отрицательный — отправлено, "
                        "но не получено (SMS и e-mail: отказ или сбой доставки)"
                    ]
        definitions = [f"Период: {start.isoformat()} — {end.isoformat()} ({self.zone.key})"]
        return ReportTable(KIND_TITLES[kind], kind, start, end, columns, rows, definitions + notes)

    # ------------------------------------------------------------------ builder

    def period_of(self, definition: ReportDefinition) -> tuple[datetime, datetime]:
        return resolve_period(
            definition.period, self.now(), self.zone, definition.start, definition.end
        )

    async def run(
        self, definition: ReportDefinition, *, period: tuple[datetime, datetime] | None = None
    ) -> ReportTable:
        start, end = period or self.period_of(definition)
        if definition.kind is not ReportKind.SUMMARY:
            return await self.standard(definition.kind, start, end)
        return await self.summary(
            start,
            end,
            group_by=definition.group_by,
            interval=definition.interval,
            sla_seconds=definition.sla_seconds,
            filters=definition.filters,
            metrics=definition.metrics,
        )

    async def save(
        self, name: str, definition: dict[str, Any], user_id: int | None
    ) -> SavedReportRecord:
        name = name.strip()
        if not name or len(name) > 128:
            raise ReportError("имя отчёта: от 1 до 128 символов")
        checked = ReportDefinition.from_dict(definition)
        return await self._store.save(name, checked.to_dict(), user_id, self.now())

    async def saved(self) -> list[SavedReportRecord]:
        return await self._store.list_saved()

    async def get_saved(self, report_id: int) -> SavedReportRecord | None:
        return await self._store.get_saved(report_id)

    async def get_saved_by_name(self, name: str) -> SavedReportRecord | None:
        return await self._store.get_saved_by_name(name)

    async def delete_saved(self, report_id: int) -> bool:
        return await self._store.delete_saved(report_id)

    async def run_saved(
        self, record: SavedReportRecord, *, period: tuple[datetime, datetime] | None = None
    ) -> ReportTable:
        table = await self.run(ReportDefinition.from_dict(record.definition), period=period)
        table.title = f"{record.name} — {table.title}"
        return table


def _sec(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


__all__ = ["Column", "PeriodPreset", "ReportError", "ReportService", "ReportTable"]
