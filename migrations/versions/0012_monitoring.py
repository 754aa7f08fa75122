"""the low-income monitoring population, warnings and public listings

Revision ID: monitoring_0001
Revises: supervision_0001
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

revision: str = "monitoring_0001"
down_revision: str | Sequence[str] | None = "supervision_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
