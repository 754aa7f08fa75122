"""spot checks and complaints

Revision ID: supervision_0001
Revises: officer_tokens_0001
Create Date: 2026-11-29 21:00:00

``spot_check_draw``: the seed, population and sample of each monthly spot-check draw (auditable,
reproducible). ``complaint_party``: a complainant's identity, kept out of workflow histories and
lists. Spot-check rounds and complaints themselves are workflows whose list rows are
``case_record`` rows of kind ``spot_check`` and ``complaint``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "supervision_0001"
down_revision: str | Sequence[str] | None = "officer_tokens_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "spot_check_draw" not in have:
        op.create_table(
            "spot_check_draw",
            sa.Column("round_id", STR(), nullable=False),
            sa.Column("county_code", STR(), nullable=False),
            sa.Column("period", STR(), nullable=False),
            sa.Column("seed", sa.BigInteger(), nullable=False),
            sa.Column("population_digest", STR(), nullable=False),
            sa.Column("population_size", sa.Integer(), nullable=False),
            sa.Column("sample_size", sa.Integer(), nullable=False),
            sa.Column("population", sa.JSON(), nullable=True),
            sa.Column("sampled", sa.JSON(), nullable=True),
            sa.Column("strata", sa.JSON(), nullable=True),
            sa.Column("policy_version_id", STR(), nullable=True),
            sa.Column("drawn_by", STR(), nullable=True),
            sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("round_id"),
        )
        with op.batch_alter_table("spot_check_draw", schema=None) as batch_op:
            batch_op.create_index("ix_spot_check_draw_county_code", ["county_code"])
            batch_op.create_index("ix_spot_check_draw_period", ["period"])
    if "complaint_party" not in have:
        op.create_table(
            "complaint_party",
            sa.Column("complaint_id", STR(), nullable=False),
            sa.Column("name", STR(), nullable=False),
            sa.Column("phone", STR(), nullable=False),
            sa.Column("address", STR(), nullable=False),
            sa.Column("recorded_by", STR(), nullable=False),
            sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("complaint_id"),
        )


def downgrade() -> None:
    op.drop_table("complaint_party")
    with op.batch_alter_table("spot_check_draw", schema=None) as batch_op:
        batch_op.drop_index("ix_spot_check_draw_period")
        batch_op.drop_index("ix_spot_check_draw_county_code")
    op.drop_table("spot_check_draw")
