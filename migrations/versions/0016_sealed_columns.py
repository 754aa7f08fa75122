"""ID numbers and account numbers sealed at column level, with a blind index

Revision ID: sealed_columns_0001
Revises: outbox_void_0001
Create Date: 2026-11-30 08:00:00

Every column holding an ID number or a bank/card account is encrypted in place
(``jiuzhu/db/sealing.py``: AES-256-GCM, ``v1:<key id>:<base64>``, under the key ring the
settings name — the same one the application then uses), and each of them that is looked up or
constrained by equality gets its blind index (``<column>_index``, keyed HMAC-SHA256, hex).
Indexes and unique constraints move from the clear column to the index column:
``household_membership`` UNIQUE (programme, id_number) → (programme, id_number_index),
``entitlement_member`` UNIQUE (case_id, id_number) → (case_id, id_number_index), ``death_record``
UNIQUE (id_number) → (id_number_index), ``bank_closed_account`` keyed by ``account_index``.
The recorded answers of idempotent steps (``idempotency_key.response``: the case's full state)
are sealed whole. Values already sealed are left as they are (a second run changes nothing).
On SQLite the pages the clear values leave are zeroed (``secure_delete``). The downgrade opens
every value again and restores the clear columns' indexes and constraints.
"""

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

from jiuzhu.db.sealing import INDEX_CHARS, PREFIX, SEALED_KEY, active

revision: str = "sealed_columns_0001"
down_revision: str | Sequence[str] | None = "outbox_void_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S = sqlmodel.sql.sqltypes.AutoString
CHUNK = 5_000
# Names SQLite gives the unnamed unique constraints of 0004 when batch mode reflects them.
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


@dataclass(frozen=True)
class Unique:
    """A unique constraint that moves from the clear column to its index."""

    name: str
    old_columns: tuple[str, ...]
    new_columns: tuple[str, ...]
    old_name: str | None = None  # restored by the downgrade (None: the batch convention's)

    def restored_name(self, table: str) -> str:
        return self.old_name or _convention_name(table, self.old_columns)


@dataclass(frozen=True)
class Sealed:
    table: str
    key: tuple[str, ...]  # primary key, to update row by row
    sealed: tuple[str, ...]  # columns encrypted in place
    indexed: tuple[str, ...] = ()  # sealed columns that get a blind index ``<column>_index``
    drop_ix: tuple[str, ...] = ()  # indexes of the clear columns (useless on ciphertext)
    add_ix: bool = True  # an index on each new index column
    unique: tuple[Unique, ...] = field(default_factory=tuple)


TABLES = (
    Sealed(
        "case_record",
        ("case_id",),
        ("applicant_id_number",),
        ("applicant_id_number",),
        ("ix_case_record_applicant_id_number",),
    ),
    Sealed(
        "entitlement_account",
        ("id",),
        ("payee_id_number", "card_account"),
        ("payee_id_number",),
        add_ix=False,  # copied into payment lines, never looked up
    ),
    Sealed(
        "entitlement_member",
        ("id",),
        ("id_number",),
        ("id_number",),
        ("ix_entitlement_member_id_number",),
        unique=(
            Unique(
                "uq_entitlement_member_person",
                ("case_id", "id_number"),
                ("case_id", "id_number_index"),
            ),
        ),
    ),
    Sealed(
        "payment_instruction",
        ("id",),
        ("payee_id_number", "card_account"),
        ("payee_id_number",),
        add_ix=False,  # as the clear column: only one household's chain looks it up
    ),
    Sealed(
        "verification_record",
        ("id",),
        ("id_number",),
        ("id_number",),
        ("ix_verification_record_id_number",),
    ),
    Sealed(
        "relative_registration",
        ("id",),
        ("id_number",),
        ("id_number",),
        ("ix_relative_registration_id_number",),
    ),
    Sealed(
        "household_membership",
        ("id",),
        ("id_number",),
        ("id_number",),
        ("ix_household_membership_id_number",),
        unique=(
            Unique(
                "uq_membership_person",
                ("programme", "id_number"),
                ("programme", "id_number_index"),
                "uq_membership_person",
            ),
        ),
    ),
    Sealed(
        "monitoring_subject",
        ("source_case_id",),
        ("id_number",),
        ("id_number",),
        ("ix_monitoring_subject_id_number",),
    ),
    Sealed(
        "monitoring_observation",
        ("id",),
        ("id_number",),
        ("id_number",),
        ("ix_monitoring_observation_id_number",),
    ),
    Sealed(
        "referral",
        ("referral_id",),
        ("person_id_number",),
        ("person_id_number",),
        ("ix_referral_person_id_number",),
    ),
    Sealed(
        "death_record",
        ("id",),
        ("id_number",),
        ("id_number",),
        add_ix=False,
        unique=(Unique("uq_death_record_person", ("id_number",), ("id_number_index",)),),
    ),
    Sealed("bank_ledger", ("id",), ("account",)),
)


