"""cluster state: queue callbacks, emergency switch, nodes, node requests

Revision ID: 0004
Revises: 0006
Create Date: 2026-12-06 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import callcenter.db.base

revision: str = "0004"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = callcenter.db.base.UTCDateTime(timezone=True)
BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "queue_callbacks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("original_uniqueid", sa.String(length=64), nullable=False),
        sa.Column("waiting_since", UTC_TIME, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("booked_at", UTC_TIME, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TIME, nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("dialled_at", UTC_TIME, nullable=True),
        sa.Column("last_outcome", sa.String(length=200), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_callbacks")),
    )
    op.create_index(op.f("ix_queue_callbacks_node"), "queue_callbacks", ["node"])
    op.create_index(op.f("ix_queue_callbacks_state"), "queue_callbacks", ["state"])
    op.create_table(
        "emergency_switch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("since", UTC_TIME, nullable=True),
        sa.Column("announcement", sa.Text(), nullable=False),
        sa.Column("baseline_per_hour", sa.Float(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_switch")),
    )
    op.create_table(
        "cluster_nodes",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("heartbeat_at", UTC_TIME, nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_nodes")),
    )
    op.create_index(op.f("ix_cluster_nodes_heartbeat_at"), "cluster_nodes", ["heartbeat_at"])
    op.create_table(
        "node_requests",
        sa.Column("id", BIG_KEY, autoincrement=True, nullable=False),
        sa.Column("node", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", UTC_TIME, nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_requests")),
    )
    op.create_index(op.f("ix_node_requests_node"), "node_requests", ["node"])
    op.create_index(op.f("ix_node_requests_created_at"), "node_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_node_requests_created_at"), table_name="node_requests")
    op.drop_index(op.f("ix_node_requests_node"), table_name="node_requests")
    op.drop_table("node_requests")
    op.drop_index(op.f("ix_cluster_nodes_heartbeat_at"), table_name="cluster_nodes")
    op.drop_table("cluster_nodes")
    op.drop_table("emergency_switch")
    op.drop_index(op.f("ix_queue_callbacks_state"), table_name="queue_callbacks")
    op.drop_index(op.f("ix_queue_callbacks_node"), table_name="queue_callbacks")
    op.drop_table("queue_callbacks")
