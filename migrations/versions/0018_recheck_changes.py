"""re-check what changed: entitlement accounts by when they were written, deaths by when loaded

Revision ID: recheck_changes_0001
Revises: payroll_line_order_0001
Create Date: 2026-11-30 22:30:00

The last-moment re-check of a month (``PayrollActivities.recheck_batch``) looks again only at
the lines whose entitlement account was written, or whose covered member's death was loaded,
since the previous look. Both are found through these indexes: without them each re-check read
every entitlement account and every death of the register.
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


def _indexes(table: str) -> set[str]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(table)}


def upgrade() -> None:
    for name, table, column in INDEXES:
        if name not in _indexes(table):  # tables created at a newer revision have it already
            op.create_index(name, table, [column], unique=False)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        if name in _indexes(table):
            op.drop_index(name, table_name=table)
