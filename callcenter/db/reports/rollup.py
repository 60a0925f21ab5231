"""15-minute roll-ups of call records and operator time, rebuilt where they changed.

`call_source` is the one definition of what each call adds to each figure (the domain's
definitions, in SQL); the roll-up table is that source summed per bucket, direction, queue,
operator and campaign. A refresh finds the buckets whose calls changed since the last one
(`calls.updated_at`, re-reading a couple of minutes back for writers that committed late) and
the operator states that started or ended since, deletes those buckets and sums them again.
Recomputing a bucket is idempotent, so an overlap or a second API node refreshing at the same
time (PostgreSQL serialises them with an advisory lock) does no harm.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from callcenter.db.models import (
    Appeal,
    CallAttempt,
    Operator,
    OperatorStateHistory,
    ReportCallBucket,
    ReportCallDay,
    ReportCallQuarter,
    ReportIntervalTotal,
    ReportLineBucket,
    ReportOperatorBucket,
    ReportOperatorDay,
    ReportRollupMark,
)
from callcenter.db.models.calls import Call
from callcenter.db.models.reports import within_column
from callcenter.domain.agents import BUSY_STATES, OperatorState
from callcenter.domain.calls import Direction, Disposition
from callcenter.domain.report_metrics import SLA_THRESHOLDS

BUCKET = 900
DAY = 86400  # rebuilt a local day at a time: the day roll-ups are sums of whole days
OVERLAP = timedelta(minutes=2)
_LOCK_KEY = 0x5245504F  # "REPO": one roll-up refresh at a time across API nodes
_COUNTED_STATES = [*BUSY_STATES, OperatorState.READY]

ANALYZE_AFTER_DAYS = 7
_ROLLUP_TABLES = (
    ReportCallBucket,
    ReportCallQuarter,
    ReportCallDay,
    ReportIntervalTotal,
    ReportOperatorBucket,
    ReportLineBucket,
    ReportOperatorDay,
)

KEY_COLUMNS = ("bucket", "direction", "queue_name", "operator_id", "campaign_id")
QUARTER_KEYS = ("bucket", "direction", "queue_name", "campaign_id")
STATE_SUMS = ("busy_seconds", "ready_seconds", "wrap_seconds")
SUM_COLUMNS = (
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
    *(within_column(s) for s in SLA_THRESHOLDS),
)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def epoch(dialect: str, column: Any) -> ColumnElement[int]:
    """Unix seconds of a UTC timestamp column (SQLite keeps naive UTC text)."""
    if dialect == "sqlite":
        return sa.cast(sa.func.strftime("%s", column), sa.BigInteger)
    return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)


def bucket_of(dialect: str, column: Any) -> ColumnElement[int]:
    seconds = epoch(dialect, column)
    return seconds - seconds % BUCKET


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def call_source(dialect: str, *, with_topic: bool = False) -> sa.Select[Any]:
    """One row per call: its bucket and keys, and what it adds to each sum."""
    ended = Call.disposition != Disposition.IN_PROGRESS
    offered = sa.and_(ended, Call.queue_name.is_not(None))
    answered = sa.and_(offered, Call.disposition == Disposition.ANSWERED)
    wait = sa.func.coalesce(Call.wait_seconds, 0.0)
    talk_known = sa.and_(answered, Call.talk_seconds.is_not(None))
    ivr_known = sa.and_(ended, Call.ivr_seconds.is_not(None))
    columns: list[Any] = [
        bucket_of(dialect, Call.started_at).label("bucket"),
        sa.cast(Call.direction, sa.String(16)).label("direction"),
        sa.func.coalesce(Call.queue_name, "").label("queue_name"),
        sa.func.coalesce(Call.operator_id, 0).label("operator_id"),
        sa.func.coalesce(CallAttempt.campaign_id, 0).label("campaign_id"),
        _flag(ended).label("calls"),
        _flag(sa.and_(ended, Call.direction == Direction.INBOUND)).label("inbound"),
        _flag(sa.and_(ended, Call.direction == Direction.OUTBOUND)).label("outbound"),
        _flag(offered).label("offered"),
        _flag(answered).label("answered"),
        _flag(sa.and_(offered, Call.disposition == Disposition.ABANDONED)).label("abandoned"),
        sa.case((answered, wait), else_=0.0).label("wait_answered_seconds"),
        _flag(talk_known).label("talk_count"),
        sa.case((talk_known, Call.talk_seconds), else_=0.0).label("talk_seconds"),
        _flag(sa.and_(ended, Call.disposition == Disposition.CLOSED_BY_IVR)).label("ivr_closed"),
        _flag(sa.and_(answered, Call.transfer_count == 0)).label("operator_closed"),
        _flag(sa.and_(answered, Call.transfer_count > 0)).label("transferred"),
        _flag(ivr_known).label("ivr_count"),
        sa.case((ivr_known, Call.ivr_seconds), else_=0.0).label("ivr_seconds"),
        _flag(sa.not_(ended)).label("in_progress"),
        *(
            _flag(sa.and_(answered, wait <= seconds)).label(within_column(seconds))
            for seconds in SLA_THRESHOLDS
        ),
    ]
    if with_topic:
        topic = (
            sa.select(sa.func.min(Appeal.topic_id))
            .where(Appeal.call_id == Call.id)
            .scalar_subquery()
        )
        columns.append(sa.func.coalesce(topic, 0).label("topic_id"))
    return (
        sa.select(*columns)
        .select_from(Call)
        .outerjoin(CallAttempt, CallAttempt.id == Call.campaign_attempt_id)
    )


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _floor(moment: datetime) -> int:
    seconds = int(moment.timestamp())
    return seconds - seconds % BUCKET


def day_start(seconds: int, offset: int) -> int:
    """The local midnight (Unix seconds) at or before `seconds`, the zone `offset` s east."""
    return seconds - (seconds + offset) % DAY


def merge_ranges(ranges: Iterable[tuple[int, int]], offset: int = 0) -> list[tuple[int, int]]:
    """[lo, hi) ranges widened to whole local days, joined, and cut into single days."""
    merged: list[list[int]] = []
    for lo, hi in sorted(
        (day_start(lo, offset), day_start(hi - 1, offset) + DAY) for lo, hi in ranges
    ):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(day, day + DAY) for lo, hi in merged for day in range(lo, hi, DAY)]


def day_key(column: Any, offset: int) -> ColumnElement[int]:
    shifted = column + offset
    key: ColumnElement[int] = column - shifted % DAY
    return key


async def _mark(session: AsyncSession, name: str) -> datetime | None:
    row = await session.get(ReportRollupMark, name)
    return None if row is None else row.through


async def _set_mark(session: AsyncSession, name: str, through: datetime) -> None:
    row = await session.get(ReportRollupMark, name)
    if row is None:
        session.add(ReportRollupMark(name=name, through=through))
    else:
        row.through = through
    await session.flush()


async def _changed_call_ranges(
    session: AsyncSession, dialect: str, since: datetime | None, offset: int
) -> list[tuple[int, int]]:
    if since is None:
        first, last = (
            await session.execute(
                sa.select(sa.func.min(Call.started_at), sa.func.max(Call.started_at))
            )
        ).one()
        if first is None or last is None:
            return []
        return merge_ranges([(_floor(first), _floor(last) + BUCKET)], offset)
    buckets = await session.scalars(
        sa.select(bucket_of(dialect, Call.started_at))
        .where(Call.updated_at >= since - OVERLAP)
        .distinct()
    )
    return merge_ranges(((int(b), int(b) + BUCKET) for b in buckets), offset)


async def _rebuild(
    session: AsyncSession,
    target: Any,
    source: Any,
    keys: list[Any],
    key_names: tuple[str, ...],
    sums: tuple[str, ...],
    lo: int,
    hi: int,
) -> None:
    """Replace `target`'s rows in [lo, hi) with `source`'s sums grouped by `keys`."""
    table: sa.Table = target.__table__
    await session.execute(sa.delete(table).where(table.c.bucket >= lo, table.c.bucket < hi))
    select = (
        sa.select(*keys, *(sa.func.sum(source.c[name]) for name in sums))
        .where(source.c.bucket >= lo, source.c.bucket < hi)
        .group_by(*keys)
    )
    await session.execute(table.insert().from_select([*key_names, *sums], select))


async def _rebuild_totals(session: AsyncSession, lo: int, hi: int) -> None:
    """Replace the interval totals in [lo, hi) with the sums of the per-queue call rows and
    the per-line operator time there (both already rebuilt for the range)."""
    quarters: sa.Table = ReportCallQuarter.__table__  # type: ignore[assignment]
    lines: sa.Table = ReportLineBucket.__table__  # type: ignore[assignment]
    q, ln = quarters.c, lines.c
    parts = sa.union_all(
        sa.select(
            q.bucket,
            *(q[n] for n in SUM_COLUMNS),
            *(sa.literal(0.0, sa.Double()).label(n) for n in STATE_SUMS),
        ).where(q.bucket >= lo, q.bucket < hi),
        sa.select(
            ln.bucket,
            *(sa.literal(0.0 if _is_seconds(n) else 0, _sum_type(n)).label(n) for n in SUM_COLUMNS),
            *(ln[n] for n in STATE_SUMS),
        ).where(ln.bucket >= lo, ln.bucket < hi),
    ).subquery()
    await _rebuild(
        session, ReportIntervalTotal, parts, [parts.c.bucket], ("bucket",),
        (*SUM_COLUMNS, *STATE_SUMS), lo, hi,
    )  # fmt: skip


def _is_seconds(name: str) -> bool:
    return name.endswith("_seconds")


def _sum_type(name: str) -> Any:
    return sa.Double() if _is_seconds(name) else sa.Integer()


async def refresh_calls(session: AsyncSession, now: datetime, offset: int = 0) -> int:
    """Rebuild the call roll-ups of the days whose calls changed since the last refresh;
    returns the days rebuilt."""
    dialect = dialect_of(session)
    ranges = await _changed_call_ranges(session, dialect, await _mark(session, "calls"), offset)
    fine: sa.Table = ReportCallBucket.__table__  # type: ignore[assignment]
    for lo, hi in ranges:
        await session.execute(sa.delete(fine).where(fine.c.bucket >= lo, fine.c.bucket < hi))
        # the time condition inside the source, so the calls index on started_at is used
        inner = (
            call_source(dialect)
            .where(Call.started_at >= _ts(lo), Call.started_at < _ts(hi))
            .subquery()
        )
        keys = [inner.c[name] for name in KEY_COLUMNS]
        select = sa.select(*keys, *(sa.func.sum(inner.c[name]) for name in SUM_COLUMNS)).group_by(
            *keys
        )
        await session.execute(fine.insert().from_select([*KEY_COLUMNS, *SUM_COLUMNS], select))
        f = fine.c
        await _rebuild(
            session, ReportCallQuarter, fine, [f[k] for k in QUARTER_KEYS], QUARTER_KEYS,
            SUM_COLUMNS, lo, hi,
        )  # fmt: skip
        day_keys = [day_key(f.bucket, offset), *(f[k] for k in KEY_COLUMNS[1:])]
        await _rebuild(session, ReportCallDay, fine, day_keys, KEY_COLUMNS, SUM_COLUMNS, lo, hi)
        await _rebuild_totals(session, lo, hi)
    await _set_mark(session, "calls", now)
    return len(ranges)


async def _changed_state_ranges(
    session: AsyncSession, since: datetime | None, now: datetime, offset: int
) -> list[tuple[int, int]]:
    end_now = _floor(now) + BUCKET
    counted = OperatorStateHistory.state.in_(_COUNTED_STATES)
    if since is None:
        first = await session.scalar(
            sa.select(sa.func.min(OperatorStateHistory.started_at)).where(counted)
        )
        return [] if first is None else merge_ranges([(_floor(first), end_now)], offset)
    edge = since - OVERLAP
    rows = await session.execute(
        sa.select(OperatorStateHistory.started_at, OperatorStateHistory.ended_at).where(
            counted,
            sa.or_(
                OperatorStateHistory.started_at >= edge,
                OperatorStateHistory.ended_at >= edge,
                OperatorStateHistory.ended_at.is_(None),
            ),
        )
    )
    return merge_ranges(
        ((_floor(start), end_now if end is None else _floor(end) + BUCKET) for start, end in rows),
        offset,
    )


def split_spans(
    spans: Iterable[tuple[int, OperatorState, datetime, datetime | None]],
    lo: int,
    hi: int,
    now: datetime,
) -> dict[tuple[int, int], list[float]]:
    """(bucket, operator) -> [busy, ready, wrap-up] seconds of the spans within [lo, hi)."""
    out: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    limit = min(float(hi), now.timestamp())
    for operator_id, state, started, ended in spans:
        start = max(started.timestamp(), float(lo))
        end = min(limit if ended is None else ended.timestamp(), float(hi))
        busy = state in BUSY_STATES
        while start < end:
            bucket = int(start) - int(start) % BUCKET
            piece_end = min(end, float(bucket + BUCKET))
            seconds = piece_end - start
            sums = out[(bucket, operator_id)]
            if busy:
                sums[0] += seconds
                if state is OperatorState.WRAP_UP:
                    sums[2] += seconds
            else:
                sums[1] += seconds
            start = piece_end
    return out


async def refresh_states(session: AsyncSession, now: datetime, offset: int = 0) -> int:
    ranges = await _changed_state_ranges(session, await _mark(session, "states"), now, offset)
    fine: sa.Table = ReportOperatorBucket.__table__  # type: ignore[assignment]
    lines = (
        sa.select(
            fine.c.bucket,
            sa.func.coalesce(Operator.support_line, 0).label("line"),
            *(fine.c[n] for n in STATE_SUMS),
        )
        .select_from(fine)
        .outerjoin(Operator, Operator.id == fine.c.operator_id)
        .subquery()
    )
    for lo, hi in ranges:
        rows = await session.execute(
            sa.select(
                OperatorStateHistory.operator_id,
                OperatorStateHistory.state,
                OperatorStateHistory.started_at,
                OperatorStateHistory.ended_at,
            ).where(
                OperatorStateHistory.state.in_(_COUNTED_STATES),
                OperatorStateHistory.started_at < _ts(hi),
                sa.or_(
                    OperatorStateHistory.ended_at.is_(None),
                    OperatorStateHistory.ended_at > _ts(lo),
                ),
            )
        )
        sums = split_spans(rows, lo, hi, now)
        await session.execute(sa.delete(fine).where(fine.c.bucket >= lo, fine.c.bucket < hi))
        if sums:
            await session.execute(
                fine.insert(),
                [
                    {
                        "bucket": bucket,
                        "operator_id": operator_id,
                        "busy_seconds": busy,
                        "ready_seconds": ready,
                        "wrap_seconds": wrap,
                    }
                    for (bucket, operator_id), (busy, ready, wrap) in sums.items()
                ],
            )
        await _rebuild(
            session, ReportLineBucket, lines, [lines.c.bucket, lines.c.line], ("bucket", "line"),
            STATE_SUMS, lo, hi,
        )  # fmt: skip
        await _rebuild(
            session, ReportOperatorDay, fine, [day_key(fine.c.bucket, offset), fine.c.operator_id],
            ("bucket", "operator_id"), STATE_SUMS, lo, hi,
        )  # fmt: skip
        await _rebuild_totals(session, lo, hi)
    await _set_mark(session, "states", now)
    return len(ranges)


async def refresh(session: AsyncSession, now: datetime, offset: int = 0) -> tuple[int, int]:
    """Every roll-up, in the caller's transaction; `offset`: the centre's UTC offset in
    seconds, where its days begin."""
    postgres = dialect_of(session) == "postgresql"
    if postgres:
        await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
    days = await refresh_calls(session, now, offset), await refresh_states(session, now, offset)
    if postgres and max(days) >= ANALYZE_AFTER_DAYS:
        # a first build (or a rebuild of weeks) changes the tables' sizes by orders of
        # magnitude before autovacuum looks at them: without fresh statistics the planner
        # takes a month of roll-up rows for a few dozen
        for table in _ROLLUP_TABLES:
            await session.execute(sa.text(f"ANALYZE {table.__tablename__}"))
    return days
