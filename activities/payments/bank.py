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
behind the same two calls (``submit``, ``result_for``).

Constant memory: the file is written from keyset pages of ``payment_instruction`` (by id), each
line checked against the file format (``bankfile.line_problem``; a line that cannot be written is
*held*, the rest of the batch is paid), each page marked sent and heartbeated with the last id
and the bytes written, so a retry after a kill resumes where the last heartbeat left off. The
embedded bank and the reconciliation read files line by line, and the reconciliation commits
and heartbeats per chunk of answers. A bank answer that cannot be parsed fails the activity
non-retryably (``MalformedBankAnswer``): the workflow escalates instead of retrying forever.

Personal data at rest (PIPL Art. 51; ``jiuzhu/at_rest.py``): every file here is created 0600 in a
0700 directory; once a batch is reconciled the bank file and the result file are sealed
(encrypted under the payload key ring) and the clear files removed — the reconciliation report,
accounts masked to their last 4, stays for download."""

import csv
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Date, DateTime, Engine, text
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.payments import instructions
from activities.payments.bankfile import BAD_FILE, line_problem, malformed
from activities.payments.models import (
    BankSubmit,
    BankSubmitResult,
    ReconcileRequest,
    ReconcileResult,
)
from activities.payments.write_behind import WriteBehind
from jiuzhu.at_rest import files_ring, open_private, private_dir, seal, unseal
from jiuzhu.codec import KeyRing
from jiuzhu.db import sealing
from jiuzhu.db.engine import dialect_name, unit_of_work
from jiuzhu.db.models_payments import BankBatch
from jiuzhu.db.sealing import SealedString
from workflows.payments.contract import PaymentStatus

CENT = Decimal("0.01")
FILE_MAGIC = "JZPAY1"
RESULT_MAGIC = "JZRES1"
PAID = "00"
PAGE = 10_000  # lines per keyset page when a batch does not say
FILE_PHASE, WRITTEN_PHASE = "file", "written"


def bank_dir_for(database_url: str, configured: Path | None = None) -> Path:
    """Bank files live in the configured directory (``JIUZHU_BANK_DIR``), else beside a SQLite
    database (var/bank for var/jiuzhu.db), else in var/bank."""
    if configured is not None:
        return configured
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            return Path(path).resolve().parent / "bank"
    return Path("var/bank")


def _atomic_write(path: Path, lines: Iterator[str]) -> str:
    """Write via a temporary file and rename, so a crash never leaves half a file; returns the
    content's sha256."""
    private_dir(path.parent)
    tmp = path.with_suffix(path.suffix + ".tmp")
    digest = hashlib.sha256()
    with open_private(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for line in lines:
            fh.write(line)
            digest.update(line.encode())
    os.replace(tmp, path)
    return digest.hexdigest()


def _clean(value: str) -> str:
    """For the bank's own messages (free text of the bank, not of the county)."""
    return "".join(" " if not ch.isprintable() else ch for ch in value).replace("|", "/")


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _yuan(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text without the final ``\n``) of a file split on ``\n`` only
    (``\r``, U+0085, U+2028 inside a line stay inside it), read lazily."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                yield number, raw.decode("utf-8").removesuffix("\n")
            except UnicodeDecodeError as exc:
                raise malformed(f"{path.name} line {number} is not UTF-8 ({exc})") from None


class BankAdapter(Protocol):
    def submit(
        self, batch_file: Path, heartbeat_every: int, progress: Callable[[int], None] | None = None
    ) -> None: ...

    def result_for(self, batch_file: Path) -> Path | None: ...


def result_path_for(batch_file: Path) -> Path:
    return batch_file.with_name(batch_file.stem + ".result.txt")


def bank_file_for(result_file: Path) -> Path:
    """The bank file a result file answers (``result_path_for`` reversed)."""
    return result_file.with_name(result_file.name.removesuffix(".result.txt") + ".txt")


def _heartbeat(*details: Any) -> None:
    if activity.in_activity():
        activity.heartbeat(*details)


# A chunk of credits ``[[reference, account, amount], …]`` as one JSON array, one statement (a
# statement per row through ``executemany`` was most of the embedded bank's time; on PostgreSQL a
# Python list passed as an array is dumped element by element in Python). SQLite: ``WHERE true``
# tells the parser that ``ON CONFLICT`` is the upsert, not a join's ``ON``.
_LEDGER_INSERT = (
    "INSERT INTO bank_ledger (reference, batch_id, account, amount, value_date, credited_at) "
)
_LEDGER_PG_SQL = (
    _LEDGER_INSERT + "SELECT j->>0, %s, j->>1, CAST(j->>2 AS NUMERIC), %s, %s "
    "FROM json_array_elements(%s::json) AS j ON CONFLICT (reference) DO NOTHING"
)
_LEDGER_SQLITE_SQL = (
    _LEDGER_INSERT + "SELECT json_extract(value, '$[0]'), ?, json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), ?, ? FROM json_each(?) WHERE true "
    "ON CONFLICT (reference) DO NOTHING"
)


class EmbeddedBank:
    """The demo paying bank (see the module docstring). Reads the file line by line and credits
    in chunks: memory does not grow with the file."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def result_for(self, batch_file: Path) -> Path | None:
        """The result file of exactly this bank file (same content hash), if processed."""
        result = result_path_for(batch_file)
        if not result.exists() or not batch_file.exists():
            return None
        digest = file_digest(batch_file)[:16]
        with result.open("rb") as fh:
            header = fh.readline().decode("utf-8", "replace").rstrip("\n").split("|")
        return result if len(header) >= 4 and header[3] == digest else None

    def submit(
        self, batch_file: Path, heartbeat_every: int, progress: Callable[[int], None] | None = None
    ) -> None:
        if self.result_for(batch_file) is not None:
            return  # already processed: the bank answers a resubmission with its result
        digest = file_digest(batch_file)[:16]
        with Session(self.engine) as session:
            closed = {
                r[0]: (r[1], r[2])
                for r in session.execute(
                    text("SELECT account, code, reason_zh FROM bank_closed_account").columns(
                        account=SealedString()
                    )
                ).all()
            }
        now = datetime.now(UTC)
        result = result_path_for(batch_file)
        tmp = result.with_suffix(result.suffix + ".tmp")
        paid_n = failed_n = 0
        paid_t = failed_t = Decimal("0.00")
        credits: list[tuple[str, str, str, str]] = []
        batch_id = ""
        value_date: date | None = None

        def credit(chunk: list[tuple[str, str, str]]) -> None:
            with unit_of_work(self.engine) as session:
                day = instructions.bound(session, value_date, Date())
                at = instructions.bound(session, now, DateTime(timezone=True))
                pg = dialect_name(session) == "postgresql"
                session.connection().exec_driver_sql(
                    _LEDGER_PG_SQL if pg else _LEDGER_SQLITE_SQL,
                    (batch_id, day, at, json.dumps(chunk)),
                )

        def flush() -> None:
            if credits:
                sealer = sealing.active()  # the ledger's accounts are sealed too
                chunk = [(ref, sealer.seal(acct), amt) for ref, _, acct, amt in credits]
                credits.clear()
                done = paid_n + failed_n
                behind.submit(
                    partial(credit, chunk), None if progress is None else partial(progress, done)
                )
            else:
                behind.drain()
                if progress is not None:
                    progress(paid_n + failed_n)

        with (
            WriteBehind() as behind,
            open_private(tmp, "w", encoding="utf-8", newline="\n") as out,
        ):
            for number, line in _lines(batch_file):
                fields = line.split("|")
                if number == 1:
                    if len(fields) != 7 or fields[0] != "H" or fields[1] != FILE_MAGIC:
                        raise ApplicationError("not a bank file", type=BAD_FILE, non_retryable=True)
                    batch_id = fields[2]
                    value_date = datetime.strptime(fields[4], "%Y%m%d").date()
                    out.write(f"H|{RESULT_MAGIC}|{batch_id}|{digest}\n")
                    continue
                if fields[0] != "D":
                    continue
                if len(fields) != 9:
                    raise ApplicationError(
                        f"bank file line {number} has {len(fields)} fields, not 9",
                        type=BAD_FILE,
                        non_retryable=True,
                    )
                seq, ref, account, amount = fields[1], fields[2], fields[3], _money(fields[6])
                if account in closed or not account.strip():
                    code, reason = closed.get(account, ("53", "账户不存在"))
                    out.write(f"R|{seq}|{ref}|{code}|{_clean(reason)}\n")
                    failed_n += 1
                    failed_t += amount
                    continue
                credits.append((ref, batch_id, account, str(amount)))
                out.write(f"R|{seq}|{ref}|{PAID}|入账成功\n")
                paid_n += 1
                paid_t += amount
                if len(credits) >= heartbeat_every:
                    flush()
            flush()
            out.write(f"T|{paid_n}|{paid_t}|{failed_n}|{failed_t}\n")
        os.replace(tmp, result)  # after the block: every credit committed


# A page of all the batch's lines for the report (keyset on id), read through the driver
# (``instructions.driver_rows``), the sealed account opened here.
_REPORT_SQL = (
    f"SELECT id, idempotency_key, case_id, household_id, programme, period, {instructions.CENTS}, "
    "payee_name, card_account, status, failure_reason, attempts FROM payment_instruction "
    "WHERE payroll_id = ? AND id > ? ORDER BY id LIMIT ?"
)


class BankActivities:
    def __init__(
        self,
        engine: Engine,
        bank_dir: Path,
        bank: BankAdapter | None = None,
        ring: KeyRing | None = None,
    ) -> None:
        """``ring``: the payload key ring that seals reconciled files (``jiuzhu/at_rest.py``)."""
        self.engine = engine
        self.bank_dir = bank_dir
        self.bank: BankAdapter = bank or EmbeddedBank(engine)
        self.ring = files_ring(ring)

    def batch_file(self, county: str, batch_id: str) -> Path:
        return self.bank_dir / county / f"{batch_id}.txt"

    @activity.defn
    def send_to_bank(self, req: BankSubmit) -> BankSubmitResult:
        """Write the bank file of every line of the batch not yet answered (pending, or sent
        by an attempt that died), page by page (keyset on id), checking each line against the
        file format — a line that cannot be written is held, the rest is paid —, marking each
        page sent and heartbeating ``(last_id, bytes, count, cents, phase)``; a retry resumes
        from those details. Then hand the file to the bank. Safe to repeat: the same lines make
        the same file and the bank credits each reference once."""
        path = self.batch_file(req.county_code, req.batch_id)
        private_dir(path.parent)
        with path.with_suffix(".lock").open("a") as lock:
            try:  # one submission of a batch at a time (a zombie attempt may still be running)
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ApplicationError(
                    f"batch {req.batch_id} is being submitted by another attempt",
                    type="BankBusy",
                ) from None
            return self._send(req, path)

    def _send(self, req: BankSubmit, path: Path) -> BankSubmitResult:
        details = activity.info().heartbeat_details if activity.in_activity() else ()
        resume = tuple(details) if details and len(details) >= 5 else ()
        if resume and resume[4] == WRITTEN_PHASE and path.exists():
            count, cents = int(resume[2]), int(resume[3])
        else:
            count, cents = self._write_file(req, path, resume)
        total = _yuan(cents)
        _heartbeat(0, 0, count, cents, WRITTEN_PHASE)
        with unit_of_work(self.engine) as session:
            batch = session.get(BankBatch, req.batch_id)
            if batch is None:
                batch = BankBatch(
                    batch_id=req.batch_id,
                    kind=req.kind.value,
                    county_code=req.county_code,
                    value_date=req.value_date,
                    file_path=str(path),
                    line_count=count,
                    total=total,
                )
            batch.file_path, batch.line_count, batch.total = str(path), count, total
            session.add(batch)
        self.bank.submit(
            path,
            req.heartbeat_every,
            lambda n: _heartbeat(0, 0, count, cents, WRITTEN_PHASE, n),
        )
        result = self.bank.result_for(path)
        if result is None:
            raise ApplicationError("the bank has not answered yet", type="BankPending")
        with unit_of_work(self.engine) as session:
            batch = session.get(BankBatch, req.batch_id)
            if batch is not None:
                batch.result_path = str(result)
                session.add(batch)
        return BankSubmitResult(
            file_path=str(path), result_path=str(result), line_count=count, total=total
        )

    def _write_file(self, req: BankSubmit, path: Path, resume: tuple[Any, ...]) -> tuple[int, int]:
        """The detail lines into ``<file>.body`` page by page, then header + body + trailer
        into the file (atomically). Returns (line count, total in cents)."""
        private_dir(path.parent)
        body = path.with_suffix(".body")
        last_id = offset = count = cents = 0
        if resume and resume[4] == FILE_PHASE and body.exists():
            last_id, offset, count, cents = (int(v) for v in resume[:4])
            if body.stat().st_size < offset:
                last_id = offset = count = cents = 0
        unanswered = (PaymentStatus.PENDING, PaymentStatus.SENT)
        pages = instructions.line_pages(
            self.engine, req.batch_id, unanswered, last_id, max(1, req.heartbeat_every or PAGE)
        )
        with WriteBehind() as behind, open_private(body, "r+b" if offset else "wb") as out:
            out.truncate(offset)
            out.seek(offset)
            for rows in pages:
                held: list[tuple[str, str]] = []
                chunk: list[str] = []
                for _, ref, account, name, payee_id, line_cents, prog, period in rows:
                    problem = line_problem((ref, account, name, payee_id, prog, period))
                    if problem is not None:
                        held.append((ref, problem))
                        continue
                    count += 1
                    cents += line_cents
                    chunk.append(
                        f"D|{count:06d}|{ref}|{account}|{name}|{payee_id}|{_amount(line_cents)}|"
                        f"{prog}|{period}\n"
                    )
                out.write("".join(chunk).encode("utf-8"))
                out.flush()
                first, last_id = last_id, int(rows[-1][0])
                done = (last_id, out.tell(), count, cents, FILE_PHASE)
                behind.submit(  # bound now: the loop rebinds these names before they run
                    partial(self._page_sent, req.batch_id, held, first, last_id),
                    partial(_heartbeat, *done),
                )
        tmp = path.with_suffix(path.suffix + ".tmp")
        total = _yuan(cents)
        with open_private(tmp) as out:
            out.write(
                f"H|{FILE_MAGIC}|{req.batch_id}|{req.county_code}|"
                f"{req.value_date:%Y%m%d}|{count}|{total}\n".encode()
            )
            with body.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            out.write(f"T|{count}|{total}\n".encode())
        os.replace(tmp, path)  # same lines → same bytes → the bank's same answer
        body.unlink(missing_ok=True)
        return count, cents

    def _page_sent(self, batch_id: str, held: list[tuple[str, str]], after: int, upto: int) -> None:
        """A written page: its held lines held, the rest ``pending → sent`` (one commit)."""
        with unit_of_work(self.engine) as session:
            instructions.hold(session, batch_id, held)
            instructions.mark_sent(session, batch_id, after, upto)

    @activity.defn
    def reconcile_batch(self, req: ReconcileRequest) -> ReconcileResult:
        """Mark each line paid, or failed with the bank's reason; a line failed
        ``max_attempts`` times is flagged for manual handling, others are retried next run.
        Reads the result file line by line, commits and heartbeats ``(line, paid, failed)``
        per chunk and resumes from those details; a malformed answer fails non-retryably.
        Writes the reconciliation report (CSV) beside the bank file."""
        result = Path(req.result_path)
        bank_file = bank_file_for(result)
        unseal(result, self.ring)  # a retry after the files were sealed reads them again
        details = activity.info().heartbeat_details if activity.in_activity() else ()
        done_line, paid_n, failed_n = (int(v) for v in details[:3]) if details else (1, 0, 0)
        step = max(1, req.chunk_size)
        paid: list[str] = []
        failed: list[tuple[str, str]] = []
        trailer: list[str] | None = None
        number = 0

        def answered(credited: list[str], refused: list[tuple[str, str]]) -> None:
            with unit_of_work(self.engine) as session:
                instructions.mark_paid(session, req.batch_id, credited, datetime.now(UTC))
                instructions.mark_failed(session, req.batch_id, refused, req.max_attempts)

        def flush(line: int) -> None:
            behind.submit(  # the chunk's lists handed over; these two are filled again
                partial(answered, paid[:], failed[:]), partial(_heartbeat, line, paid_n, failed_n)
            )
            paid.clear()
            failed.clear()

        if not result.exists():
            raise malformed(f"{result.name} does not exist")
        with WriteBehind() as behind:
            for number, line in _lines(result):
                fields = line.split("|")
                if number == 1:
                    if len(fields) != 4 or fields[:3] != ["H", RESULT_MAGIC, req.batch_id]:
                        raise malformed(f"{result.name} line 1 is not a result header: {line!r}")
                    continue
                if trailer is not None:
                    raise malformed(f"{result.name} line {number} follows the trailer: {line!r}")
                if fields[0] == "T":
                    trailer = fields
                    continue
                if number <= done_line:
                    continue
                if fields[0] != "R" or len(fields) < 5 or not fields[1].isdigit():
                    raise malformed(f"{result.name} line {number}: {line!r}")
                ref, code, message = fields[2], fields[3], "|".join(fields[4:])
                if not ref or not code:
                    raise malformed(f"{result.name} line {number} has no reference or code")
                if code == PAID:
                    paid.append(ref)
                    paid_n += 1
                else:
                    failed.append((ref, f"{code} {message}"))
                    failed_n += 1
                if len(paid) + len(failed) >= step:
                    flush(number)
            if number == 0:
                raise malformed(f"{result.name} is empty")
            if trailer is None:
                raise malformed(f"{result.name} has no trailer (truncated?)")
            if (
                len(trailer) != 5
                or trailer[1:2] != [str(paid_n)]
                or trailer[3:4] != [str(failed_n)]
            ):
                raise malformed(
                    f"{result.name} trailer {'|'.join(trailer)!r} does not match its "
                    f"{paid_n} credited and {failed_n} failed lines"
                )
            flush(number)
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
        report = result.with_name(result.name.replace(".result.txt", ".reconciliation.csv"))
        write_report(report, self._report_rows(req.batch_id, step))
        # Reconciled: the bank file and the bank's answer are sealed (PIPL Art. 51), the clear
        # files removed; finance downloads the bank file decrypted (api/routes/payroll.py).
        seal(result, self.ring)
        seal(bank_file, self.ring)
        zero = (0, Decimal("0.00"))
        flagged = totals.get(PaymentStatus.FLAGGED.value, zero)
        failed_t = totals.get(PaymentStatus.FAILED.value, zero)
        paid_t = totals.get(PaymentStatus.PAID.value, zero)
        held = totals.get(PaymentStatus.HELD.value, zero)
        return ReconcileResult(
            paid_count=paid_t[0],
            paid_total=paid_t[1],
            failed_count=failed_t[0] + flagged[0],
            failed_total=failed_t[1] + flagged[1],
            flagged_count=flagged[0],
            unanswered_count=totals.get(PaymentStatus.SENT.value, zero)[0],
            report_path=str(report),
            held_count=held[0],
            held_total=held[1],
        )

    def _report_rows(self, batch_id: str, page: int) -> Iterator[Sequence[Any]]:
        """The report's lines (``REPORT_HEADER``) of the batch's instructions in id order, a
        keyset page at a time: the amount in yuan with 2 decimals, the account masked to its
        last 4 digits."""
        sealer = sealing.active()
        for rows in instructions.keyset_pages(self.engine, _REPORT_SQL, (batch_id,), 0, page):
            for _, ref, case, household, prog, period, cents, name, account, *rest in rows:
                last4 = str(sealer.open_optional(account))[-4:]
                yield (
                    ref,
                    case,
                    household,
                    prog,
                    period,
                    _amount(cents),
                    name,
                    last4,
                    *rest,
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


def write_report(path: Path, rows: Iterable[Sequence[Any]]) -> None:
    """The reconciliation report: ``REPORT_HEADER``, then one CSV line per instruction as
    ``rows`` gives it (already masked: ``BankActivities._report_rows``)."""
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    with open_private(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(REPORT_HEADER)
        writer.writerows(rows)
    os.replace(tmp, path)


def value_date_text(d: date) -> str:
    return f"{d:%Y%m%d}"
