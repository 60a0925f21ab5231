"""redial jobs: operators' auto-redials kept across restarts and nodes

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-06 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import callcenter.db.base

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = callcenter.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "redial_jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("context", sa.String(length=64), nullable=False),
        sa.Column("exten", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=128), nullable=False),
        sa.Column("interface", sa.String(length=128), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("made", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_ids", sa.JSON(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("next_attempt_at", UTC_TIME, nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redial_jobs")),
    )
    op.create_index(op.f("ix_redial_jobs_operator_id"), "redial_jobs", ["operator_id"])
    op.create_index(op.f("ix_redial_jobs_user_id"), "redial_jobs", ["user_id"])
    op.create_index(op.f("ix_redial_jobs_status"), "redial_jobs", ["status"])
    op.create_index(op.f("ix_redial_jobs_next_attempt_at"), "redial_jobs", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_redial_jobs_next_attempt_at"), table_name="redial_jobs")
    op.drop_index(op.f("ix_redial_jobs_status"), table_name="redial_jobs")
    op.drop_index(op.f("ix_redial_jobs_user_id"), table_name="redial_jobs")
    op.drop_index(op.f("ix_redial_jobs_operator_id"), table_name="redial_jobs")
    op.drop_table("redial_jobs")
