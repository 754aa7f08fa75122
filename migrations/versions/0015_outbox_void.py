"""withdrawn reminders and escalations (outbox_message.voided_at)

Revision ID: outbox_void_0001
Revises: access_log_0001
Create Date: 2026-11-29 22:00:00

A deadline met on paper on or before its due day (a step entered after the fact) withdraws the
reminder and escalation already posted for it: ``voided_at`` and ``voided_reason_zh`` on the
outbox row, set by the ``void_outbox`` activity; ``GET /me/messages`` hides void rows by default
(issue 13 item 1).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "outbox_void_0001"
down_revision: str | Sequence[str] | None = "access_log_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
TABLE = "outbox_message"


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(TABLE)}


def upgrade() -> None:
    have = _columns()  # a database whose tables were created at a newer revision has them
    with op.batch_alter_table(TABLE) as batch:
        if "voided_at" not in have:
            batch.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        if "voided_reason_zh" not in have:
            batch.add_column(sa.Column("voided_reason_zh", S(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("voided_reason_zh")
        batch.drop_column("voided_at")
