"""Activities of the daily bank batch of temporary assistance (临时救助资金代发, DOMAIN §6 and §5):
temporary prepayments, county awards and staged 一事一议 payments go out in one bank batch per
county and value date, reconciled like the payroll (``workflows/payments/daily_batch.py``).

- ``daily_value_date``: the next working day after a date (State Council schedule in force);
- ``assign_daily_batch``: the county's pending temporary-aid instructions join the batch (one
  set-based statement through the one instruction writer), lines that cannot be written into a
  bank file are held, and the batch's totals are counted;
- ``find_bank_batch`` / ``save_bank_batch``: the batch's ``bank_batch`` read-model row, never
  overwritten by another run once it has moved money.

The list lives in the database; the workflow history holds counts and totals only."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import Engine, text
from sqlmodel import Session
from temporalio import activity

from activities.payments import instructions
from activities.payments.bankfile import line_problem
from jiuzhu.calendar_store import working_calendar
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_payments import BankBatch
from jiuzhu.db.sealing import SealedString
from workflows.payments.contract import DAILY_BATCH_SETTLED, PaymentKind, PaymentStatus

CENT = Decimal("0.01")
CHECK_PAGE = 5_000
SETTLED = frozenset(s.value for s in DAILY_BATCH_SETTLED)


class ValueDateRequest(BaseModel):
    """The Beijing date the batch is made on."""

    made_on: date


class ValueDate(BaseModel):
    """The next working day after ``made_on``; ``provisional`` when its year's holiday
    schedule is not loaded yet (DOMAIN §8)."""

    value_date: date
    provisional: bool


class DailyAssign(BaseModel):
    batch_id: str
    county_code: str


class DailyAssigned(BaseModel):
    """``assigned``: lines that joined the batch by this call; ``pending_*``: what the batch
    hands to the bank (pending or sent); ``held_*``: lines a bank file cannot carry."""

    assigned: int
    pending_count: int
    pending_total: Decimal
    held_count: int = 0
    held_total: Decimal = Decimal("0.00")


class BankBatchRow(BaseModel):
    """The daily batch's ``bank_batch`` row as the workflow publishes it (upsert guarded by
    run and revision). File and result paths are the bank step's own (``send_to_bank``)."""

    batch_id: str
    county_code: str
    value_date: date
    status: str
    workflow_id: str
    run_id: str
    revision: int
    value_date_provisional: bool = False
    assigned_count: int = 0
    assigned_total: Decimal = Decimal("0.00")
    paid_count: int = 0
    paid_total: Decimal = Decimal("0.00")
    failed_count: int = 0
    failed_total: Decimal = Decimal("0.00")
    held_count: int = 0
    held_total: Decimal = Decimal("0.00")
    credited_back_count: int = 0
    credited_back_total: Decimal = Decimal("0.00")
    report_path: str | None = None
    bank_error: str | None = None
    file_path: str | None = None
    result_path: str | None = None
    line_count: int = 0
    total: Decimal = Decimal("0.00")


# Fields of ``BankBatchRow`` that ``save_bank_batch`` writes (file and result paths, line count
# and total belong to the bank step).
_PUBLISHED = frozenset(BankBatchRow.model_fields) - {
    "batch_id",
    "file_path",
    "result_path",
    "line_count",
    "total",
}


