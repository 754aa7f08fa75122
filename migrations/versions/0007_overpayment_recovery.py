"""overpayment receivables and held payroll lines

Revision ID: recovery_0001
Revises: membership_0001
Create Date: 2026-11-29 20:30:00

The month's record shows the lines held at the last-moment re-check (``held_count``,
``held_total``). Overpayment receivables need no table of their own: each is a workflow
(``OverpaymentRecoveryWorkflow``) whose list row is a ``case_record`` of kind ``recovery``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "recovery_0001"
down_revision: str | Sequence[str] | None = "membership_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns already there are kept (a database whose tables were created at a newer revision).
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("payroll_run")}
    with op.batch_alter_table("payroll_run", schema=None) as batch_op:
        if "held_count" not in have:
            batch_op.add_column(
                sa.Column("held_count", sa.Integer(), nullable=False, server_default="0")
            )
        if "held_total" not in have:
            batch_op.add_column(
                sa.Column(
                    "held_total",
                    sa.Numeric(precision=12, scale=2),
                    nullable=False,
                    server_default="0",
                )
            )


def downgrade() -> None:
    with op.batch_alter_table("payroll_run", schema=None) as batch_op:
        batch_op.drop_column("held_total")
        batch_op.drop_column("held_count")
