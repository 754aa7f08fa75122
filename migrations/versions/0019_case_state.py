"""a case's full state kept by read-model revision, for detail reads

Revision ID: case_state_0001
Revises: recheck_changes_0001
Create Date: 2026-12-01 00:10:00

``GET /applications/{id}`` and ``GET /temporary-cases/{id}`` answered every read with a
workflow query: under a county's load the worker spent most of its time answering the same
unchanged case again. The answer is now kept, sealed whole (it holds ID numbers and accounts),
under the revision it carries; a read whose read-model row has that revision (and whose
``valid_until`` has not passed) is answered from here (``api/case_states.py``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "case_state_0001"
down_revision: str | Sequence[str] | None = "recheck_changes_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("case_state"):
        return  # a database whose tables were created at a newer revision
    op.create_table(
        "case_state",
        sa.Column("case_id", AutoString(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("case_state")
