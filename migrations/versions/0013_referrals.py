"""referrals to other departments (one assistance chain)

Revision ID: referrals_0001
Revises: monitoring_0001
Create Date: 2026-11-29 21:00:00

The referral register: one row per referral of a household's need to another department
(医疗/教育/住房/就业救助, 残联, 防返贫) with the department's answer, written by the referral
workflow (``ReferralWorkflow``) together with its ``case_record`` row of kind ``referral``;
read by ``/referrals`` and ``/households/{id}/assistance-chain`` (seed 001 二(二)1(3)).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "referrals_0001"
down_revision: str | Sequence[str] | None = "monitoring_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
INDEXED = (
    "area_code",
    "county_code",
    "department",
    "escalated",
    "household_id",
    "need",
    "person_id_number",
    "source_case_id",
    "status",
)


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("referral"):
        return  # a database whose tables were created at a newer revision
    op.create_table(
        "referral",
        sa.Column("referral_id", S(), nullable=False),
        sa.Column("workflow_id", S(), nullable=False),
        sa.Column("household_id", S(), nullable=False),
        sa.Column("source_case_id", S(), nullable=False),
        sa.Column("source_kind", S(), nullable=False),
        sa.Column("source_programme", S(), nullable=False),
        sa.Column("department", S(), nullable=False),
        sa.Column("need", S(), nullable=False),
        sa.Column("person_name", S(), nullable=False),
        sa.Column("person_id_number", S(), nullable=False),
        sa.Column("request_zh", S(), nullable=False),
        sa.Column("area_code", S(), nullable=False),
        sa.Column("county_code", S(), nullable=False),
        sa.Column("status", S(), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("referred_by", S(), nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("repeat_reason", S(), nullable=True),
        sa.Column("answer_outcome", S(), nullable=True),
        sa.Column("answer_zh", S(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("department_reference", S(), nullable=True),
        sa.Column("answered_by", S(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    with op.batch_alter_table("referral", schema=None) as b:
        for column in INDEXED:
            b.create_index(b.f(f"ix_referral_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as b:
        for column in INDEXED:
            b.drop_index(b.f(f"ix_referral_{column}"))
    op.drop_table("referral")
