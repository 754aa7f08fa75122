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
    entitlement read model), ``requeue_failed`` queues a county's failed payroll lines again.

Moving
    ``mark_sent`` (a batch's pending lines went into a bank file; attempts + 1), ``mark_paid``
    and ``mark_failed`` (one batch's lines as the bank answered: ``failed`` or, after
    ``max_attempts``, ``flagged``) and ``cancel`` (a pending instruction that must not be paid).
    ``hold`` (a line that cannot be written into a bank file: ``pending``/``sent`` → ``held``
    with the reason, found when the line is compiled or when the file is written).
    A transition only moves rows from the state it expects, so repeating it changes nothing.

Statuses and kinds are ``PaymentStatus``/``PaymentKind`` (``workflows/payments/contract.py``);
the stored strings are their values. Every function takes an open ``Session`` and leaves the
commit to the caller's unit of work."""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import DateTime, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from jiuzhu.db.models import PaymentInstruction
from workflows.payments.contract import PaymentKind, PaymentStatus


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


def _insert_for(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


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
    stmt = (
        _insert_for(session)(PaymentInstruction.__table__)  # type: ignore[attr-defined]
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    result = session.execute(stmt)
    if not result.rowcount:  # type: ignore[attr-defined]
        return None  # a concurrent writer of the same key committed first
    return find_instruction(session, draft.idempotency_key)


# --- set-based creation (payroll and campaigns) ------------------------------------------------
def _with_now(sql: str) -> TextClause:
    return text(sql).bindparams(bindparam("now", type_=DateTime(timezone=True)))


_PAYING = "('active', 'withdrawal', 'terminating')"
_CASH_PROGRAMMES = "('dibao', 'tekun')"

# One chunk of the month's list. ``q`` marks dispersed 特困 paid quarterly: in the quarter's first
# month (or in its first payable month when it starts mid-quarter), for the months of the
# quarter it covers. The amount in force for the month is the adjusted one once its month came.
_PAYROLL_SQL = _with_now(
    f"""
WITH c AS (
  SELECT e.*,
    CASE WHEN :quarterly = 1 AND e.programme = 'tekun' AND e.centralised = 0
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
  amount, payee_name, payee_id_number, card_account, funding_source, payroll_id, status,
  attempts, created_at)
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
  c.payee_name, c.payee_id_number, c.card_account, 'county', :payroll_id,
  '{PaymentStatus.PENDING.value}', 0, :now
FROM c
WHERE (c.q = 0 OR :p = :q_start OR c.start_month = :p) AND c.amt > 0
ON CONFLICT (idempotency_key) DO NOTHING
"""
)

# Failed lines of earlier runs are paid by this run, on the card account now on record.
_REQUEUE_SQL = text(
    f"""
UPDATE payment_instruction
SET payroll_id = :payroll_id, status = '{PaymentStatus.PENDING.value}', failure_reason = NULL,
    card_account = COALESCE((SELECT e.card_account FROM entitlement_account e
                             WHERE e.case_id = payment_instruction.case_id), card_account)
WHERE kind = '{PaymentKind.PAYROLL.value}' AND county_code = :county
  AND status = '{PaymentStatus.FAILED.value}' AND payroll_id <> :payroll_id
"""
)

_CAMPAIGN_SQL = _with_now(
    f"""
INSERT INTO payment_instruction (
  idempotency_key, kind, case_id, household_id, programme, area_code, county_code, period,
  amount, payee_name, payee_id_number, card_account, funding_source, provincial_share,
  local_share, payroll_id, status, attempts, created_at)
SELECT
  :prefix || ':' || e.household_id || ':' || e.programme,
  '{PaymentKind.CAMPAIGN.value}', e.case_id, e.household_id, e.programme, e.area_code,
  e.county_code, :period,
  ROUND(:amount * e.members_paid, 2), e.payee_name, e.payee_id_number, e.card_account,
  'provincial_local',
  ROUND(:amount * e.members_paid * :ratio, 2),
  ROUND(:amount * e.members_paid, 2) - ROUND(:amount * e.members_paid * :ratio, 2),
  :batch, '{PaymentStatus.PENDING.value}', 0, :now
FROM entitlement_account e
WHERE e.county_code = :county AND e.id > :after AND e.id <= :upto
  AND e.status IN {_PAYING} AND e.programme IN :programmes
  AND e.start_month <= :p AND (e.end_month IS NULL OR e.end_month >= :p)
  AND e.members_paid > 0
ON CONFLICT (idempotency_key) DO NOTHING
"""
).bindparams(bindparam("programmes", expanding=True))


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
    of the county; keys ``payroll:<household>:<programme>:<monthly_key|quarterly_key>``."""
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
            "amount": float(amount_per_person),
            "ratio": float(provincial_ratio),
            "batch": campaign_id,
            "now": now,
            "county": county,
            "after": after,
            "upto": upto,
            "programmes": list(programmes),
            "p": period_index,
        },
    )


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
    """``value`` as the driver takes it for a column of ``type_`` (for ``driver_many``)."""
    dialect = session.get_bind().dialect
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def driver_many(session: Session, sql: str, rows: Sequence[tuple[object, ...]]) -> None:
    """One statement with ``?`` placeholders over many rows, straight through the driver's
    ``executemany`` in the session's transaction (SQLAlchemy's per-row parameter processing
    costs more than the statement itself at a million rows): values must be driver-ready."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.paramstyle in ("format", "pyformat"):
        sql = sql.replace("?", "%s")
    conn.exec_driver_sql(sql, list(rows))


_PAID_DRIVER_SQL = (
    "UPDATE payment_instruction SET status = ?, paid_at = ?, failure_reason = NULL "
    "WHERE idempotency_key = ? AND payroll_id = ? AND status = ?"
)


def mark_paid(session: Session, batch_id: str, keys: Sequence[str], now: datetime) -> None:
    """The bank credited these references of the batch: ``sent → paid``."""
    if not keys:
        return
    paid, sent = PaymentStatus.PAID.value, PaymentStatus.SENT.value
    at = bound(session, now, DateTime(timezone=True))
    driver_many(session, _PAID_DRIVER_SQL, [(paid, at, k, batch_id, sent) for k in keys])


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
