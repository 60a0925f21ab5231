"""call attempt result (abandoned, machine, busy...); campaign abandon target

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.String(length=24), nullable=True))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target_abandon_pct", sa.Double(), server_default="2.5", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("target_abandon_pct")
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_column("result")
