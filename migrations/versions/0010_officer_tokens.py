"""officers' tokens expire; who created an officer, when one was deactivated

Revision ID: officer_tokens_0001
Revises: area_scope_0001
Create Date: 2026-11-29 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "officer_tokens_0001"
down_revision: str | Sequence[str] | None = "area_scope_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("officer")}
    with op.batch_alter_table("officer", schema=None) as batch_op:
        if "token_expires_at" not in have:
            batch_op.add_column(
                sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True)
            )
        if "created_by" not in have:
            batch_op.add_column(
                sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
            )
        if "deactivated_at" not in have:
            batch_op.add_column(
                sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    with op.batch_alter_table("officer", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("created_by")
        batch_op.drop_column("token_expires_at")
