"""The paying-bank adapter (代发金融机构, DOMAIN §2 and §5): the county hands the month's list to
the bank as a file and reads back a result file; each line is reconciled paid, or failed with
the bank's reason.

Bank file ``<bank_dir>/<county>/<batch_id>.txt`` — UTF-8, one record per line, fields in fixed
order separated by ``|`` (no field may contain ``|``; amounts in yuan with 2 decimals):

    H|JZPAY1|<batch_id>|<county>|<value date YYYYMMDD>|<line count>|<total>
    D|<seq, 6 digits>|<reference = idempotency key>|<account>|<payee name>|<payee id>|
      <amount>|<programme>|<period>          (one line in the file)
    T|<line count>|<total>

Result file ``<batch_id>.result.txt`` written by the bank:

    H|JZRES1|<batch_id>|<sha256 of the bank file, 16 hex>
    R|<seq>|<reference>|<code>|<message>      code 00 = credited; anything else = failed
    T|<credited count>|<credited total>|<failed count>|<failed total>

The shipped ``EmbeddedBank`` stands in for the bank: it credits each reference at most once (its
own ``bank_ledger`` table, unique reference), refuses accounts listed in ``bank_closed_account``
(code and reason from that table) and writes the result file itself. A real bank replaces it
behind the same two calls (``submit``, ``result_for``)."""

import csv
import hashlib
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import DateTime, Engine, bindparam, text
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payments import instructions
from activities.payments.models import (
    BankSubmit,
    BankSubmitResult,
    ReconcileRequest,
    ReconcileResult,
)
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_payments import BankBatch
from workflows.payments.contract import PaymentStatus

CENT = Decimal("0.01")
FILE_MAGIC = "JZPAY1"
RESULT_MAGIC = "JZRES1"
PAID = "00"


def bank_dir_for(database_url: str) -> Path:
    """Bank files live beside a SQLite database (var/bank for var/jiuzhu.db), else in var/bank."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            return Path(path).resolve().parent / "bank"
    return Path("var/bank")


def _atomic_write(path: Path, lines: Iterator[str]) -> str:
    """Write via a temporary file and rename, so a crash never leaves half a file; returns the
    content's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    digest = hashlib.sha256()
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
            digest.update(line.encode())
    os.replace(tmp, path)
    return digest.hexdigest()


def _clean(value: str) -> str:
    return value.replace("|", "/").replace("\n", " ")


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


class BankAdapter(Protocol):
    def submit(self, batch_file: Path, heartbeat_every: int) -> None: ...

    def result_for(self, batch_file: Path) -> Path | None: ...


def result_path_for(batch_file: Path) -> Path:
    return batch_file.with_name(batch_file.stem + ".result.txt")


