"""referrals to other departments (one assistance chain)

Revision ID: referrals_0001
Revises: monitoring_0001
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

revision: str = "referrals_0001"
down_revision: str | Sequence[str] | None = "monitoring_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
