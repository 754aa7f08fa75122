"""entitlements and payments: entitlement read model, payroll runs, bank batches and the embedded
bank, death register, campaigns, entitlement notices

Revision ID: payments_0001
Revises: 0001_foundation
Create Date: 2026-11-22 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "payments_0001"
down_revision: str | Sequence[str] | None = "application_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bank_batch",
        sa.Column("batch_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("file_path", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("result_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_index(op.f("ix_bank_batch_county_code"), "bank_batch", ["county_code"], unique=False)
    op.create_table(
        "bank_closed_account",
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason_zh", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    op.create_table(
        "bank_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("batch_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("credited_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index(op.f("ix_bank_ledger_batch_id"), "bank_ledger", ["batch_id"], unique=False)
    op.create_table(
        "campaign",
        sa.Column("campaign_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("programmes", sa.JSON(), nullable=True),
        sa.Column("amount_per_person", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("provincial_ratio", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("instruction_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("provincial_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("local_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_count", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_index(op.f("ix_campaign_county_code"), "campaign", ["county_code"], unique=False)
    op.create_table(
        "death_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("date_of_death", sa.Date(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("loaded_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_number"),
    )
    op.create_table(
        "entitlement_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("household_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("programme", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("area_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("township_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("centralised", sa.Boolean(), nullable=False),
        sa.Column("monthly_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("payable_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("next_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("next_amount_from", sa.Integer(), nullable=True),
        sa.Column("members_total", sa.Integer(), nullable=False),
        sa.Column("members_paid", sa.Integer(), nullable=False),
        sa.Column("start_month", sa.Integer(), nullable=False),
        sa.Column("end_month", sa.Integer(), nullable=True),
        sa.Column("payee_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("payee_id_number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("card_account", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("bank_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.Column("policy_version_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_index(
        op.f("ix_entitlement_account_area_code"), "entitlement_account", ["area_code"], unique=False
    )
    op.create_index(
        op.f("ix_entitlement_account_county_code"),
        "entitlement_account",
        ["county_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_entitlement_account_household_id"),
        "entitlement_account",
        ["household_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_entitlement_account_programme"), "entitlement_account", ["programme"], unique=False
    )
    op.create_index(
        op.f("ix_entitlement_account_status"), "entitlement_account", ["status"], unique=False
    )
    op.create_index(
        op.f("ix_entitlement_account_township_code"),
        "entitlement_account",
        ["township_code"],
        unique=False,
    )
    op.create_table(
        "entitlement_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("id_number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("share_status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "id_number"),
    )
    op.create_index(
        op.f("ix_entitlement_member_case_id"), "entitlement_member", ["case_id"], unique=False
    )
    op.create_index(
        op.f("ix_entitlement_member_id_number"), "entitlement_member", ["id_number"], unique=False
    )
    op.create_index(
        op.f("ix_entitlement_member_share_status"),
        "entitlement_member",
        ["share_status"],
        unique=False,
    )
    op.create_table(
        "entitlement_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id"),
    )
    op.create_index(
        op.f("ix_entitlement_notice_case_id"), "entitlement_notice", ["case_id"], unique=False
    )
    op.create_table(
        "payroll_run",
        sa.Column("payroll_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("county_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("data_cutoff", sa.Date(), nullable=True),
        sa.Column("funds_cutoff", sa.Date(), nullable=True),
        sa.Column("credit_date", sa.Date(), nullable=True),
        sa.Column("cutoffs_provisional", sa.Boolean(), nullable=False),
        sa.Column("compiled_count", sa.Integer(), nullable=False),
        sa.Column("compiled_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("retried_count", sa.Integer(), nullable=False),
        sa.Column("funded_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("funding_reference", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("funded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("bank_file", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("result_file", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("report_file", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("paid_count", sa.Integer(), nullable=False),
        sa.Column("paid_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("failed_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("flagged_count", sa.Integer(), nullable=False),
        sa.Column("deaths_found", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("payroll_id"),
    )
    op.create_index(
        op.f("ix_payroll_run_county_code"), "payroll_run", ["county_code"], unique=False
    )
    op.create_index(op.f("ix_payroll_run_period"), "payroll_run", ["period"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_payroll_run_period"), table_name="payroll_run")
    op.drop_index(op.f("ix_payroll_run_county_code"), table_name="payroll_run")
    op.drop_table("payroll_run")
    op.drop_index(op.f("ix_entitlement_notice_case_id"), table_name="entitlement_notice")
    op.drop_table("entitlement_notice")
    op.drop_index(op.f("ix_entitlement_member_share_status"), table_name="entitlement_member")
    op.drop_index(op.f("ix_entitlement_member_id_number"), table_name="entitlement_member")
    op.drop_index(op.f("ix_entitlement_member_case_id"), table_name="entitlement_member")
    op.drop_table("entitlement_member")
    op.drop_index(op.f("ix_entitlement_account_township_code"), table_name="entitlement_account")
    op.drop_index(op.f("ix_entitlement_account_status"), table_name="entitlement_account")
    op.drop_index(op.f("ix_entitlement_account_programme"), table_name="entitlement_account")
    op.drop_index(op.f("ix_entitlement_account_household_id"), table_name="entitlement_account")
    op.drop_index(op.f("ix_entitlement_account_county_code"), table_name="entitlement_account")
    op.drop_index(op.f("ix_entitlement_account_area_code"), table_name="entitlement_account")
    op.drop_table("entitlement_account")
    op.drop_table("death_record")
    op.drop_index(op.f("ix_campaign_county_code"), table_name="campaign")
    op.drop_table("campaign")
    op.drop_index(op.f("ix_bank_ledger_batch_id"), table_name="bank_ledger")
    op.drop_table("bank_ledger")
    op.drop_table("bank_closed_account")
    op.drop_index(op.f("ix_bank_batch_county_code"), table_name="bank_batch")
    op.drop_table("bank_batch")
