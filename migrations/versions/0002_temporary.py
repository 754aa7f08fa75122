"""temporary assistance: reserve funds and ledger, event register, recoveries, prepayments

Revision ID: 0002_temporary
Revises: 0001_foundation
Create Date: 2026-11-22 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_temporary"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "reserve_fund",
        sa.Column("township_code", S(), nullable=False),
        sa.Column("county_code", S(), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("township_code"),
    )
    with op.batch_alter_table("reserve_fund", schema=None) as b:
        b.create_index(b.f("ix_reserve_fund_county_code"), ["county_code"], unique=False)

    op.create_table(
        "reserve_fund_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", S(), nullable=False),
        sa.Column("township_code", S(), nullable=False),
        sa.Column("county_code", S(), nullable=False),
        sa.Column("direction", S(), nullable=False),
        sa.Column("purpose", S(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("case_id", S(), nullable=True),
        sa.Column("payment_idempotency_key", S(), nullable=True),
        sa.Column("actor_officer_id", S(), nullable=True),
        sa.Column("actor_name", S(), nullable=True),
        sa.Column("note_zh", S(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("reserve_fund_entry", schema=None) as b:
        b.create_index(b.f("ix_reserve_fund_entry_case_id"), ["case_id"], unique=False)
        b.create_index(b.f("ix_reserve_fund_entry_county_code"), ["county_code"], unique=False)
        b.create_index(b.f("ix_reserve_fund_entry_created_at"), ["created_at"], unique=False)
        b.create_index(b.f("ix_reserve_fund_entry_township_code"), ["township_code"], unique=False)

    op.create_table(
        "temporary_event_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_key", S(), nullable=False),
        sa.Column("event_key", S(), nullable=False),
        sa.Column("case_id", S(), nullable=False),
        sa.Column("event_type", S(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("repeat_reason", S(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("claim_key"),
        sa.UniqueConstraint("event_key", "case_id"),
    )
    with op.batch_alter_table("temporary_event_claim", schema=None) as b:
        b.create_index(b.f("ix_temporary_event_claim_case_id"), ["case_id"], unique=False)
        b.create_index(b.f("ix_temporary_event_claim_event_key"), ["event_key"], unique=False)

    op.create_table(
        "temporary_recovery",
        sa.Column("case_id", S(), nullable=False),
        sa.Column("workflow_id", S(), nullable=False),
        sa.Column("township_code", S(), nullable=False),
        sa.Column("county_code", S(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("recovered_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", S(), nullable=False),
        sa.Column("reason_zh", S(), nullable=False),
        sa.Column("opened_by", S(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
    )
    with op.batch_alter_table("temporary_recovery", schema=None) as b:
        b.create_index(b.f("ix_temporary_recovery_county_code"), ["county_code"], unique=False)
        b.create_index(b.f("ix_temporary_recovery_status"), ["status"], unique=False)
        b.create_index(b.f("ix_temporary_recovery_township_code"), ["township_code"], unique=False)

    op.create_table(
        "temporary_prepayment",
        sa.Column("case_id", S(), nullable=False),
        sa.Column("workflow_id", S(), nullable=False),
        sa.Column("area_code", S(), nullable=False),
        sa.Column("township_code", S(), nullable=False),
        sa.Column("county_code", S(), nullable=False),
        sa.Column("applicant_name", S(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("justification_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("justified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", S(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
    )
    with op.batch_alter_table("temporary_prepayment", schema=None) as b:
        b.create_index(b.f("ix_temporary_prepayment_area_code"), ["area_code"], unique=False)
        b.create_index(b.f("ix_temporary_prepayment_county_code"), ["county_code"], unique=False)
        b.create_index(
            b.f("ix_temporary_prepayment_justification_due"), ["justification_due"], unique=False
        )
        b.create_index(b.f("ix_temporary_prepayment_overdue"), ["overdue"], unique=False)
        b.create_index(b.f("ix_temporary_prepayment_status"), ["status"], unique=False)
        b.create_index(
            b.f("ix_temporary_prepayment_township_code"), ["township_code"], unique=False
        )


def downgrade() -> None:
    op.drop_table("temporary_prepayment")
    op.drop_table("temporary_recovery")
    op.drop_table("temporary_event_claim")
    op.drop_table("reserve_fund_entry")
    op.drop_table("reserve_fund")