class EmbeddedBank:
    """The demo paying bank (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def result_for(self, batch_file: Path) -> Path | None:
        """The result file of exactly this bank file (same content hash), if processed."""
        result = result_path_for(batch_file)
        if not result.exists() or not batch_file.exists():
            return None
        digest = hashlib.sha256(batch_file.read_bytes()).hexdigest()[:16]
        with result.open(encoding="utf-8") as fh:
            header = fh.readline().rstrip("\n").split("|")
        return result if len(header) >= 4 and header[3] == digest else None

    def submit(self, batch_file: Path, heartbeat_every: int) -> None:
        if self.result_for(batch_file) is not None:
            return  # already processed: the bank answers a resubmission with its result
        raw = batch_file.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()[:16]
        lines = raw.decode("utf-8").splitlines()
        header = lines[0].split("|")
        if header[0] != "H" or header[1] != FILE_MAGIC:
            raise ApplicationError("not a bank file", type="BadBankFile", non_retryable=True)
        batch_id, value_date = header[2], datetime.strptime(header[4], "%Y%m%d").date()
        with Session(self.engine) as session:
            closed = {
                r[0]: (r[1], r[2])
                for r in session.execute(
                    text("SELECT account, code, reason_zh FROM bank_closed_account")
                ).all()
            }
        details = [line.split("|") for line in lines[1:] if line.startswith("D|")]
        results: list[str] = []
        credits: list[dict[str, object]] = []
        paid_n = failed_n = 0
        paid_t = failed_t = Decimal("0.00")
        for d in details:
            seq, ref, account, amount = d[1], d[2], d[3], _money(d[6])
            if account in closed or not account.strip():
                code, reason = closed.get(account, ("53", "账户不存在"))
                results.append(f"R|{seq}|{ref}|{code}|{_clean(reason)}\n")
                failed_n += 1
                failed_t += amount
                continue
            credits.append(
                {
                    "reference": ref,
                    "batch_id": batch_id,
                    "account": account,
                    "amount": str(amount),
                    "value_date": value_date,
                }
            )
            results.append(f"R|{seq}|{ref}|{PAID}|入账成功\n")
            paid_n += 1
            paid_t += amount
        stmt = text(
            "INSERT INTO bank_ledger (reference, batch_id, account, amount, value_date, "
            "credited_at) VALUES (:reference, :batch_id, :account, :amount, :value_date, :now) "
            "ON CONFLICT (reference) DO NOTHING"
        ).bindparams(bindparam("now", type_=DateTime(timezone=True)))
        now = datetime.now(UTC)
        for i in range(0, len(credits), heartbeat_every):
            chunk = [{**c, "now": now} for c in credits[i : i + heartbeat_every]]
            with unit_of_work(self.engine) as session:
                session.execute(stmt, chunk)
            if activity.in_activity():
                activity.heartbeat("bank", i)

        def result_lines() -> Iterator[str]:
            yield f"H|{RESULT_MAGIC}|{batch_id}|{digest}\n"
            yield from results
            yield f"T|{paid_n}|{paid_t}|{failed_n}|{failed_t}\n"

        _atomic_write(result_path_for(batch_file), result_lines())


class BankActivities:
    def __init__(self, engine: Engine, bank_dir: Path, bank: BankAdapter | None = None) -> None:
        self.engine = engine
        self.bank_dir = bank_dir
        self.bank: BankAdapter = bank or EmbeddedBank(engine)

    def batch_file(self, county: str, batch_id: str) -> Path:
        return self.bank_dir / county / f"{batch_id}.txt"

    @activity.defn
    def send_to_bank(self, req: BankSubmit) -> BankSubmitResult:
        """Write the bank file of every line of the batch not yet answered (pending, or sent
        by an attempt that died), mark them sent, and hand the file to the bank. Safe to repeat:
        the same lines make the same file and the bank credits each reference once."""
        path = self.batch_file(req.county_code, req.batch_id)
        with Session(self.engine) as session:
            rows = session.execute(
                text(
                    "SELECT idempotency_key, card_account, payee_name, payee_id_number, amount, "
                    "programme, period FROM payment_instruction "
                    "WHERE payroll_id = :b AND status IN (:pending, :sent) ORDER BY id"
                ),
                {
                    "b": req.batch_id,
                    "pending": PaymentStatus.PENDING.value,
                    "sent": PaymentStatus.SENT.value,
                },
            ).all()
        total = sum((_money(r[4]) for r in rows), Decimal("0.00"))

        def lines() -> Iterator[str]:
            yield (
                f"H|{FILE_MAGIC}|{req.batch_id}|{req.county_code}|"
                f"{req.value_date:%Y%m%d}|{len(rows)}|{total}\n"
            )
            for seq, r in enumerate(rows, start=1):
                yield (
                    f"D|{seq:06d}|{r[0]}|{_clean(r[1])}|{_clean(r[2])}|{_clean(r[3])}|"
                    f"{_money(r[4])}|{r[5]}|{r[6]}\n"
                )
            yield f"T|{len(rows)}|{total}\n"

        _atomic_write(path, lines())  # same lines → same bytes → the bank's same answer
        activity.heartbeat("file written")
        with unit_of_work(self.engine) as session:
            instructions.mark_sent(session, req.batch_id)
            batch = session.get(BankBatch, req.batch_id)
            if batch is None:
                batch = BankBatch(
                    batch_id=req.batch_id,
                    kind=req.kind.value,
                    county_code=req.county_code,
                    value_date=req.value_date,
                    file_path=str(path),
                    line_count=len(rows),
                    total=total,
                )
            batch.file_path, batch.line_count, batch.total = str(path), len(rows), total
            session.add(batch)
        self.bank.submit(path, req.heartbeat_every)
        result = self.bank.result_for(path)
        if result is None:
            raise ApplicationError("the bank has not answered yet", type="BankPending")
        with unit_of_work(self.engine) as session:
            batch = session.get(BankBatch, req.batch_id)
            if batch is not None:
                batch.result_path = str(result)
                session.add(batch)
        return BankSubmitResult(
            file_path=str(path), result_path=str(result), line_count=len(rows), total=total
        )

    @activity.defn
    def reconcile_batch(self, req: ReconcileRequest) -> ReconcileResult:
        """Mark each line paid, or failed with the bank's reason; a line failed
        ``max_attempts`` times is flagged for manual handling, others are retried next run.
        Writes the reconciliation report (CSV) beside the bank file."""
        result = Path(req.result_path)
        paid: list[str] = []
        failed: list[tuple[str, str]] = []
        with result.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.startswith("R|"):
                    continue
                _, _seq, ref, code, message = line.rstrip("\n").split("|", 4)
                if code == PAID:
                    paid.append(ref)
                else:
                    failed.append((ref, f"{code} {message}"))
        now = datetime.now(UTC)
        step = 20_000
        for i in range(0, len(paid), step):
            with unit_of_work(self.engine) as session:
                instructions.mark_paid(session, req.batch_id, paid[i : i + step], now)
            activity.heartbeat("paid", i)
        if failed:
            with unit_of_work(self.engine) as session:
                instructions.mark_failed(session, req.batch_id, failed, req.max_attempts)
        with Session(self.engine) as session:
            totals = {
                r[0]: (int(r[1]), _money(r[2] or 0))
                for r in session.execute(
                    text(
                        "SELECT status, COUNT(*), SUM(amount) FROM payment_instruction "
                        "WHERE payroll_id = :b GROUP BY status"
                    ),
                    {"b": req.batch_id},
                ).all()
            }
            report_rows = session.execute(
                text(
                    "SELECT idempotency_key, case_id, household_id, programme, period, amount, "
                    "payee_name, card_account, status, failure_reason, attempts "
                    "FROM payment_instruction WHERE payroll_id = :b ORDER BY id"
                ),
                {"b": req.batch_id},
            ).all()
        report = result.with_name(result.name.replace(".result.txt", ".reconciliation.csv"))
        write_report(report, report_rows)
        zero = (0, Decimal("0.00"))
        flagged = totals.get(PaymentStatus.FLAGGED.value, zero)
        failed_t = totals.get(PaymentStatus.FAILED.value, zero)
        paid_t = totals.get(PaymentStatus.PAID.value, zero)
        return ReconcileResult(
            paid_count=paid_t[0],
            paid_total=paid_t[1],
            failed_count=failed_t[0] + flagged[0],
            failed_total=failed_t[1] + flagged[1],
            flagged_count=flagged[0],
            unanswered_count=totals.get(PaymentStatus.SENT.value, zero)[0],
            report_path=str(report),
        )


REPORT_HEADER = [
    "reference",
    "entitlement_id",
    "household_id",
    "programme",
    "period",
    "amount",
    "payee_name",
    "account_last4",
    "status",
    "failure_reason",
    "attempts",
]


def write_report(path: Path, rows: Sequence[Any]) -> None:
    """The reconciliation report: one CSV line per instruction (account masked to 4 digits)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_HEADER)
        for r in rows:
            values = list(r)
            values[5] = str(_money(values[5]))
            values[7] = str(values[7])[-4:]
            writer.writerow(values)
    os.replace(tmp, path)


def value_date_text(d: date) -> str:
    return f"{d:%Y%m%d}"
