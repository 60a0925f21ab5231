"""report interval totals: one row per 15-minute bucket with a covering index

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CALL_SUMS = (
    "calls", "inbound", "outbound", "offered", "answered", "abandoned",
    "wait_answered_seconds", "talk_count", "talk_seconds", "ivr_closed", "operator_closed",
    "transferred", "ivr_count", "ivr_seconds", "in_progress", "within_10", "within_15",
    "within_20", "within_30", "within_40", "within_60", "within_90", "within_120",
    "within_180", "within_300",
)  # fmt: skip
STATE_SUMS = ("busy_seconds", "ready_seconds", "wrap_seconds")
SECONDS = {"wait_answered_seconds", "talk_seconds", "ivr_seconds", *STATE_SUMS}


def upgrade() -> None:
    op.create_table(
        "report_interval_totals",
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        *(
            sa.Column(name, sa.Double() if name in SECONDS else sa.Integer(), nullable=False)
            for name in (*CALL_SUMS, *STATE_SUMS)
        ),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_report_interval_totals")),
    )
    op.create_index(
        "ix_report_interval_totals_covering",
        "report_interval_totals",
        ["bucket"],
        unique=False,
        postgresql_include=[*CALL_SUMS, *STATE_SUMS],
    )
    # the buckets already rolled up: the sums of their per-queue and per-line rows
    calls = ", ".join(CALL_SUMS)
    states = ", ".join(STATE_SUMS)
    zero_calls = ", ".join(f"0 AS {n}" for n in CALL_SUMS)
    zero_states = ", ".join(f"0.0 AS {n}" for n in STATE_SUMS)
    sums = ", ".join(f"sum({n})" for n in (*CALL_SUMS, *STATE_SUMS))
    op.execute(
        f"INSERT INTO report_interval_totals (bucket, {calls}, {states}) "
        f"SELECT bucket, {sums} FROM ("
        f"SELECT bucket, {calls}, {zero_states} FROM report_call_quarters "
        f"UNION ALL SELECT bucket, {zero_calls}, {states} FROM report_line_buckets"
        f") AS parts GROUP BY bucket"
    )


def downgrade() -> None:
    op.drop_index("ix_report_interval_totals_covering", table_name="report_interval_totals")
    op.drop_table("report_interval_totals")
