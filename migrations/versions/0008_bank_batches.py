"""daily bank batches for temporary-assistance instructions

Revision ID: bank_batches_0001
Revises: recovery_0001
Create Date: 2026-11-29 20:30:00
"""

from collections.abc import Sequence

revision: str = "bank_batches_0001"
down_revision: str | Sequence[str] | None = "recovery_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