def _convention_name(table: str, columns: tuple[str, ...]) -> str:
    return CONVENTION["uq"] % {"table_name": table, "column_0_N_name": "_".join(columns)}


def _inspector() -> sa.Inspector:
    return sa.inspect(op.get_bind())


def _unique_name(table: str, columns: tuple[str, ...]) -> str | None:
    """The database's name of the unique constraint on exactly ``columns`` (PostgreSQL names
    the unnamed ones of 0004 itself; SQLite reflects them unnamed: the batch convention's)."""
    for uq in _inspector().get_unique_constraints(table):
        if tuple(uq["column_names"]) == columns:
            return uq["name"] or _convention_name(table, columns)
    return None


def _chunks(select: str) -> Iterator[list[sa.Row[tuple[object, ...]]]]:
    """Pages of the rows ``select`` matches, until none is left: each page is updated so that
    it no longer matches before the next is read (constant memory on a large table)."""
    query = sa.text(f"{select} LIMIT {CHUNK}")
    while rows := list(op.get_bind().execute(query).all()):
        yield rows


def _rewrite(
    spec: Sealed,
    where: str,
    sets: list[str],
    new_values: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Rewrite ``sets`` of every row of ``spec.table`` matching ``where``, a page at a time,
    with ``new_values(row)`` (the row's key and sealed columns by name)."""
    columns = [*spec.key, *spec.sealed]
    select = f"SELECT {', '.join(columns)} FROM {spec.table} WHERE {where}"
    key = " AND ".join(f"{k} = :k_{k}" for k in spec.key)
    update = sa.text(
        f"UPDATE {spec.table} SET {', '.join(f'{c} = :{c}' for c in sets)} WHERE {key}"
    )
    for rows in _chunks(select):
        params = []
        for row in rows:
            values = dict(zip(columns, row, strict=True))
            params.append({**{f"k_{k}": values[k] for k in spec.key}, **new_values(values)})
        op.get_bind().execute(update, params)


def _seal_rows(spec: Sealed) -> None:
    """Encrypt the clear values of ``spec.table`` in place and fill their indexes."""
    sealer = active()

    def sealed(values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c in spec.sealed:
            value = values[c]
            clear = isinstance(value, str) and not value.startswith(PREFIX)
            out[c] = sealer.seal(value) if clear else value
        for c in spec.indexed:
            value = values[c]
            out[f"{c}_index"] = None if value is None else sealer.index(sealer.open(str(value)))
        return out

    clear = " OR ".join(
        [f"({c} IS NOT NULL AND {c} NOT LIKE '{PREFIX}%')" for c in spec.sealed]
        + [f"({c}_index IS NULL AND {c} IS NOT NULL)" for c in spec.indexed]
    )
    _rewrite(spec, clear, [*spec.sealed, *(f"{c}_index" for c in spec.indexed)], sealed)


def _open_rows(spec: Sealed) -> None:
    """The downgrade: every sealed value of ``spec.table`` back in clear."""
    sealer = active()

    def opened(values: dict[str, Any]) -> dict[str, Any]:
        return {c: None if values[c] is None else sealer.open(str(values[c])) for c in spec.sealed}

    sealed = " OR ".join(f"{c} LIKE '{PREFIX}%'" for c in spec.sealed)
    _rewrite(spec, sealed, list(spec.sealed), opened)


def _upgrade_table(spec: Sealed) -> None:
    insp = _inspector()
    if not insp.has_table(spec.table):
        return
    have = {c["name"] for c in insp.get_columns(spec.table)}
    indexes = {i["name"] for i in insp.get_indexes(spec.table)}
    missing = [c for c in spec.indexed if f"{c}_index" not in have]
    if missing:
        with op.batch_alter_table(spec.table) as batch:
            for c in missing:
                batch.add_column(sa.Column(f"{c}_index", sa.String(INDEX_CHARS), nullable=True))
    _seal_rows(spec)
    moves = [(u, _unique_name(spec.table, u.old_columns)) for u in spec.unique]
    drop_ix = [name for name in spec.drop_ix if name in indexes]
    add_ix = [
        f"ix_{spec.table}_{c}_index"
        for c in spec.indexed
        if spec.add_ix and f"ix_{spec.table}_{c}_index" not in indexes
    ]
    if not (drop_ix or add_ix or any(old for _, old in moves)):
        return
    with op.batch_alter_table(spec.table, naming_convention=CONVENTION) as batch:
        for name in drop_ix:
            batch.drop_index(name)
        for unique, old in moves:
            if old is not None:
                batch.drop_constraint(old, type_="unique")
                batch.create_unique_constraint(unique.name, list(unique.new_columns))
        for name in add_ix:
            column = name.removeprefix(f"ix_{spec.table}_")
            batch.create_index(name, [column], unique=False)


def _downgrade_table(spec: Sealed) -> None:
    insp = _inspector()
    if not insp.has_table(spec.table):
        return
    _open_rows(spec)
    indexes = {i["name"] for i in insp.get_indexes(spec.table)}
    with op.batch_alter_table(spec.table, naming_convention=CONVENTION) as batch:
        for c in spec.indexed:
            if f"ix_{spec.table}_{c}_index" in indexes:
                batch.drop_index(f"ix_{spec.table}_{c}_index")
        for unique in spec.unique:
            batch.drop_constraint(unique.name, type_="unique")
            batch.create_unique_constraint(
                unique.restored_name(spec.table), list(unique.old_columns)
            )
        for c in spec.indexed:
            batch.drop_column(f"{c}_index")
        for name in spec.drop_ix:
            column = name.removeprefix(f"ix_{spec.table}_")
            batch.create_index(name, [column], unique=False)


def _rebuild_closed_accounts() -> None:
    """``bank_closed_account`` keyed by the account's blind index (the account sealed): a new
    table, the rows copied sealed, the old one dropped (it is small: the embedded bank's list
    of refused accounts)."""
    insp = _inspector()
    if not insp.has_table("bank_closed_account"):
        return
    if "account_index" in {c["name"] for c in insp.get_columns("bank_closed_account")}:
        return
    sealer = active()
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT account, code, reason_zh FROM bank_closed_account")).all()
    op.create_table(
        "bank_closed_account_sealed",
        sa.Column("account_index", sa.String(INDEX_CHARS), nullable=False),
        sa.Column("account", S(), nullable=False),
        sa.Column("code", S(), nullable=False),
        sa.Column("reason_zh", S(), nullable=False),
        sa.PrimaryKeyConstraint("account_index", name="pk_bank_closed_account"),
    )
    table = sa.table(
        "bank_closed_account_sealed",
        sa.column("account_index"),
        sa.column("account"),
        sa.column("code"),
        sa.column("reason_zh"),
    )
    values = {}
    for account, code, reason in rows:
        clear = sealer.open(str(account))
        values[sealer.index(clear)] = {
            "account_index": sealer.index(clear),
            "account": sealer.seal(clear),
            "code": code,
            "reason_zh": reason,
        }
    if values:
        op.bulk_insert(table, list(values.values()))
    op.drop_table("bank_closed_account")
    op.rename_table("bank_closed_account_sealed", "bank_closed_account")


def _restore_closed_accounts() -> None:
    sealer = active()
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT account, code, reason_zh FROM bank_closed_account")).all()
    op.drop_table("bank_closed_account")
    op.create_table(
        "bank_closed_account",
        sa.Column("account", S(), nullable=False),
        sa.Column("code", S(), nullable=False),
        sa.Column("reason_zh", S(), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    table = sa.table(
        "bank_closed_account", sa.column("account"), sa.column("code"), sa.column("reason_zh")
    )
    if rows:
        op.bulk_insert(
            table,
            [{"account": sealer.open(str(a)), "code": c, "reason_zh": r} for a, c, r in rows],
        )


def _seal_answers(seal: bool) -> None:
    """The recorded answers of idempotent steps (``idempotency_key.response``, the case's full
    state) sealed whole as ``{"sealed": "v1:…"}`` — or, downgrading, opened again."""
    insp = _inspector()
    if not insp.has_table("idempotency_key"):
        return
    sealer = active()
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, response FROM idempotency_key WHERE response IS NOT NULL").columns(
            response=sa.JSON()
        )
    ).all()
    update = sa.text("UPDATE idempotency_key SET response = :r WHERE id = :i").bindparams(
        sa.bindparam("r", type_=sa.JSON())
    )
    params = []
    for row_id, response in rows:
        sealed = isinstance(response, dict) and set(response) == {SEALED_KEY}
        if seal and not sealed:
            text = json.dumps(response, ensure_ascii=False, separators=(",", ":"))
            params.append({"i": row_id, "r": {SEALED_KEY: sealer.seal(text)}})
        elif not seal and sealed:
            params.append({"i": row_id, "r": json.loads(sealer.open(response[SEALED_KEY]))})
    for i in range(0, len(params), CHUNK):
        bind.execute(update, params[i : i + CHUNK])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Pages freed by the update and the dropped indexes are zeroed, not left holding the
        # clear numbers (on PostgreSQL old row versions stay until VACUUM: see README).
        op.execute("PRAGMA secure_delete = ON")
    for spec in TABLES:
        _upgrade_table(spec)
    _rebuild_closed_accounts()
    _seal_answers(True)


def downgrade() -> None:
    _seal_answers(False)
    _restore_closed_accounts()
    for spec in reversed(TABLES):
        _downgrade_table(spec)
