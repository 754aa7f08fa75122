"""idempotency keys name their scope and keep a step's recorded answer

Revision ID: idempotency_0002
Revises: payments_0001
Create Date: 2026-11-23 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "idempotency_0002"
down_revision: str | Sequence[str] | None = "payments_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns already there are kept (a database stamped at an older revision whose tables were
    # created at a newer one upgrades without error).
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("idempotency_key")}
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        if "scope" not in have:
            batch_op.add_column(
                sa.Column(
                    "scope", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
                )
            )
        if "response" not in have:
            batch_op.add_column(sa.Column("response", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_column("response")
        batch_op.drop_column("scope")
