"""payment lines: a batch in id order, status changes in place

Revision ID: payroll_line_order_0001
Revises: sealed_columns_0001
Create Date: 2026-11-30 19:30:00

The bank step, the reconciliation report and the re-check read a batch's lines a keyset page at
a time (``WHERE payroll_id = ? AND id > ? ORDER BY id LIMIT ?``). On PostgreSQL the index on
``payroll_id`` alone holds a batch's entries in no useful order, so every page of a
1,000,000-line month bitmap-scanned the whole batch and sorted it: 250–600 ms a page
(``log_min_duration_statement``). The index on ``(payroll_id, id)`` hands the next page over in
order. SQLite keeps the rowid in every index, so there it is the same index under a new name.

Every line changes status twice a month (sent, then paid). With ``status`` indexed, PostgreSQL
wrote each new row version into all 11 indexes of the table: about 25 µs a line. The index on
``status`` goes; the lines with a problem (failed, flagged, held — each carries its
``failure_reason``) are found through a partial index on ``county_code`` instead, and on
PostgreSQL the table keeps half of each new page free (``fillfactor = 50``) so that both status
changes of a line are heap-only updates on its own page, touching no index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "payroll_line_order_0001"
down_revision: str | Sequence[str] | None = "sealed_columns_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "payment_instruction"
BY_PAYROLL = "ix_payment_instruction_payroll_id"
BY_PAYROLL_IN_ORDER = "ix_payment_instruction_payroll_id_id"
BY_STATUS = "ix_payment_instruction_status"
PROBLEMS = "ix_payment_instruction_problems"
PROBLEM = "failure_reason IS NOT NULL"
FILLFACTOR = 50


def _indexes() -> set[str]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(TABLE)}


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    have = _indexes()  # tables created at a newer revision already have the new indexes
    if BY_PAYROLL_IN_ORDER not in have:
        op.create_index(BY_PAYROLL_IN_ORDER, TABLE, ["payroll_id", "id"], unique=False)
    if PROBLEMS not in have:
        op.create_index(
            PROBLEMS,
            TABLE,
            ["county_code"],
            unique=False,
            postgresql_where=sa.text(PROBLEM),
            sqlite_where=sa.text(PROBLEM),
        )
    if BY_PAYROLL in have:
        op.drop_index(BY_PAYROLL, table_name=TABLE)
    if BY_STATUS in have:
        op.drop_index(BY_STATUS, table_name=TABLE)
    if _postgresql():  # new pages only; rows already written stay where they are
        op.execute(f"ALTER TABLE {TABLE} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    have = _indexes()
    if _postgresql():
        op.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")
    if BY_STATUS not in have:
        op.create_index(BY_STATUS, TABLE, ["status"], unique=False)
    if BY_PAYROLL not in have:
        op.create_index(BY_PAYROLL, TABLE, ["payroll_id"], unique=False)
    if PROBLEMS in have:
        op.drop_index(PROBLEMS, table_name=TABLE)
    if BY_PAYROLL_IN_ORDER in have:
        op.drop_index(BY_PAYROLL_IN_ORDER, table_name=TABLE)