def _dec(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


class DailyBatchActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def daily_value_date(self, req: ValueDateRequest) -> ValueDate:
        """The next working day after ``made_on`` (weekends, holidays and make-up working days
        from the schedule in force): a batch made on Friday is credited on Monday."""
        found = working_calendar(self.engine).first_working_day_on_or_after(
            req.made_on + timedelta(days=1)
        )
        return ValueDate(value_date=found.date, provisional=found.provisional)

    @activity.defn
    def assign_daily_batch(self, req: DailyAssign) -> DailyAssigned:
        """The county's pending temporary-aid instructions join the batch (idempotent: an
        instruction is in one batch for good), then every pending line is checked against the
        bank file format and held if it cannot be written, so the rest is paid."""
        with unit_of_work(self.engine) as session:
            assigned = instructions.assign_daily_batch(
                session, batch_id=req.batch_id, county=req.county_code
            )
        self._hold_unwritable(req.batch_id)
        with Session(self.engine) as session:
            rows = dict(
                (r[0], (int(r[1]), _dec(r[2])))
                for r in session.execute(
                    text(
                        "SELECT CASE WHEN status = :held THEN 'held' ELSE 'pending' END, "
                        "COUNT(*), SUM(amount) FROM payment_instruction WHERE payroll_id = :b "
                        "AND status IN (:pending, :sent, :held) GROUP BY 1"
                    ),
                    {
                        "b": req.batch_id,
                        "pending": PaymentStatus.PENDING.value,
                        "sent": PaymentStatus.SENT.value,
                        "held": PaymentStatus.HELD.value,
                    },
                ).all()
            )
        zero = (0, Decimal("0.00"))
        pending, held = rows.get("pending", zero), rows.get("held", zero)
        return DailyAssigned(
            assigned=assigned,
            pending_count=pending[0],
            pending_total=pending[1],
            held_count=held[0],
            held_total=held[1],
        )

    def _hold_unwritable(self, batch_id: str) -> None:
        """Hold each pending line a bank file cannot carry (reason recorded), a keyset page at
        a time; heartbeats the last id checked."""
        select = text(
            "SELECT id, idempotency_key, card_account, payee_name, payee_id_number, programme, "
            "period FROM payment_instruction WHERE payroll_id = :b AND status = :pending "
            "AND id > :after ORDER BY id LIMIT :n"
        ).columns(card_account=SealedString(), payee_id_number=SealedString())
        after = 0
        while True:
            with Session(self.engine) as session:
                rows = session.execute(
                    select,
                    {
                        "b": batch_id,
                        "pending": PaymentStatus.PENDING.value,
                        "after": after,
                        "n": CHECK_PAGE,
                    },
                ).all()
            if not rows:
                return
            held = [
                (r[1], problem)
                for r in rows
                if (problem := line_problem((r[1], r[2], r[3], r[4], r[5], r[6]))) is not None
            ]
            if held:
                with unit_of_work(self.engine) as session:
                    instructions.hold(session, batch_id, held)
            after = int(rows[-1][0])
            activity.heartbeat(after)

    @activity.defn
    def find_bank_batch(self, batch_id: str) -> BankBatchRow | None:
        """The batch's recorded row, if the daily batch recorded one."""
        with Session(self.engine) as session:
            row = session.get(BankBatch, batch_id)
            if row is None or not row.status:
                return None
            return BankBatchRow.model_validate(row.model_dump())

    @activity.defn
    def save_bank_batch(self, row: BankBatchRow) -> None:
        """Upsert the batch's row. Another run never overwrites a batch that has moved money
        (sending, reconciled, bank_error); a late write of this run never overwrites a newer
        one."""
        values = row.model_dump(include=set(_PUBLISHED))
        with unit_of_work(self.engine) as session:
            existing = session.get(BankBatch, row.batch_id)
            if existing is None:
                session.add(
                    BankBatch(
                        batch_id=row.batch_id,
                        kind=PaymentKind.TEMPORARY.value,
                        file_path="",
                        line_count=0,
                        total=Decimal("0.00"),
                        updated_at=datetime.now(UTC),
                        **values,
                    )
                )
                return
            if row.run_id == existing.run_id and row.revision < existing.revision:
                return
            if row.run_id != existing.run_id and existing.status in SETTLED:
                activity.logger.warning(
                    "bank batch %s is %s: another run does not overwrite it",
                    row.batch_id,
                    existing.status,
                )
                return
            for key, value in values.items():
                setattr(existing, key, value)
            existing.updated_at = datetime.now(UTC)
            session.add(existing)
