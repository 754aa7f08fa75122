"""application workflow: verification sources and records, relatives registry, notices

Revision ID: application_0001
Revises: 0001_foundation
Create Date: 2026-11-22 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "application_0001"
down_revision: str | Sequence[str] | None = "0002_temporary"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_str = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "verification_source",
        sa.Column("name", _str(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("fail_first_attempts", sa.Integer(), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("loaded_by", _str(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "verification_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", _str(), nullable=False),
        sa.Column("id_number", _str(), nullable=False),
        sa.Column("category", _str(), nullable=False),
        sa.Column("kind", _str(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("note", _str(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("verification_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verification_record_id_number"), ["id_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_verification_record_source"), ["source"], unique=False)

    op.create_table(
        "relative_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", _str(), nullable=False),
        sa.Column("name", _str(), nullable=False),
        sa.Column("staff_name", _str(), nullable=False),
        sa.Column("staff_role", _str(), nullable=False),
        sa.Column("relation_zh", _str(), nullable=False),
        sa.Column("area_code", _str(), nullable=False),
        sa.Column("loaded_by", _str(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relative_registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_relative_registration_area_code"), ["area_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_relative_registration_id_number"), ["id_number"], unique=False
        )

    op.create_table(
        "application_notice",
        sa.Column("notice_id", _str(), nullable=False),
        sa.Column("case_id", _str(), nullable=False),
        sa.Column("workflow_id", _str(), nullable=False),
        sa.Column("kind", _str(), nullable=False),
        sa.Column("title", _str(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("issued_by", _str(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("delivery_method", _str(), nullable=True),
        sa.Column("delivered_to", _str(), nullable=True),
        sa.PrimaryKeyConstraint("notice_id"),
    )
    with op.batch_alter_table("application_notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_notice_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_notice_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("application_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_notice_kind"))
        batch_op.drop_index(batch_op.f("ix_application_notice_case_id"))
    op.drop_table("application_notice")
    with op.batch_alter_table("relative_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relative_registration_id_number"))
        batch_op.drop_index(batch_op.f("ix_relative_registration_area_code"))
    op.drop_table("relative_registration")
    with op.batch_alter_table("verification_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_record_source"))
        batch_op.drop_index(batch_op.f("ix_verification_record_id_number"))
    op.drop_table("verification_record")
    op.drop_table("verification_source")
