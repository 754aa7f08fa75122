"""re-check what changed; a batch's held lines; a month's reach for the arrears of later ones

Revision ID: recheck_changes_0001
Revises: payroll_line_order_0001
Create Date: 2026-11-30 22:30:00

The last-moment re-check of a month (``PayrollActivities.recheck_batch``) looks again only at
the lines whose entitlement account was written, or whose covered member's death was loaded,
since the previous look. Both are found through these indexes: without them each re-check read
every entitlement account and every death of the register.

A re-check also totals the month's held lines (before and after, and by reason). Each held line
carries its reason, so a partial index of the lines with a problem by batch finds them; before,
each total read the whole batch (0.5–0.8 s for a million-line month on PostgreSQL).

A month records its compile's reach (``payroll_run.covered_upto``: the county's highest
entitlement-account id it looked at) and whether it paid dispersed 特困 quarterly; a later month
pays the lines an earlier one could not have (an account written after it compiled, payable in
it), and how many such lines it paid (``arrears_count``). Months compiled before this revision
have no reach and are left as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "recheck_changes_0001"
down_revision: str | Sequence[str] | None = "payroll_line_order_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_entitlement_account_updated_at", "entitlement_account", "updated_at"),
    ("ix_death_record_loaded_at", "death_record", "loaded_at"),
)
BATCH_PROBLEMS = "ix_payment_instruction_batch_problems"
PROBLEM = "failure_reason IS NOT NULL"


def _indexes(table: str) -> set[str]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("payroll_run")}
    if "covered_upto" not in columns:
        op.add_column("payroll_run", sa.Column("covered_upto", sa.Integer(), nullable=True))
    if "arrears_count" not in columns:
        op.add_column(
            "payroll_run",
            sa.Column("arrears_count", sa.Integer(), nullable=False, server_default="0"),
        )
    if "quarterly_tekun" not in columns:
        op.add_column(
            "payroll_run",
            sa.Column("quarterly_tekun", sa.Boolean(), nullable=False, server_default=sa.false()),
        )
    for name, table, column in INDEXES:
        if name not in _indexes(table):  # tables created at a newer revision have it already
            op.create_index(name, table, [column], unique=False)
    if BATCH_PROBLEMS not in _indexes("payment_instruction"):
        op.create_index(
            BATCH_PROBLEMS,
            "payment_instruction",
            ["payroll_id"],
            unique=False,
            postgresql_where=sa.text(PROBLEM),
            sqlite_where=sa.text(PROBLEM),
        )


def downgrade() -> None:
    with op.batch_alter_table("payroll_run") as batch:
        batch.drop_column("quarterly_tekun")
        batch.drop_column("covered_upto")
        batch.drop_column("arrears_count")
    if BATCH_PROBLEMS in _indexes("payment_instruction"):
        op.drop_index(BATCH_PROBLEMS, table_name="payment_instruction")
    for name, table, _ in INDEXES:
        if name in _indexes(table):
            op.drop_index(name, table_name=table)
