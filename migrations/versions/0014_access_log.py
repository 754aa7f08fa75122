"""the access log of unmasked reads of a person's file (PIPL Art. 51, 55)

Revision ID: access_log_0001
Revises: referrals_0001
Create Date: 2026-11-29 21:30:00

One row per read of an application, entitlement or temporary case with ID numbers in clear and
per codec decode: who (officer, role, area), when, which case or workflow, why (the
``X-Access-Reason`` header or ``access_reason`` parameter). Read by ``GET /access-log``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "access_log_0001"
down_revision: str | Sequence[str] | None = "referrals_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = AutoString


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("access_log"):
        return  # a database whose tables were created at a newer revision
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", S(), nullable=False),
        sa.Column("role", S(), nullable=False),
        sa.Column("officer_area", S(), nullable=False),
        sa.Column("accessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", S(), nullable=False),
        sa.Column("case_id", S(), nullable=True),
        sa.Column("workflow_id", S(), nullable=True),
        sa.Column("area_code", S(), nullable=False),
        sa.Column("path", S(), nullable=False),
        sa.Column("reason", S(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("officer_id", "accessed_at", "case_id", "area_code"):
        op.create_index(f"ix_access_log_{column}", "access_log", [column], unique=False)


def downgrade() -> None:
    for column in ("officer_id", "accessed_at", "case_id", "area_code"):
        op.drop_index(f"ix_access_log_{column}", table_name="access_log")
    op.drop_table("access_log")
