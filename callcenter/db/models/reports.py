"""Report tables: 15-minute roll-ups of call records and operator time, and saved reports.

The roll-ups are a cache of the call records (`callcenter/db/reports/rollup.py` rebuilds the
buckets whose calls or states changed); a month of a million calls is then a few hundred
thousand rows to add up rather than the million.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.base import Base, UTCDateTime
from callcenter.db.models._types import BigIntKey, utcnow
from callcenter.domain.report_metrics import SLA_THRESHOLDS


def within_column(seconds: int) -> str:
    return f"within_{seconds}"


class _CallSums:
    """What the calls of one key add up to (see `callcenter/db/reports/rollup.py`)."""

    calls: Mapped[int]
    inbound: Mapped[int]
    outbound: Mapped[int]
    offered: Mapped[int]
    answered: Mapped[int]
    abandoned: Mapped[int]
    wait_answered_seconds: Mapped[float]
    talk_count: Mapped[int]
    talk_seconds: Mapped[float]
    ivr_closed: Mapped[int]
    operator_closed: Mapped[int]
    transferred: Mapped[int]
    ivr_count: Mapped[int]
    ivr_seconds: Mapped[float]
    in_progress: Mapped[int]
    # answered within each threshold of SLA_THRESHOLDS
    within_10: Mapped[int]
    within_15: Mapped[int]
    within_20: Mapped[int]
    within_30: Mapped[int]
    within_40: Mapped[int]
    within_60: Mapped[int]
    within_90: Mapped[int]
    within_120: Mapped[int]
    within_180: Mapped[int]
    within_300: Mapped[int]


class _StateSums:
    busy_seconds: Mapped[float]
    ready_seconds: Mapped[float]
    wrap_seconds: Mapped[float]


class ReportCallBucket(_CallSums, Base):
    """Sums over the calls that started in one 15-minute bucket, per direction, queue,
    operator and campaign ("" and 0 stand for none, so the key has no NULLs). The other
    roll-ups are sums of this one."""

    __tablename__ = "report_call_buckets"
    __table_args__ = (
        sa.UniqueConstraint("bucket", "direction", "queue_name", "operator_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    # Unix seconds of the bucket's start (UTC, a multiple of 900)
    bucket: Mapped[int] = mapped_column(sa.BigInteger)
    direction: Mapped[str] = mapped_column(sa.String(16))
    queue_name: Mapped[str] = mapped_column(sa.String(64))
    operator_id: Mapped[int]
    campaign_id: Mapped[int]


class ReportCallQuarter(_CallSums, Base):
    """The 15-minute call sums without the operator: interval, queue and line reports read a
    few rows per bucket instead of one per busy operator."""

    __tablename__ = "report_call_quarters"
    __table_args__ = (sa.UniqueConstraint("bucket", "direction", "queue_name", "campaign_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    bucket: Mapped[int] = mapped_column(sa.BigInteger)
    direction: Mapped[str] = mapped_column(sa.String(16))
    queue_name: Mapped[str] = mapped_column(sa.String(64))
    campaign_id: Mapped[int]


class ReportCallDay(_CallSums, Base):
    """The call sums of one local day (bucket: Unix seconds of its midnight), per operator:
    operator reports over weeks read one row per operator and day."""

    __tablename__ = "report_call_days"
    __table_args__ = (
        sa.UniqueConstraint("bucket", "direction", "queue_name", "operator_id", "campaign_id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    bucket: Mapped[int] = mapped_column(sa.BigInteger)
    direction: Mapped[str] = mapped_column(sa.String(16))
    queue_name: Mapped[str] = mapped_column(sa.String(64))
    operator_id: Mapped[int]
    campaign_id: Mapped[int]


assert all(hasattr(ReportCallBucket, within_column(s)) for s in SLA_THRESHOLDS)


class ReportOperatorBucket(_StateSums, Base):
    """Seconds one operator spent busy, ready and in wrap-up within one 15-minute bucket."""

    __tablename__ = "report_operator_buckets"
    __table_args__ = (sa.UniqueConstraint("bucket", "operator_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    bucket: Mapped[int] = mapped_column(sa.BigInteger)
    operator_id: Mapped[int]


class ReportLineBucket(_StateSums, Base):
    """Operator time of one support line (the operators' line; 0: none) in a 15-minute
    bucket."""

    __tablename__ = "report_line_buckets"
    __table_args__ = (sa.UniqueConstraint("bucket", "line"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    bucket: Mapped[int] = mapped_column(sa.BigInteger)
    line: Mapped[int]


class ReportOperatorDay(_StateSums, Base):
    """Operator time of one local day."""

    __tablename__ = "report_operator_days"
    __table_args__ = (sa.UniqueConstraint("bucket", "operator_id"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    bucket: Mapped[int] = mapped_column(sa.BigInteger)
    operator_id: Mapped[int]


class ReportIntervalTotal(_CallSums, _StateSums, Base):
    """Everything of one 15-minute bucket in one row: the call sums over every direction,
    queue and campaign, and every operator's time. The report by interval without filters
    (the charts, the month by 15 minutes) reads one row per interval through a covering
    index instead of adding up the per-queue and per-line rows."""

    __tablename__ = "report_interval_totals"
    # on PostgreSQL an index-only range scan: the bucket and every sum in the index
    __table_args__ = (
        sa.Index(
            "ix_report_interval_totals_covering",
            "bucket",
            postgresql_include=[*_CallSums.__annotations__, *_StateSums.__annotations__],
        ),
    )

    # Unix seconds of the bucket's start (UTC, a multiple of 900)
    bucket: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)


class ReportRollupMark(Base):
    """How far a roll-up has caught up: changes at or after `through` are not in it yet."""

    __tablename__ = "report_rollup_marks"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    through: Mapped[datetime] = mapped_column(UTCDateTime())


class SavedReport(Base):
    """A report a supervisor built: metrics, groupings, filters and period, by name."""

    __tablename__ = "saved_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
