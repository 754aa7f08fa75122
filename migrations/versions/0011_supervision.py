"""spot checks and complaints

Revision ID: supervision_0001
Revises: officer_tokens_0001
Create Date: 2026-11-29 21:00:00
"""

from collections.abc import Sequence

revision: str = "supervision_0001"
down_revision: str | Sequence[str] | None = "officer_tokens_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
