"""THE one writer of ``payment_instruction`` rows (DOMAIN §5): every instruction to pay — the
monthly payroll, a campaign, a temporary-aid payment or prepayment — is created and moved from
status to status here, and nowhere else.

Creating
    ``write_instruction(session, draft) -> PaymentInstruction | None`` adds one instruction in
    the caller's transaction (so a reserve-fund debit and its instruction commit together). It
    is idempotent on ``draft.idempotency_key`` (minted deterministically inside the workflow,
    e.g. ``payroll:<household>:<programme>:<period>``): when an instruction with that key exists
    it writes nothing and returns None; otherwise it returns the new row (status ``pending``,
    0 attempts). A concurrent writer of the same key loses quietly (``ON CONFLICT DO NOTHING``).

    ``insert_payroll_chunk`` / ``insert_campaign_chunk`` are the set-based forms the payroll and
    campaign compilers use (``INSERT … SELECT … ON CONFLICT DO NOTHING`` over a range of the
    entitlement read model), ``requeue_failed`` queues a county's failed payroll lines again;
    ``assign_daily_batch`` puts a county's pending temporary-assistance lines into the day's
    bank batch (one ``UPDATE``).

Moving
    ``mark_sent`` (a batch's pending lines went into a bank file; attempts + 1), ``mark_paid``
    and ``mark_failed`` (one batch's lines as the bank answered: ``failed`` or, after
    ``max_attempts``, ``flagged``) and ``cancel`` (a pending instruction that must not be paid).
    ``hold`` (a line that cannot be written into a bank file: ``pending``/``sent`` → ``held``
    with the reason, found when the line is compiled or when the file is written);
    ``hold_stopped_chunk`` and ``hold_duplicate_persons`` (the set-based re-check of a batch just
    before finance confirms its total and again before the bank file: deaths, suspensions,
    terminations and changed amounts since compile, and a person paid twice in one period).
    A transition only moves rows from the state it expects, so repeating it changes nothing.

Statuses and kinds are ``PaymentStatus``/``PaymentKind`` (``workflows/payments/contract.py``);
the stored strings are their values. Every function takes an open ``Session`` and leaves the
commit to the caller's unit of work."""

import json
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Date, DateTime, Engine, Numeric, TextClause, bindparam, text
from sqlmodel import Session, select

from jiuzhu.db import sealing
from jiuzhu.db.engine import dialect_insert
from jiuzhu.db.models import PaymentInstruction, UtcDateTime
from workflows.payments.contract import DAILY_BATCH_KINDS, PaymentKind, PaymentStatus


class InstructionDraft(BaseModel):
    """An instruction to create. ``amount`` in yuan (2 decimals); ``period`` is a month
    ("2027-02"), a quarter ("2027-Q1") or a date for one-off payments; ``funding_source`` is
    ``county`` | ``reserve_fund`` | ``provincial_local`` (campaigns record the two shares)."""

    idempotency_key: str = Field(min_length=1)
    kind: PaymentKind
    case_id: str
    household_id: str
    programme: str
    area_code: str
    county_code: str
    period: str
    amount: Decimal = Field(gt=0, decimal_places=2)
    payee_name: str
    payee_id_number: str
    card_account: str
    funding_source: str = "county"
    provincial_share: Decimal | None = None
    local_share: Decimal | None = None
    payroll_id: str | None = None  # the batch (payroll or campaign id) that will pay it


def find_instruction(session: Session, idempotency_key: str) -> PaymentInstruction | None:
    return session.exec(
        select(PaymentInstruction).where(PaymentInstruction.idempotency_key == idempotency_key)
    ).first()


