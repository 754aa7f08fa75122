"""overpayment receivables and held payroll lines

Revision ID: recovery_0001
Revises: membership_0001
Create Date: 2026-11-29 20:30:00
"""

from collections.abc import Sequence

revision: str = "recovery_0001"
down_revision: str | Sequence[str] | None = "membership_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
