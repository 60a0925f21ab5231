"""`ReportStore` on SQLAlchemy: period queries over the roll-ups, the standard reports from the
records themselves, and saved report definitions."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callcenter.db.models import (
    AppealStatusHistory,
    AppealTopic,
    CallAttempt,
    CallTransfer,
    Campaign,
    MessageDelivery,
    Operator,
    Queue,
    ReportCallBucket,
    ReportCallDay,
    ReportCallQuarter,
    ReportIntervalTotal,
    ReportLineBucket,
    ReportOperatorBucket,
    ReportOperatorDay,
    SavedReport,
)
from callcenter.db.models.calls import Call
from callcenter.db.models.reports import within_column
from callcenter.db.reports import rollup
from callcenter.domain.calls import Disposition
from callcenter.domain.campaigns import AttemptOutcome
from callcenter.domain.report_metrics import (
    STATE_DIMENSIONS,
    Dimension,
    Totals,
)
from callcenter.ports.reports import (
    AppealTransition,
    CampaignResult,
    Filters,
    GroupRow,
    IvrNodeStats,
    SavedReportRecord,
    SummaryQuery,
    TransferHandling,
)

_DIRECTION_LABELS = {"inbound": "входящие", "outbound": "исходящие", "internal": "внутренние"}
_CALL_SUMS = (
    "calls",
    "inbound",
    "outbound",
    "offered",
    "answered",
    "abandoned",
    "wait_answered_seconds",
    "talk_count",
    "talk_seconds",
    "ivr_closed",
    "operator_closed",
    "transferred",
    "ivr_count",
    "ivr_seconds",
    "in_progress",
)
_IS_SECONDS = [name.endswith("seconds") for name in _CALL_SUMS] + [False]


def _bounds(query: SummaryQuery) -> tuple[int, int]:
    return int(query.start.timestamp()), int(query.end.timestamp())


def _interval_key(bucket: Any, query: SummaryQuery) -> Any:
    """The local interval's start (Unix seconds) of a UTC bucket."""
    step = query.interval.seconds
    shifted = bucket + query.utc_offset_seconds
    return shifted - shifted % step - query.utc_offset_seconds


