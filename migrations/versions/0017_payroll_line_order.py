"""a batch's lines in id order: payment_instruction (payroll_id, id)

Revision ID: payroll_line_order_0001
Revises: sealed_columns_0001
Create Date: 2026-11-30 19:30:00

The bank step, the reconciliation report and the re-check read a batch's lines a keyset page at
a time (``WHERE payroll_id = ? AND id > ? ORDER BY id LIMIT ?``). On PostgreSQL the index on
``payroll_id`` alone holds a batch's entries in no useful order, so every page of a
1,000,000-line month bitmap-scanned the whole batch and sorted it: 250–600 ms a page
(``log_min_duration_statement``). The index on ``(payroll_id, id)`` hands the next page over in
order. SQLite keeps the rowid in every index, so there it is the same index under a new name.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payroll_line_order_0001"
down_revision: str | Sequence[str] | None = "sealed_columns_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "payment_instruction"
OLD = "ix_payment_instruction_payroll_id"
NEW = "ix_payment_instruction_payroll_id_id"


def _indexes() -> set[str]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(TABLE)}


def upgrade() -> None:
    have = _indexes()  # tables created at a newer revision already have the new index
    if NEW not in have:
        op.create_index(NEW, TABLE, ["payroll_id", "id"], unique=False)
    if OLD in have:
        op.drop_index(OLD, table_name=TABLE)


def downgrade() -> None:
    have = _indexes()
    if OLD not in have:
        op.create_index(OLD, TABLE, ["payroll_id"], unique=False)
    if NEW in have:
        op.drop_index(NEW, table_name=TABLE)