def write_instruction(session: Session, draft: InstructionDraft) -> PaymentInstruction | None:
    """Create the instruction unless its idempotency key exists (then None; nothing written)."""
    if find_instruction(session, draft.idempotency_key) is not None:
        return None
    values = draft.model_dump()
    values.update(
        kind=draft.kind.value,
        status=PaymentStatus.PENDING.value,
        attempts=0,
        created_at=datetime.now(UTC),
    )
    table = PaymentInstruction.__table__  # type: ignore[attr-defined]
    stmt = (
        dialect_insert(session)(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )
    # A row back from RETURNING, not rowcount: on PostgreSQL the insert fetches its new id and
    # reports rowcount -1, not 0, when the key's conflict made it write nothing.
    if session.execute(stmt).first() is None:
        return None  # a concurrent writer of the same key committed first
    return find_instruction(session, draft.idempotency_key)


# --- set-based creation (payroll and campaigns) ------------------------------------------------
def _with_now(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("now", type_=DateTime(timezone=True)))


_PAYING = "('active', 'withdrawal', 'terminating')"
_CASH_PROGRAMMES = "('dibao', 'tekun')"

# One chunk of the month's list, in the read model's order (line ids, and so the bank file's
# order, follow it on SQLite and PostgreSQL alike). ``q`` marks dispersed 特困 paid quarterly:
# in the quarter's first month (or in its first payable month when it starts mid-quarter), for
# the months of the quarter it covers. The amount in force for the month is the adjusted one
# once its month came.
_PAYROLL_SQL = _with_now(
    f"""
WITH c AS (
  SELECT e.*,
    CASE WHEN :quarterly = 1 AND e.programme = 'tekun' AND NOT e.centralised
         THEN 1 ELSE 0 END AS q,
    CASE WHEN e.next_amount_from IS NOT NULL AND :p >= e.next_amount_from
         THEN e.next_amount ELSE e.payable_amount END AS amt
  FROM entitlement_account e
  WHERE e.county_code = :county AND e.id > :after AND e.id <= :upto
    AND e.status IN {_PAYING} AND e.programme IN {_CASH_PROGRAMMES}
    AND e.start_month <= :p AND (e.end_month IS NULL OR e.end_month >= :p)
)
INSERT INTO payment_instruction (
  idempotency_key, kind, case_id, household_id, programme, area_code, county_code, period,
  amount, payee_name, payee_id_number, payee_id_number_index, card_account, funding_source,
  payroll_id, status, attempts, created_at)
SELECT
  'payroll:' || c.household_id || ':' || c.programme || ':'
    || (CASE WHEN c.q = 1 THEN :qkey ELSE :mkey END),
  '{PaymentKind.PAYROLL.value}', c.case_id, c.household_id, c.programme, c.area_code,
  c.county_code, CASE WHEN c.q = 1 THEN :qkey ELSE :mkey END,
  ROUND(c.amt * (CASE WHEN c.q = 1 THEN
      (CASE WHEN c.end_month IS NOT NULL AND c.end_month < :q_end THEN c.end_month
            ELSE :q_end END)
      - (CASE WHEN c.start_month > :q_start THEN c.start_month ELSE :q_start END) + 1
    ELSE 1 END), 2),
  c.payee_name, c.payee_id_number, c.payee_id_number_index, c.card_account, 'county',
  :payroll_id,
  '{PaymentStatus.PENDING.value}', 0, :now
FROM c
WHERE (c.q = 0 OR :p = :q_start OR c.start_month = :p) AND c.amt > 0
ORDER BY c.id
ON CONFLICT (idempotency_key) DO NOTHING
"""
)

# Failed lines of earlier runs are paid by this run, on the card account now on record. A failed
# line has its reason: ``failure_reason IS NOT NULL`` finds them through the partial index.
_REQUEUE_SQL = text(
    f"""
UPDATE payment_instruction
SET payroll_id = :payroll_id, status = '{PaymentStatus.PENDING.value}', failure_reason = NULL,
    card_account = COALESCE((SELECT e.card_account FROM entitlement_account e
                             WHERE e.case_id = payment_instruction.case_id), card_account)
WHERE county_code = :county AND failure_reason IS NOT NULL
  AND kind = '{PaymentKind.PAYROLL.value}'
  AND status = '{PaymentStatus.FAILED.value}' AND payroll_id <> :payroll_id
"""
)

_CAMPAIGN_SQL = _with_now(
    f"""
INSERT INTO payment_instruction (
  idempotency_key, kind, case_id, household_id, programme, area_code, county_code, period,
  amount, payee_name, payee_id_number, payee_id_number_index, card_account, funding_source,
  provincial_share, local_share, payroll_id, status, attempts, created_at)
SELECT
  :prefix || ':' || e.household_id || ':' || e.programme,
  '{PaymentKind.CAMPAIGN.value}', e.case_id, e.household_id, e.programme, e.area_code,
  e.county_code, :period,
  ROUND(:amount * e.members_paid, 2), e.payee_name, e.payee_id_number,
  e.payee_id_number_index, e.card_account, 'provincial_local',
  ROUND(:amount * e.members_paid * :ratio, 2),
  ROUND(:amount * e.members_paid, 2) - ROUND(:amount * e.members_paid * :ratio, 2),
  :batch, '{PaymentStatus.PENDING.value}', 0, :now
FROM entitlement_account e
WHERE e.county_code = :county AND e.id > :after AND e.id <= :upto
  AND e.status IN {_PAYING} AND e.programme IN :programmes
  AND e.start_month <= :p AND (e.end_month IS NULL OR e.end_month >= :p)
  AND e.members_paid > 0
ORDER BY e.id
ON CONFLICT (idempotency_key) DO NOTHING
"""
).bindparams(
    bindparam("programmes", expanding=True),
    # Decimals: exact NUMERIC arithmetic on PostgreSQL (ROUND takes no float there); SQLite's
    # driver has no decimal type and gets floats, as before.
    bindparam("amount", type_=Numeric(12, 2)),
    bindparam("ratio", type_=Numeric(12, 6)),
)


def insert_payroll_chunk(
    session: Session,
    *,
    payroll_id: str,
    county: str,
    after: int,
    upto: int,
    period_index: int,
    quarterly: bool,
    monthly_key: str,
    quarterly_key: str,
    now: datetime,
) -> None:
    """The month's instructions (kind ``payroll``) for read-model rows ``after < id <= upto``
    of the county; keys ``payroll:<household>:<programme>:<monthly_key|quarterly_key>`` (a key
    that exists is left as it is)."""
    q_start = period_index - period_index % 3
    session.execute(
        _PAYROLL_SQL,
        {
            "county": county,
            "after": after,
            "upto": upto,
            "p": period_index,
            "quarterly": 1 if quarterly else 0,
            "q_start": q_start,
            "q_end": q_start + 2,
            "mkey": monthly_key,
            "qkey": quarterly_key,
            "payroll_id": payroll_id,
            "now": now,
        },
    )


def requeue_failed(session: Session, *, payroll_id: str, county: str) -> int:
    """Failed payroll lines of earlier runs move to this payroll (pending, on the card account
    now on record); returns how many."""
    result = session.execute(_REQUEUE_SQL, {"payroll_id": payroll_id, "county": county})
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


def insert_campaign_chunk(
    session: Session,
    *,
    campaign_id: str,
    key_prefix: str,
    period: str,
    period_index: int,
    county: str,
    programmes: Sequence[str],
    amount_per_person: Decimal,
    provincial_ratio: Decimal,
    after: int,
    upto: int,
    now: datetime,
) -> None:
    """One campaign instruction per household and programme (``<key_prefix>:<household>:
    <programme>``): amount per covered person × persons paid, provincial share by ratio."""
    session.execute(
        _CAMPAIGN_SQL,
        {
            "prefix": key_prefix,
            "period": period,
            "amount": amount_per_person,
            "ratio": provincial_ratio,
            "batch": campaign_id,
            "now": now,
            "county": county,
            "after": after,
            "upto": upto,
            "programmes": list(programmes),
            "p": period_index,
        },
    )


# --- the daily bank batch of temporary assistance ------------------------------------------------
# Found through the batch index (``payroll_id IS NULL``: the few lines not yet in a batch);
# ``county_code || ''`` keeps SQLite, which has no statistics, off the county's index, which
# holds every line the county was ever paid.
_DAILY_KINDS = ", ".join(f"'{k.value}'" for k in DAILY_BATCH_KINDS)
_ASSIGN_DAILY_SQL = text(
    f"""
UPDATE payment_instruction SET payroll_id = :batch
WHERE payroll_id IS NULL AND county_code || '' = :county
  AND status = '{PaymentStatus.PENDING.value}' AND kind IN ({_DAILY_KINDS})
"""
)


def assign_daily_batch(session: Session, *, batch_id: str, county: str) -> int:
    """The county's pending temporary-assistance instructions not yet in any batch (kinds
    ``prepayment``/``temporary``/``staged``, ``payroll_id`` NULL) join the daily bank batch
    ``batch_id``: one set-based statement; repeating it changes nothing already assigned (an
    instruction is in one batch, for good). Returns how many joined now."""
    result = session.execute(_ASSIGN_DAILY_SQL, {"batch": batch_id, "county": county})
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


# --- status transitions ------------------------------------------------------------------------
def mark_sent(
    session: Session, batch_id: str, after_id: int | None = None, upto_id: int | None = None
) -> None:
    """The batch's pending lines went into a bank file: ``pending → sent``, attempts + 1 (only
    ids ``after_id < id <= upto_id`` when given: one page of a file written in chunks)."""
    sql = (
        "UPDATE payment_instruction SET status = :sent, attempts = attempts + 1 "
        "WHERE payroll_id = :b AND status = :pending"
    )
    params: dict[str, object] = {
        "b": batch_id,
        "sent": PaymentStatus.SENT.value,
        "pending": PaymentStatus.PENDING.value,
    }
    if after_id is not None and upto_id is not None:
        sql += " AND id > :after AND id <= :upto"
        params.update(after=after_id, upto=upto_id)
    session.execute(text(sql), params)


_FAILED_SQL = text(
    "UPDATE payment_instruction SET failure_reason = :reason, status = CASE WHEN "
    "attempts >= :max THEN :flagged ELSE :failed END WHERE idempotency_key = :k "
    "AND payroll_id = :b AND status = :sent"
)


def bound(session: Session, value: object, type_: Any) -> object:
    """``value`` as the driver takes it for a column of ``type_`` (for statements sent
    straight through the driver: ``exec_driver_sql``)."""
    dialect = session.get_bind().dialect
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def _driver_sql(session: Session, sql: str) -> str:
    if session.connection().dialect.paramstyle in ("format", "pyformat"):
        return sql.replace("?", "%s")
    return sql


def driver_rows(session: Session, sql: str, params: tuple[object, ...]) -> Sequence[Any]:
    """The rows of one ``?``-placeholder query straight from the driver's cursor, as tuples
    of what it returns (no column types applied: a sealed column comes back sealed,
    ``Sealer.open`` it), in the session's transaction. For reading a batch's lines a page at a
    time: SQLAlchemy's result rows cost half again as much as the fetch itself."""
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(_driver_sql(session, sql), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


# The amount comes in cents, exact (two-decimal yuan): a Decimal made and quantized per line
# was a fifth of the reconciliation report's time.
CENTS = "CAST(ROUND(amount * 100) AS BIGINT)"
_LINE_PAGE_SQL = (
    f"SELECT id, idempotency_key, card_account, payee_name, payee_id_number, {CENTS}, "
    "programme, period FROM payment_instruction WHERE payroll_id = ? "
    "AND status IN ({statuses}) AND id > ? ORDER BY id LIMIT ?"
)
BankLine = tuple[int, str, str | None, str, str | None, int, str, str]


def line_pages(
    engine: Engine, batch_id: str, statuses: Sequence[PaymentStatus], after: int, page: int
) -> Iterator[list[BankLine]]:
    """The batch's lines in one of ``statuses`` with id above ``after``, a keyset page of
    ``page`` lines at a time (by id), each as ``(id, reference, account, payee name, payee ID
    number, amount in cents, programme, period)`` with the sealed account and ID number opened:
    what a bank-file line is written from. Each page is read in a short transaction of its own,
    so the caller may write between pages."""
    sealer = sealing.active()
    sql = _LINE_PAGE_SQL.format(statuses=", ".join("?" for _ in statuses))
    marks = tuple(s.value for s in statuses)
    for rows in keyset_pages(engine, sql, (batch_id, *marks), after, page):
        yield [
            (i, ref, sealer.open_optional(acct), name, sealer.open_optional(pid), amt, prog, per)
            for i, ref, acct, name, pid, amt, prog, per in rows
        ]


def keyset_pages(
    engine: Engine, sql: str, params: tuple[object, ...], after: int, page: int
) -> Iterator[Sequence[Any]]:
    """The rows of ``sql`` (``?`` placeholders: ``params``, then the id to start after, then
    the page size; ordered by an id in the first column) a page at a time through the driver
    (``driver_rows``), each page in a short transaction of its own. The next page is read on a
    thread of its own while the caller works on this one (the database waits without the
    interpreter lock); leaving early waits for that one read."""

    def read(after: int) -> Sequence[Any]:
        with Session(engine) as session:
            return driver_rows(session, sql, (*params, after, page))

    with ThreadPoolExecutor(1, thread_name_prefix="keyset-page") as reader:
        rows = read(after)
        while rows:
            following = reader.submit(read, int(rows[-1][0]))
            yield rows
            rows = following.result()


# SQLite: the chunk's keys as one JSON array, one statement that runs in the driver without the
# interpreter lock (``executemany`` binds every row in Python). The unary ``+`` keeps SQLite on
# the unique key's index: on the batch's index it would scan every line of the batch per chunk.
_PAID_SQLITE_SQL = (
    "UPDATE payment_instruction SET status = ?, paid_at = ?, failure_reason = NULL "
    "WHERE idempotency_key IN (SELECT value FROM json_each(?)) AND +payroll_id = ? "
    "AND +status = ?"
)


# PostgreSQL: the chunk's keys as one JSON array made an array by the server, one statement (a
# statement per key was the largest cost of a month there: 100,000 single-row UPDATEs; a Python
# list passed as an array is dumped element by element in Python, docs/SCALE.md). ``= ANY`` of
# the array looks each key up in the unique index.
_PAID_PG_SQL = (
    "UPDATE payment_instruction SET status = %s, paid_at = %s, failure_reason = NULL "
    "WHERE payroll_id = %s AND status = %s "
    "AND idempotency_key = ANY(ARRAY(SELECT json_array_elements_text(%s::json)))"
)


def mark_paid(session: Session, batch_id: str, keys: Sequence[str], now: datetime) -> None:
    """The bank credited these references of the batch: ``sent → paid``."""
    if not keys:
        return
    paid, sent = PaymentStatus.PAID.value, PaymentStatus.SENT.value
    at = bound(session, now, DateTime(timezone=True))
    conn = session.connection()
    keys_json = json.dumps(list(keys))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PAID_PG_SQL, (paid, at, batch_id, sent, keys_json))
        return
    conn.exec_driver_sql(_PAID_SQLITE_SQL, (paid, at, keys_json, batch_id, sent))


def mark_failed(
    session: Session, batch_id: str, failures: Sequence[tuple[str, str]], max_attempts: int
) -> None:
    """The bank refused these ``(reference, reason)`` lines: ``sent → failed`` (paid again by
    the next payroll), or ``flagged`` for manual handling after ``max_attempts``."""
    if not failures:
        return
    session.execute(
        _FAILED_SQL,
        [
            {
                "k": k,
                "reason": reason,
                "b": batch_id,
                "max": max_attempts,
                "flagged": PaymentStatus.FLAGGED.value,
                "failed": PaymentStatus.FAILED.value,
                "sent": PaymentStatus.SENT.value,
            }
            for k, reason in failures
        ],
    )


_HELD_SQL = text(
    "UPDATE payment_instruction SET status = :held, failure_reason = :reason "
    "WHERE idempotency_key = :k AND payroll_id = :b AND status IN (:pending, :sent)"
)


def hold(session: Session, batch_id: str, holds: Sequence[tuple[str, str]]) -> None:
    """These ``(reference, reason)`` lines of the batch cannot be written into a bank file:
    ``pending``/``sent`` → ``held`` (never paid by this batch; corrected by hand)."""
    if not holds:
        return
    session.execute(
        _HELD_SQL,
        [
            {
                "k": k,
                "reason": reason[:500],
                "b": batch_id,
                "held": PaymentStatus.HELD.value,
                "pending": PaymentStatus.PENDING.value,
                "sent": PaymentStatus.SENT.value,
            }
            for k, reason in holds
        ],
    )


# --- the last-moment re-check (deaths, stops, person-level duplicates) --------------------------
HELD_DECEASED = "成员已死亡（死亡比对）"
HELD_SUSPENDED = "救助已暂停"
HELD_TERMINATED = "救助已终止"
HELD_AMOUNT_CHANGED = "救助金额已调整，待下月按新金额发放"
HELD_DUPLICATE_PERSON = "同一人在两个家庭中领取同一救助"

# One id range of a batch's pending payroll lines of its own period (``mkey``/``qkey``), each
# checked against the entitlement read model as it stands now and the death register. ``amt`` is
# the monthly amount in force for the period; a line "changed" when it no longer is that amount
# (a quarterly line: no longer a whole number of months of it). ``{since}``: nothing, or the
# filter to the lines whose account was written, or a covered member's death loaded, after
# ``:since`` (``_CHANGED_SINCE``).
_STOPPED_TEMPLATE = f"""
WITH l AS (
  SELECT pi.id AS id, pi.case_id AS case_id, pi.amount AS amount, pi.period AS period,
    e.id AS account_id, e.status AS st, e.end_month AS end_month,
    CASE WHEN e.next_amount_from IS NOT NULL AND :p >= e.next_amount_from
         THEN e.next_amount ELSE e.payable_amount END AS amt
  FROM payment_instruction pi
  LEFT JOIN entitlement_account e ON e.case_id = pi.case_id
  WHERE pi.payroll_id = :b AND pi.status = '{PaymentStatus.PENDING.value}'
    AND pi.kind = '{PaymentKind.PAYROLL.value}' AND pi.period IN (:mkey, :qkey)
    AND pi.id > :after AND pi.id <= :upto{{since}}
), c AS (
  SELECT l.*,
    CASE WHEN l.amt IS NULL THEN 0
         WHEN l.amt <= 0 THEN 1
         WHEN l.period = :qkey THEN
           (CASE WHEN ABS(l.amount - l.amt * ROUND(l.amount / l.amt)) > 0.005 THEN 1 ELSE 0 END)
         WHEN ABS(l.amount - l.amt) > 0.005 THEN 1
         ELSE 0 END AS changed
  FROM l
), r AS (
  SELECT c.id AS id,
    CASE
      WHEN EXISTS (
        SELECT 1 FROM entitlement_member m
          JOIN death_record d ON d.id_number_index = m.id_number_index
        WHERE m.case_id = c.case_id AND d.date_of_death < :dead_before
          AND (m.share_status = 'active' OR c.changed = 1)) THEN CAST(:r_death AS VARCHAR(500))
      WHEN c.account_id IS NULL OR c.st = 'ended'
        OR (c.end_month IS NOT NULL
            AND c.end_month < (CASE WHEN c.period = :qkey THEN :q_start ELSE :p END))
        THEN CAST(:r_ended AS VARCHAR(500))
      WHEN c.st = 'suspended' THEN CAST(:r_suspended AS VARCHAR(500))
      WHEN c.st NOT IN {_PAYING} THEN CAST(:r_ended AS VARCHAR(500))
      WHEN c.changed = 1 THEN CAST(:r_amount AS VARCHAR(500))
    END AS reason
  FROM c
)
UPDATE payment_instruction
SET status = '{PaymentStatus.HELD.value}',
    failure_reason = (SELECT r.reason FROM r WHERE r.id = payment_instruction.id)
WHERE id IN (SELECT r.id FROM r WHERE r.reason IS NOT NULL)
"""
_CHANGED_SINCE = """
    AND pi.case_id IN (
      SELECT case_id FROM entitlement_account WHERE updated_at > :since
      UNION
      SELECT m.case_id FROM death_record d
        JOIN entitlement_member m ON m.id_number_index = d.id_number_index
      WHERE d.loaded_at > :since)"""
_STOPPED_SQL = text(_STOPPED_TEMPLATE.format(since="")).bindparams(
    bindparam("dead_before", type_=Date)
)
_STOPPED_SINCE_SQL = text(_STOPPED_TEMPLATE.format(since=_CHANGED_SINCE)).bindparams(
    bindparam("dead_before", type_=Date), bindparam("since", type_=UtcDateTime())
)

# Every person (active share, by ID number: its blind index, the number is sealed) covered by
# more than one payroll line of the same programme and period, across counties: the line
# already sent or paid is kept, otherwise the line of the earliest entitlement (read-model id);
# the batch's other pending lines are held.
_DUPLICATE_SQL = text(
    f"""
WITH c AS (
  SELECT m.id_number_index AS person, pi.programme AS programme, pi.id AS line_id,
    (CASE WHEN pi.status IN ('{PaymentStatus.SENT.value}', '{PaymentStatus.PAID.value}')
          THEN 0 ELSE 1 END) * 1000000000000 + COALESCE(e.id, 0) AS rank
  FROM payment_instruction pi
  JOIN entitlement_member m ON m.case_id = pi.case_id AND m.share_status = 'active'
    AND m.id_number_index IS NOT NULL
  LEFT JOIN entitlement_account e ON e.case_id = pi.case_id
  WHERE pi.kind = '{PaymentKind.PAYROLL.value}' AND pi.period IN (:mkey, :qkey)
    AND pi.status IN ('{PaymentStatus.PENDING.value}', '{PaymentStatus.SENT.value}',
                      '{PaymentStatus.PAID.value}')
), k AS (
  SELECT person, programme, MIN(rank) AS keep FROM c
  GROUP BY person, programme HAVING COUNT(*) > 1
)
UPDATE payment_instruction
SET status = '{PaymentStatus.HELD.value}', failure_reason = :reason
WHERE payroll_id = :b AND status = '{PaymentStatus.PENDING.value}' AND id IN (
  SELECT c.line_id FROM c JOIN k ON k.person = c.person AND k.programme = c.programme
  WHERE c.rank > k.keep)
"""
)


def hold_stopped_chunk(
    session: Session,
    *,
    batch_id: str,
    period_index: int,
    monthly_key: str,
    quarterly_key: str,
    after: int,
    upto: int,
    since: datetime | None = None,
) -> None:
    """Hold (``pending → held``, reason recorded) the batch's pending payroll lines of its own
    period, ids ``after < id <= upto``, that must not be paid as compiled (seed 002: stop paying
    the deceased at once; 低保办法 Art. 32: reduce or stop only as decided); with ``since``
    (UTC) only the lines whose entitlement account was written, or a covered member's death
    loaded, after it (what an earlier look cannot have seen; a held line stays held):

    - a covered member is on the death register with a death before the period's end and their
      share is still active, or was suspended since the line was compiled → ``HELD_DECEASED``;
    - the entitlement has ended, is gone from the read model, or ended before the period →
      ``HELD_TERMINATED``; it is suspended → ``HELD_SUSPENDED``;
    - the amount in force for the period is no longer the line's → ``HELD_AMOUNT_CHANGED``.

    Failed lines of earlier months queued again are not re-checked (owed as decided). One
    set-based statement per range (300,000 lines in about 2 s on SQLite)."""
    q_start = period_index - period_index % 3
    year, month0 = divmod(period_index + 1, 12)
    since_args = {} if since is None else {"since": since}
    session.execute(
        _STOPPED_SQL if since is None else _STOPPED_SINCE_SQL,
        {
            **since_args,
            "b": batch_id,
            "p": period_index,
            "q_start": q_start,
            "mkey": monthly_key,
            "qkey": quarterly_key,
            "after": after,
            "upto": upto,
            "dead_before": date(year, month0 + 1, 1),
            "r_death": HELD_DECEASED,
            "r_ended": HELD_TERMINATED,
            "r_suspended": HELD_SUSPENDED,
            "r_amount": HELD_AMOUNT_CHANGED,
        },
    )


def hold_duplicate_persons(
    session: Session, *, batch_id: str, monthly_key: str, quarterly_key: str
) -> None:
    """The person-level key (一人一户): nobody is paid twice by one programme for one period.
    A person covered (active share) by two payroll lines of the same programme and period — in
    any county — keeps the line already sent or paid, else the earliest entitlement's; the
    batch's other pending lines covering them are held (``HELD_DUPLICATE_PERSON``). One
    ``GROUP BY … HAVING`` statement over the period's lines."""
    session.execute(
        _DUPLICATE_SQL,
        {
            "b": batch_id,
            "mkey": monthly_key,
            "qkey": quarterly_key,
            "reason": HELD_DUPLICATE_PERSON,
        },
    )


def cancel(session: Session, idempotency_key: str, reason: str) -> bool:
    """A pending instruction that must not be paid: ``pending → cancelled``; False when it is
    not pending (sent instructions belong to the bank's answer)."""
    row = find_instruction(session, idempotency_key)
    if row is None or row.status != PaymentStatus.PENDING.value:
        return False
    row.status = PaymentStatus.CANCELLED.value
    row.failure_reason = reason
    session.add(row)
    return True


# --- the campaign's last-moment re-check ---------------------------------------------------------
_CAMPAIGN_STOPPED_SQL = text(
    f"""
WITH r AS (
  SELECT pi.id AS id,
    CASE
      WHEN e.case_id IS NULL OR e.status = 'ended'
        OR (e.end_month IS NOT NULL AND e.end_month < :p) THEN CAST(:r_ended AS VARCHAR(500))
      WHEN e.members_paid <= 0 THEN CAST(:r_death AS VARCHAR(500))
      WHEN e.status = 'suspended' THEN CAST(:r_suspended AS VARCHAR(500))
      WHEN e.status NOT IN {_PAYING} THEN CAST(:r_ended AS VARCHAR(500))
    END AS reason
  FROM payment_instruction pi
  LEFT JOIN entitlement_account e ON e.case_id = pi.case_id
  WHERE pi.payroll_id = :b AND pi.kind = '{PaymentKind.CAMPAIGN.value}'
    AND pi.status = '{PaymentStatus.PENDING.value}'
)
UPDATE payment_instruction
SET status = '{PaymentStatus.HELD.value}',
    failure_reason = (SELECT r.reason FROM r WHERE r.id = payment_instruction.id)
WHERE id IN (SELECT r.id FROM r WHERE r.reason IS NOT NULL)
"""
)
_CAMPAIGN_RECOUNT_SQL = text(
    f"""
WITH a AS (
  SELECT pi.id AS id, ROUND(:amount * e.members_paid, 2) AS amt
  FROM payment_instruction pi
  JOIN entitlement_account e ON e.case_id = pi.case_id
  WHERE pi.payroll_id = :b AND pi.kind = '{PaymentKind.CAMPAIGN.value}'
    AND pi.status = '{PaymentStatus.PENDING.value}' AND e.members_paid > 0
    AND ABS(pi.amount - ROUND(:amount * e.members_paid, 2)) > 0.005
)
UPDATE payment_instruction
SET amount = (SELECT a.amt FROM a WHERE a.id = payment_instruction.id),
    provincial_share = ROUND((SELECT a.amt FROM a WHERE a.id = payment_instruction.id) * :ratio, 2),
    local_share = (SELECT a.amt FROM a WHERE a.id = payment_instruction.id)
      - ROUND((SELECT a.amt FROM a WHERE a.id = payment_instruction.id) * :ratio, 2)
WHERE id IN (SELECT a.id FROM a)
"""
).bindparams(
    bindparam("amount", type_=Numeric(12, 2)),  # exact on PostgreSQL, floats on SQLite
    bindparam("ratio", type_=Numeric(12, 6)),
)


def recheck_campaign(
    session: Session,
    *,
    campaign_id: str,
    period_index: int,
    amount_per_person: Decimal,
    provincial_ratio: Decimal,
) -> None:
    """The campaign's pending lines as they must now be paid (seed 003: the allowance is per
    person covered; seed 002: stop paying the deceased at once): a household with nobody left
    paid (their deaths recorded), or whose entitlement ended or was suspended, is held with the
    reason; one whose number of
    persons paid changed since compile (a death the death check recorded) is paid for the
    persons still covered, its provincial and local shares recomputed. Idempotent."""
    session.execute(
        _CAMPAIGN_STOPPED_SQL,
        {
            "b": campaign_id,
            "p": period_index,
            "r_ended": HELD_TERMINATED,
            "r_suspended": HELD_SUSPENDED,
            "r_death": HELD_DECEASED,
        },
    )
    session.execute(
        _CAMPAIGN_RECOUNT_SQL,
        {"b": campaign_id, "amount": amount_per_person, "ratio": provincial_ratio},
    )
