"""one person in at most one active household per programme

Revision ID: membership_0001
Revises: idempotency_0002
Create Date: 2026-11-29 20:30:00
"""

from collections.abc import Sequence

revision: str = "membership_0001"
down_revision: str | Sequence[str] | None = "idempotency_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
