"""verification records carry the area they were loaded for (replaced per area, never globally)

Revision ID: area_scope_0001
Revises: bank_batches_0001
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "area_scope_0001"
down_revision: str | Sequence[str] | None = "bank_batches_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database stamped at an older revision whose tables were created at a newer one keeps
    # its column (as in 0005).
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("verification_record")}
    if "area_code" in have:
        return
    with op.batch_alter_table("verification_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "area_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
        batch_op.create_index(
            batch_op.f("ix_verification_record_area_code"), ["area_code"], unique=False
        )
    # Records loaded before were global: they belong to the county that registered the person.
    op.execute("UPDATE verification_record SET area_code = substr(id_number, 1, 6)")


def downgrade() -> None:
    with op.batch_alter_table("verification_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_record_area_code"))
        batch_op.drop_column("area_code")
