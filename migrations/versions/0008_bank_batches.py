"""daily bank batches for temporary-assistance instructions

The ``bank_batch`` row of a daily batch (``DailyBankBatchWorkflow``) carries its status and
reconciliation: assigned, paid, failed and held lines, the reserve-fund credit-backs of failed
prepayments, the report and an unreadable bank answer.

Revision ID: bank_batches_0001
Revises: recovery_0001
Create Date: 2026-11-29 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "bank_batches_0001"
down_revision: str | Sequence[str] | None = "recovery_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = AutoString


def _money(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Numeric(precision=12, scale=2), nullable=False, server_default="0")


def _int(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def _columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("status", _TEXT(), nullable=False, server_default=""),
        sa.Column("workflow_id", _TEXT(), nullable=True),
        sa.Column("run_id", _TEXT(), nullable=True),
        _int("revision"),
        sa.Column("value_date_provisional", sa.Boolean(), nullable=False, server_default="0"),
        _int("assigned_count"),
        _money("assigned_total"),
        _int("paid_count"),
        _money("paid_total"),
        _int("failed_count"),
        _money("failed_total"),
        _int("held_count"),
        _money("held_total"),
        _int("credited_back_count"),
        _money("credited_back_total"),
        sa.Column("report_path", _TEXT(), nullable=True),
        sa.Column("bank_error", _TEXT(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    # Columns already there are kept (a database whose tables were created at a newer revision).
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("bank_batch")}
    with op.batch_alter_table("bank_batch", schema=None) as batch_op:
        for column in _columns():
            if column.name not in have:
                batch_op.add_column(column)
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("bank_batch")}
    if "ix_bank_batch_status" not in indexes:
        op.create_index(op.f("ix_bank_batch_status"), "bank_batch", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_bank_batch_status"), table_name="bank_batch")
    with op.batch_alter_table("bank_batch", schema=None) as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