class SqlReportStore:
    """`utc_offset_seconds`: where the centre's days begin, for the day roll-ups (a zone with
    summer time keeps its standard offset there; reports then fall back to 15-minute rows
    for periods given in the other offset)."""

    def __init__(self, sessions: async_sessionmaker[Any], *, utc_offset_seconds: int = 0) -> None:
        self._sessions = sessions
        self._offset = utc_offset_seconds

    # ------------------------------------------------------------------ roll-ups

    async def refresh(self, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await rollup.refresh(session, now, self._offset)

    def _whole_days(self, query: SummaryQuery) -> tuple[int, int] | None:
        """The local days wholly inside the period, when day rows can serve it."""
        if query.utc_offset_seconds != self._offset:
            return None
        if Dimension.INTERVAL in query.group_by and query.interval.seconds < rollup.DAY:
            return None
        lo, hi = _bounds(query)
        first = rollup.day_start(lo + rollup.DAY - 1, self._offset)
        last = rollup.day_start(hi, self._offset)
        return (first, last) if first < last else None

    def _mixed(
        self,
        day: Any,
        fine: Any,
        days: tuple[int, int] | None,
        names: list[str],
        query: SummaryQuery,
    ) -> Any:
        """Day rows for whole days and 15-minute rows for the edges of the period (each part a
        plain range of the bucket index)."""
        if days is None:
            return fine
        lo, hi = _bounds(query)
        first, last = days
        parts = [
            sa.select(*(day.c[n] for n in names)).where(day.c.bucket >= first, day.c.bucket < last)
        ]
        for edge_lo, edge_hi in ((lo, first), (last, hi)):
            if edge_lo < edge_hi:
                parts.append(
                    sa.select(*(fine.c[n] for n in names)).where(
                        fine.c.bucket >= edge_lo, fine.c.bucket < edge_hi
                    )
                )
        return sa.union_all(*parts).subquery()

    def _call_source(self, session: AsyncSession, query: SummaryQuery) -> Any:
        if Dimension.TOPIC in query.group_by:
            # topics are the appeals' and change after the call: read the calls themselves
            return (
                rollup.call_source(rollup.dialect_of(session), with_topic=True)
                .where(Call.started_at >= query.start, Call.started_at < query.end)
                .subquery()
            )
        if Dimension.OPERATOR not in query.group_by and query.filters.operator_id is None:
            return ReportCallQuarter.__table__
        names = [*rollup.KEY_COLUMNS, *rollup.SUM_COLUMNS]
        return self._mixed(
            ReportCallDay.__table__,
            ReportCallBucket.__table__,
            self._whole_days(query),
            names,
            query,
        )

    def _state_source(self, query: SummaryQuery) -> tuple[Any, bool]:
        """The operator-time rows and whether they are per line (else per operator)."""
        if Dimension.OPERATOR not in query.group_by and query.filters.operator_id is None:
            return ReportLineBucket.__table__, True
        names = ["bucket", "operator_id", *rollup.STATE_SUMS]
        source = self._mixed(
            ReportOperatorDay.__table__,
            ReportOperatorBucket.__table__,
            self._whole_days(query),
            names,
            query,
        )
        return source, False

    # ------------------------------------------------------------------ summary

    async def summary(self, query: SummaryQuery) -> list[GroupRow]:
        if _from_totals(query):
            if query.group_by:
                interval = Dimension.INTERVAL
                pairs = await self.interval_totals(query)
                return [GroupRow({interval: key}, totals) for key, totals in pairs]
            async with self._sessions() as session:
                return [GroupRow({}, await self._period_total(session, query))]
        async with self._sessions() as session:
            rows = await self._call_rows(session, query)
            if set(query.group_by) <= STATE_DIMENSIONS and not query.filters.call_only:
                await self._add_state_time(session, query, rows)
            result = list(rows.values())
            await self._label(session, result)
        return result

    def _totals_sums(self, query: SummaryQuery) -> list[Any]:
        t = ReportIntervalTotal.__table__.c
        # in the order of `Totals`' fields, so a row makes its `Totals` without names
        return [t[_total_column(name, query.sla_seconds)] for name in _TOTALS_ORDER]

    async def interval_totals(self, query: SummaryQuery) -> list[tuple[int, Totals]]:
        """From one row per 15 minutes: the same sums as the per-queue and per-line rows,
        already added up."""
        lo, hi = _bounds(query)
        t = ReportIntervalTotal.__table__.c
        sums = self._totals_sums(query)
        step = query.interval.seconds
        stmt: sa.Select[Any]
        if step == rollup.BUCKET and query.utc_offset_seconds % step == 0:
            # a 15-minute interval is a bucket: the rows as they are, in the index's order
            stmt = sa.select(t.bucket, *sums).order_by(t.bucket)
        else:
            key = _interval_key(t.bucket, query)
            stmt = sa.select(key, *(sa.func.sum(c) for c in sums)).group_by(key).order_by(key)
        stmt = stmt.where(t.bucket >= lo, t.bucket < hi)
        async with self._sessions() as session:
            records = (await session.execute(stmt)).all()
        return [(int(bucket), Totals(*figures)) for bucket, *figures in records]

    async def _period_total(self, session: AsyncSession, query: SummaryQuery) -> Totals:
        lo, hi = _bounds(query)
        t = ReportIntervalTotal.__table__.c
        stmt = sa.select(*(sa.func.sum(c) for c in self._totals_sums(query)))
        record = (await session.execute(stmt.where(t.bucket >= lo, t.bucket < hi))).one()
        if record[0] is None:  # no rows: sums of nothing
            return Totals(busy_seconds=0.0, ready_seconds=0.0, wrap_seconds=0.0)
        return Totals(*record)

    async def _call_rows(
        self, session: AsyncSession, query: SummaryQuery
    ) -> dict[tuple[Any, ...], GroupRow]:
        lo, hi = _bounds(query)
        src = self._call_source(session, query)
        c = src.c
        keys: list[Any] = []
        needs_queue = Dimension.LINE in query.group_by or query.filters.line is not None
        for dim in query.group_by:
            match dim:
                case Dimension.INTERVAL:
                    keys.append(_interval_key(c.bucket, query))
                case Dimension.LINE:
                    keys.append(sa.func.coalesce(Queue.support_line, 0))
                case Dimension.QUEUE:
                    keys.append(c.queue_name)
                case Dimension.OPERATOR:
                    keys.append(c.operator_id)
                case Dimension.DIRECTION:
                    keys.append(c.direction)
                case Dimension.CAMPAIGN:
                    keys.append(c.campaign_id)
                case Dimension.TOPIC:
                    keys.append(c.topic_id)
        sums = [sa.func.sum(c[name]) for name in _CALL_SUMS]
        sums.append(sa.func.sum(c[within_column(query.sla_seconds)]))
        stmt = sa.select(*keys, *sums).select_from(src)
        if needs_queue:
            stmt = stmt.outerjoin(Queue, Queue.name == c.queue_name)
        stmt = stmt.where(c.bucket >= lo, c.bucket < hi)
        f = query.filters
        if f.queue is not None:
            stmt = stmt.where(c.queue_name == f.queue)
        if f.line is not None:
            stmt = stmt.where(Queue.support_line == f.line)
        if f.operator_id is not None:
            stmt = stmt.where(c.operator_id == f.operator_id)
        if f.direction is not None:
            stmt = stmt.where(c.direction == f.direction)
        if f.campaign_id is not None:
            stmt = stmt.where(c.campaign_id == f.campaign_id)
        if keys:
            stmt = stmt.group_by(*keys)
        rows: dict[tuple[Any, ...], GroupRow] = {}
        width = len(keys)
        for record in await session.execute(stmt):
            key = tuple(_norm(v) for v in record[:width])
            numbers = [
                float(v or 0.0) if seconds else int(v or 0)
                for v, seconds in zip(record[width:], _IS_SECONDS, strict=True)
            ]
            totals = Totals(
                **dict(zip(_CALL_SUMS, numbers, strict=False)),  # type: ignore[arg-type]
                answered_within_sla=int(numbers[-1]),
            )
            rows[key] = GroupRow(dict(zip(query.group_by, key, strict=True)), totals)
        if not query.group_by and not rows:
            rows[()] = GroupRow({}, Totals())
        return rows

    async def _add_state_time(
        self, session: AsyncSession, query: SummaryQuery, rows: dict[tuple[Any, ...], GroupRow]
    ) -> None:
        lo, hi = _bounds(query)
        src, per_line = self._state_source(query)
        b = src.c
        keys: list[Any] = []
        for dim in query.group_by:
            match dim:
                case Dimension.INTERVAL:
                    keys.append(_interval_key(b.bucket, query))
                case Dimension.LINE:
                    keys.append(b.line if per_line else sa.func.coalesce(Operator.support_line, 0))
                case Dimension.OPERATOR:
                    keys.append(b.operator_id)
        stmt = (
            sa.select(
                *keys,
                sa.func.sum(b.busy_seconds),
                sa.func.sum(b.ready_seconds),
                sa.func.sum(b.wrap_seconds),
            )
            .select_from(src)
            .where(b.bucket >= lo, b.bucket < hi)
        )
        line_filter = query.filters.line
        if not per_line and (Dimension.LINE in query.group_by or line_filter is not None):
            stmt = stmt.join(Operator, Operator.id == b.operator_id)
        if line_filter is not None:
            stmt = stmt.where((b.line if per_line else Operator.support_line) == line_filter)
        if query.filters.operator_id is not None:
            stmt = stmt.where(b.operator_id == query.filters.operator_id)
        if keys:
            stmt = stmt.group_by(*keys)
        for row in rows.values():
            row.totals.busy_seconds = row.totals.ready_seconds = row.totals.wrap_seconds = 0.0
        for record in await session.execute(stmt):
            values = tuple(record)
            key = tuple(_norm(v) for v in values[: len(keys)])
            busy, ready, wrap = (float(v or 0.0) for v in values[len(keys) :])
            found = rows.get(key)
            if found is None:
                found = rows[key] = GroupRow(
                    dict(zip(query.group_by, key, strict=True)),
                    Totals(busy_seconds=0.0, ready_seconds=0.0, wrap_seconds=0.0),
                )
            row = found
            row.totals.busy_seconds = busy
            row.totals.ready_seconds = ready
            row.totals.wrap_seconds = wrap

    async def _label(self, session: AsyncSession, rows: list[GroupRow]) -> None:
        wanted: dict[Dimension, set[Any]] = defaultdict(set)
        for row in rows:
            for dim, value in row.key.items():
                wanted[dim].add(value)
        names: dict[Dimension, dict[Any, str]] = {}
        if ids := wanted.get(Dimension.OPERATOR):
            staff = await session.execute(
                sa.select(Operator.id, Operator.extension, Operator.full_name).where(
                    Operator.id.in_(ids)
                )
            )
            names[Dimension.OPERATOR] = {i: f"{ext} {name}" for i, ext, name in staff}
        if ids := wanted.get(Dimension.CAMPAIGN):
            found = await session.execute(
                sa.select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids))
            )
            names[Dimension.CAMPAIGN] = {i: n for i, n in found}
        if ids := wanted.get(Dimension.TOPIC):
            found = await session.execute(
                sa.select(AppealTopic.id, AppealTopic.name).where(AppealTopic.id.in_(ids))
            )
            names[Dimension.TOPIC] = {i: n for i, n in found}
        for row in rows:
            for dim, value in row.key.items():
                row.labels[dim] = _label(dim, value, names.get(dim, {}))

    # ------------------------------------------------------------------ standard reports

    async def appeal_transitions(self, start: datetime, end: datetime) -> list[AppealTransition]:
        h = AppealStatusHistory
        touched = sa.select(h.appeal_id).where(h.at >= start, h.at < end)
        stmt = (
            sa.select(h.appeal_id, h.from_status, h.to_status, h.at)
            .where(h.appeal_id.in_(touched), h.at < end)
            .order_by(h.appeal_id, h.at, h.id)
        )
        durations: dict[tuple[str, str], list[float | None]] = defaultdict(list)
        async with self._sessions() as session:
            previous: tuple[Any, datetime] | None = None
            for appeal_id, from_status, to_status, at in await session.execute(stmt):
                since = previous[1] if previous and previous[0] == appeal_id else None
                previous = (appeal_id, at)
                if at < start:
                    continue
                key = (from_status.value if from_status else "", to_status.value)
                durations[key].append(None if since is None else (at - since).total_seconds())
        out = []
        for (before, after), values in sorted(durations.items()):
            known = [v for v in values if v is not None]
            out.append(
                AppealTransition(
                    before,
                    after,
                    len(values),
                    sum(known) / len(known) if known else None,
                    max(known) if known else None,
                )
            )
        return out

    async def transfer_handling(self, start: datetime, end: datetime) -> list[TransferHandling]:
        stmt = (
            sa.select(CallTransfer.to_target, CallTransfer.at, Call.ended_at)
            .join(Call, Call.id == CallTransfer.call_id)
            .where(CallTransfer.at >= start, CallTransfer.at < end)
        )
        counts: Counter[str] = Counter()
        after: dict[str, list[float]] = defaultdict(list)
        async with self._sessions() as session:
            for target, at, ended in await session.execute(stmt):
                counts[target] += 1
                if ended is not None and ended >= at:
                    after[target].append((ended - at).total_seconds())
        return [
            TransferHandling(
                target,
                count,
                sum(after[target]) / len(after[target]) if after[target] else None,
            )
            for target, count in sorted(counts.items())
        ]

    async def ivr_nodes(self, start: datetime, end: datetime) -> list[IvrNodeStats]:
        stmt = sa.select(Call.ivr_path, Call.disposition).where(
            Call.started_at >= start, Call.started_at < end, Call.ivr_seconds.is_not(None)
        )
        visits: Counter[str] = Counter()
        left: Counter[str] = Counter()
        closed: Counter[str] = Counter()
        async with self._sessions() as session:
            result = await session.stream(stmt.execution_options(yield_per=5000))
            async for path, disposition in result:
                nodes = [str(n) for n in path or []]
                if not nodes:
                    continue
                visits.update(set(nodes))
                if disposition is Disposition.HUNG_UP_IN_IVR:
                    left[nodes[-1]] += 1
                elif disposition is Disposition.CLOSED_BY_IVR:
                    closed[nodes[-1]] += 1
        return [
            IvrNodeStats(node, visits[node], left[node], closed[node]) for node in sorted(visits)
        ]

    async def campaign_results(self, start: datetime, end: datetime) -> list[CampaignResult]:
        a = CallAttempt
        stmt = (
            sa.select(Campaign.id, Campaign.name, a.outcome, sa.func.count())
            .join(Campaign, Campaign.id == a.campaign_id)
            .where(
                sa.or_(
                    sa.and_(a.ended_at >= start, a.ended_at < end),
                    sa.and_(
                        a.outcome == AttemptOutcome.PENDING,
                        a.started_at >= start,
                        a.started_at < end,
                    ),
                )
            )
            .group_by(Campaign.id, Campaign.name, a.outcome)
        )
        phone: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
        results: list[CampaignResult] = []
        async with self._sessions() as session:
            for campaign_id, name, outcome, count in await session.execute(stmt):
                phone[(campaign_id, name)][outcome.value] += count
            for (campaign_id, name), c in sorted(phone.items()):
                results.append(
                    CampaignResult(
                        campaign_id, name, "phone", c["positive"], c["negative"], c["pending"]
                    )
                )
            # SMS and e-mail: one delivery per contact; its outcome once it is over (a skipped
            # one, never sent, counts in neither)
            d = MessageDelivery
            over = sa.and_(d.finished_at >= start, d.finished_at < end)
            open_ = sa.and_(d.finished_at.is_(None), d.created_at >= start, d.created_at < end)
            finished = d.finished_at.is_not(None)
            messages = await session.execute(
                sa.select(
                    d.campaign_id, Campaign.name, d.channel, d.outcome, finished, sa.func.count()
                )
                .join(Campaign, Campaign.id == d.campaign_id)
                .where(sa.or_(over, open_))
                .group_by(d.campaign_id, Campaign.name, d.channel, d.outcome, finished)
            )
            by_channel: dict[tuple[int, str, str], Counter[str]] = defaultdict(Counter)
            for campaign_id, name, channel, outcome, is_over, count in messages:
                key = (campaign_id, name, str(channel.value))
                if outcome is not None:
                    by_channel[key][outcome.value] += count
                elif not is_over:
                    by_channel[key]["pending"] += count
            for (campaign_id, name, channel), c in sorted(by_channel.items()):
                results.append(
                    CampaignResult(
                        campaign_id, name, channel, c["positive"], c["negative"], c["pending"]
                    )
                )
        return results

    # ------------------------------------------------------------------ saved reports

    async def list_saved(self) -> list[SavedReportRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(sa.select(SavedReport).order_by(SavedReport.name))
            return [_record(r) for r in rows]

    async def get_saved(self, report_id: int) -> SavedReportRecord | None:
        async with self._sessions() as session:
            row = await session.get(SavedReport, report_id)
            return None if row is None else _record(row)

    async def get_saved_by_name(self, name: str) -> SavedReportRecord | None:
        async with self._sessions() as session:
            row = await session.scalar(sa.select(SavedReport).where(SavedReport.name == name))
            return None if row is None else _record(row)

    async def save(
        self, name: str, definition: dict[str, Any], user_id: int | None, now: datetime
    ) -> SavedReportRecord:
        async with self._sessions.begin() as session:
            row = await session.scalar(sa.select(SavedReport).where(SavedReport.name == name))
            if row is None:
                row = SavedReport(
                    name=name,
                    definition=definition,
                    created_by=user_id,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
            else:
                row.definition = definition
                row.updated_at = now
            await session.flush()
            return _record(row)

    async def delete_saved(self, report_id: int) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                sa.delete(SavedReport).where(SavedReport.id == report_id)
            )
            return bool(getattr(result, "rowcount", 0))


_TOTALS_ORDER = tuple(f.name for f in fields(Totals))


def _total_column(name: str, sla_seconds: int) -> str:
    """The interval totals' column of a `Totals` field."""
    return within_column(sla_seconds) if name == "answered_within_sla" else name


def _from_totals(query: SummaryQuery) -> bool:
    """Reports the interval totals can answer: by interval or in total, for the whole centre
    (a filter or another grouping needs the per-queue, per-line or per-operator rows)."""
    return query.group_by in ((), (Dimension.INTERVAL,)) and query.filters == Filters()


def _norm(value: Any) -> int | str:
    if value is None:
        return 0
    if isinstance(value, int | str):
        return value
    return int(value)


def _label(dim: Dimension, value: Any, names: dict[Any, str]) -> str:
    match dim:
        case Dimension.INTERVAL:
            return ""  # the service formats times in the centre's zone
        case Dimension.LINE:
            return f"линия {value}" if value else "вне линий"
        case Dimension.QUEUE:
            return str(value) if value else "без очереди"
        case Dimension.DIRECTION:
            return _DIRECTION_LABELS.get(str(value), str(value))
        case Dimension.OPERATOR:
            return names.get(value, f"оператор {value}") if value else "без оператора"
        case Dimension.CAMPAIGN:
            return names.get(value, f"кампания {value}") if value else "вне кампаний"
        case Dimension.TOPIC:
            return names.get(value, f"тема {value}") if value else "без темы"
    return str(value)


def _record(row: SavedReport) -> SavedReportRecord:
    return SavedReportRecord(
        row.id, row.name, dict(row.definition), row.created_by, row.created_at, row.updated_at
    )
