"""one person in at most one active household per programme

Revision ID: membership_0001
Revises: idempotency_0002
Create Date: 2026-11-29 20:30:00

The index ``household_membership`` (programme, id_number) → case, UNIQUE on (programme,
id_number), back-filled from what is active now: members of active entitlements (share active or
suspended, account active/withdrawal/suspended/terminating) and the applicants of open
applications (their other members live only in the workflow's state). The first claimant (the
oldest case) wins; later duplicates are skipped — ``GET /reports/duplicate-memberships`` and
``python -m scripts.sweep_memberships`` list them.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

from jiuzhu.db.sealing import unseal

revision: str = "membership_0001"
down_revision: str | Sequence[str] | None = "idempotency_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOUSEHOLD_PROGRAMMES = ("dibao", "tekun", "dibao_edge", "rigid_expense")
ACTIVE_ACCOUNT = ("active", "withdrawal", "suspended", "terminating")
HELD_SHARE = ("active", "suspended")
OPEN_APPLICATION = (
    "submitted",
    "documents_requested",
    "accepted",
    "verification",
    "awaiting_opinion",
    "publicity",
    "objection",
    "awaiting_decision",
)


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table("household_membership"):
        op.create_table(
            "household_membership",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("programme", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("id_number", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("household_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("case_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("member_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("programme", "id_number", name="uq_membership_person"),
        )
        with op.batch_alter_table("household_membership", schema=None) as batch_op:
            for column in ("programme", "id_number", "case_id"):
                batch_op.create_index(
                    batch_op.f(f"ix_household_membership_{column}"), [column], unique=False
                )
    backfill(bind)


def backfill(bind: sa.Connection) -> int:
    """Claim what is active now, oldest case first; returns how many rows were written."""
    rows = bind.execute(
        sa.text(
            f"""
            SELECT a.programme, m.id_number, m.name, a.case_id, a.household_id,
                   'entitlement' AS kind, c.created_at
              FROM entitlement_member m
              JOIN entitlement_account a ON a.case_id = m.case_id
              LEFT JOIN case_record c ON c.case_id = a.case_id
             WHERE m.share_status IN ({_in(HELD_SHARE)})
               AND a.status IN ({_in(ACTIVE_ACCOUNT)})
               AND a.programme IN ({_in(HOUSEHOLD_PROGRAMMES)})
            UNION ALL
            SELECT c.programme, c.applicant_id_number, c.applicant_name, c.case_id,
                   c.household_id, 'application' AS kind, c.created_at
              FROM case_record c
             WHERE c.case_kind = 'application'
               AND c.status IN ({_in(OPEN_APPLICATION)})
               AND c.programme IN ({_in(HOUSEHOLD_PROGRAMMES)})
            """
        )
    ).all()
    # A database re-stamped after 0016 holds sealed numbers (jiuzhu/db/sealing.py): a person is
    # the number opened (a clear one, from before 0016, reads as it is).
    taken = {
        (p, unseal(i))
        for p, i in bind.execute(sa.text("SELECT programme, id_number FROM household_membership"))
    }

    def oldest_first(row: sa.Row[tuple[object, ...]]) -> tuple[str, str]:
        return (str(row[6] or ""), str(row[3]))

    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as UTC wall time (jiuzhu.db.models.UtcDateTime)
    written = 0
    for programme, id_number, name, case_id, household_id, kind, _ in sorted(
        rows, key=oldest_first
    ):
        person = (programme, unseal(id_number))
        if person in taken:
            continue  # a duplicate: the first claimant keeps the person, the sweep lists it
        taken.add(person)
        bind.execute(
            sa.text(
                "INSERT INTO household_membership (programme, id_number, case_id, household_id,"
                " case_kind, member_name, claimed_at) VALUES (:p, :i, :c, :h, :k, :n, :t)"
            ),
            {
                "p": programme,
                "i": id_number,
                "c": case_id,
                "h": household_id,
                "k": kind,
                "n": name or "",
                "t": now,
            },
        )
        written += 1
    return written


def downgrade() -> None:
    with op.batch_alter_table("household_membership", schema=None) as batch_op:
        for column in ("case_id", "id_number", "programme"):
            batch_op.drop_index(batch_op.f(f"ix_household_membership_{column}"))
    op.drop_table("household_membership")
