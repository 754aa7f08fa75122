"""the low-income monitoring population, warnings and public listings

Revision ID: monitoring_0001
Revises: supervision_0001
Create Date: 2026-11-29 21:00:00

The monitoring population (``monitoring_subject``, one row per source case), the
data-comparison loads (``monitoring_import``) and their records (``monitoring_observation``).
Warnings are workflows listed from ``case_record`` (kind ``warning``); the public listing is
rendered from ``entitlement_account`` and needs no table. Existing cases enter the population by
the one-off back-fill ``POST /monitoring/backfill`` (``activities/monitoring/population.py``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "monitoring_0001"
down_revision: str | Sequence[str] | None = "supervision_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString


def _index(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "monitoring_subject" not in have:
        op.create_table(
            "monitoring_subject",
            sa.Column("source_case_id", S(), nullable=False),
            sa.Column("source_kind", S(), nullable=False),
            sa.Column("household_id", S(), nullable=False),
            sa.Column("programme", S(), nullable=False),
            sa.Column("category", S(), nullable=False),
            sa.Column("area_code", S(), nullable=False),
            sa.Column("county_code", S(), nullable=False),
            sa.Column("township_code", S(), nullable=False),
            sa.Column("name", S(), nullable=False),
            sa.Column("id_number", S(), nullable=False),
            sa.Column("household_size", sa.Integer(), nullable=False),
            sa.Column("since", sa.Date(), nullable=False),
            sa.Column("reason_zh", S(), nullable=True),
            sa.Column("ended_on", sa.Date(), nullable=True),
            sa.Column("source_status", S(), nullable=False),
            sa.Column("source_revision", sa.Integer(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("source_case_id"),
        )
        _index(
            "monitoring_subject",
            "household_id",
            "programme",
            "category",
            "area_code",
            "county_code",
            "township_code",
            "id_number",
        )
    if "monitoring_import" not in have:
        op.create_table(
            "monitoring_import",
            sa.Column("import_id", S(), nullable=False),
            sa.Column("kind", S(), nullable=False),
            sa.Column("source", S(), nullable=False),
            sa.Column("area_code", S(), nullable=False),
            sa.Column("loaded_by", S(), nullable=False),
            sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("record_count", sa.Integer(), nullable=False),
            sa.Column("warnings_raised", sa.Integer(), nullable=False),
            sa.Column("already_raised", sa.Integer(), nullable=False),
            sa.Column("not_monitored", sa.Integer(), nullable=False),
            sa.Column("refused_out_of_area", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("import_id"),
        )
        _index("monitoring_import", "kind", "area_code")
    if "monitoring_observation" not in have:
        op.create_table(
            "monitoring_observation",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("import_id", S(), nullable=False),
            sa.Column("kind", S(), nullable=False),
            sa.Column("id_number", S(), nullable=False),
            sa.Column("amount", sa.Numeric(14, 2), nullable=True),
            sa.Column("observed_on", sa.Date(), nullable=False),
            sa.Column("note", S(), nullable=False),
            sa.Column("warning_id", S(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        _index("monitoring_observation", "import_id", "id_number", "warning_id")


def downgrade() -> None:
    op.drop_table("monitoring_observation")
    op.drop_table("monitoring_import")
    op.drop_table("monitoring_subject")
