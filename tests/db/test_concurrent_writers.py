"""Concurrent writers on the run's database (PostgreSQL in ``make test-pg``: row locks under READ
COMMITTED; SQLite in ``make test``: one writer at a time behind the busy timeout). Threads start
together at a barrier, each with its own connection from the session's engine pool:

- the reserve-fund debit: racing prepayments never overdraw the fund, one waits for another's
  row lock, and the ledger's balances are a chain;
- the one instruction writer: racing writers of the same keys (``ON CONFLICT DO NOTHING``) write
  each key once and exactly one of them is told it wrote it;
- the payroll's set-based steps: racing compilers of a month write each line once, racing daily
  batches take each pending line into one batch, racing ``mark_sent`` counts one attempt.
"""

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine, text
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payments import instructions
from activities.payments.instructions import InstructionDraft, write_instruction
from activities.temporary.payloads import EventClaim, Payee, PrepaymentDebit
from activities.temporary.reserve_fund import ReserveFundActivities, debit, replenish
from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import PaymentInstruction
from jiuzhu.db.models_temporary import ReserveFund, ReserveFundEntry
from tests.databases import database_kind
from tests.entitlements.helpers import seed_accounts
from workflows.payments.contract import PaymentKind, PaymentStatus
from workflows.temporary.contract import INSUFFICIENT_FUNDS, EventType

T = TypeVar("T")
RACERS = 8


def race(n: int, fn: Callable[[int], T]) -> tuple[list[T], list[Exception]]:
    """``fn(0) … fn(n-1)`` in n threads released together: (results, exceptions raised)."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T | Exception:
        barrier.wait(timeout=30)
        try:
            return fn(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        outcomes = list(pool.map(run, range(n)))
    done = [r for r in outcomes if not isinstance(r, Exception)]
    return done, [r for r in outcomes if isinstance(r, Exception)]


def race_ok(n: int, fn: Callable[[int], T]) -> list[T]:
    """``race`` where no racer may fail."""
    done, failed = race(n, fn)
    assert not failed, failed
    return done


def county_code() -> str:
    """A county of its own per test (the session's database is shared)."""
    return f"47{uuid.uuid4().int % 10**4:04d}"


def township_actor(township: str) -> Actor:
    return Actor(
        officer_id="officer-race", name="测试乡镇", role=Role.TOWNSHIP_OFFICER, area_code=township
    )


def open_fund(engine: Engine, township: str, amount: str) -> None:
    replenish(
        engine,
        township=township,
        amount=Decimal(amount),
        dedupe_key=f"race-open-{township}",
        actor=township_actor(township),
        note_zh="测试拨付",
    )


def fund_fen(engine: Engine, township: str) -> int:
    with Session(engine) as s:
        fund = s.get(ReserveFund, township)
        assert fund is not None
        return fund.balance_fen


def prepayment(township: str, i: int, amount: str) -> PrepaymentDebit:
    case_id = f"T-race-{township}-{i}"
    return PrepaymentDebit(
        case_id=case_id,
        area=AreaRef.of(f"{township}001"),
        household_id=f"H-race-{township}-{i}",
        idempotency_key=f"prepayment:{case_id}",
        amount=Decimal(amount),
        payee=Payee(name=f"申请人{i}", id_number=f"R{township}{i:04d}", card_account=f"62{i:014d}"),
        period="2031-05-06",
        actor=township_actor(township),
        note_zh="先行救助",
        claim=EventClaim(
            case_id=case_id,
            member_id_numbers=[f"R{township}{i:04d}"],
            event_type=EventType.FIRE,
            event_date=date(2031, 5, 5),
        ),
    )


def test_racing_prepayments_never_overdraw_the_reserve_fund(engine: Engine) -> None:
    """Eight prepayments of 300.00 race for a fund of 1,000.00: three are paid, five refused
    (InsufficientFunds, nothing written), the balance is 100.00 and every ledger line's
    balance follows from the one before it."""
    township = f"{county_code()}001"
    open_fund(engine, township, "1000.00")
    activities = ReserveFundActivities(engine)

    def grant(i: int) -> Any:
        return ActivityEnvironment().run(
            activities.debit_prepayment, prepayment(township, i, "300.00")
        )

    paid, refused = race(RACERS, grant)
    assert len(paid) == 3, (paid, refused)
    assert all(isinstance(r, ApplicationError) and r.type == "Conflict" for r in refused), refused
    assert all(INSUFFICIENT_FUNDS in str(getattr(r, "details", "")) for r in refused), refused
    assert fund_fen(engine, township) == 10_000
    assert sorted(r.balance_after for r in paid) == [
        Decimal("100.00"),
        Decimal("400.00"),
        Decimal("700.00"),
    ]
    with Session(engine) as s:
        entries = s.exec(
            select(ReserveFundEntry)
            .where(ReserveFundEntry.township_code == township)
            .order_by(ReserveFundEntry.id)  # type: ignore[arg-type]
        ).all()
        lines = s.exec(
            select(PaymentInstruction).where(
                PaymentInstruction.county_code == AreaRef.of(township).county
            )
        ).all()
    balance = 0
    for e in entries:  # opening credit, then the three debits in commit order
        balance += e.amount_fen if e.direction == "credit" else -e.amount_fen
        assert e.balance_after_fen == balance >= 0
    assert [e.direction for e in entries] == ["credit", "debit", "debit", "debit"]
    assert sorted(p.idempotency_key for p in lines) == sorted(r.idempotency_key for r in paid)
    assert all(
        p.kind == PaymentKind.PREPAYMENT and p.funding_source == "reserve_fund" for p in lines
    )


def test_a_debit_waits_for_the_row_lock_of_an_open_debit(engine: Engine) -> None:
    """A debit whose transaction is still open holds the fund's row: a second debit waits for
    it (not refused, not overdrawn), then sees the balance the first one left."""
    township = f"{county_code()}001"
    open_fund(engine, township, "500.00")
    first_done, second_done = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def first() -> None:
        with unit_of_work(engine) as s:
            debit(
                s,
                township=township,
                amount_fen=30_000,
                dedupe_key=f"{township}:a",
                purpose="prepayment",
                case_id=None,
                actor=None,
                note_zh="先行救助",
            )
            first_done.set()
            time.sleep(1.0)  # the row stays locked while this transaction is open

    def second() -> None:
        first_done.wait(10)
        started = time.monotonic()
        try:
            with unit_of_work(engine) as s:
                debit(
                    s,
                    township=township,
                    amount_fen=30_000,
                    dedupe_key=f"{township}:b",
                    purpose="prepayment",
                    case_id=None,
                    actor=None,
                    note_zh="先行救助",
                )
        except Exception as exc:
            seen["error"] = exc
        seen["waited"] = time.monotonic() - started
        second_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        a.result(timeout=30)
        b.result(timeout=30)
    assert second_done.is_set()
    assert seen["waited"] >= 0.5, seen  # it waited for the first transaction's commit
    assert getattr(seen.get("error"), "code", None) == INSUFFICIENT_FUNDS, seen
    assert fund_fen(engine, township) == 20_000


def draft(county: str, i: int) -> InstructionDraft:
    return InstructionDraft(
        idempotency_key=f"temporary:R{county}{i:03d}:1",
        kind=PaymentKind.TEMPORARY,
        case_id=f"R{county}{i:03d}",
        household_id=f"HR{county}{i:03d}",
        programme="temporary",
        area_code=f"{county}001001",
        county_code=county,
        period="2031-05-06",
        amount=Decimal("800.00"),
        payee_name=f"申请人{i}",
        payee_id_number=f"R{county}{i:04d}",
        card_account=f"62{i:014d}",
    )


def test_racing_writers_of_the_same_keys_write_each_once(engine: Engine) -> None:
    """Eight writers each write the same 40 instructions (one transaction per instruction, in
    different orders): 40 rows, and each key reported written to exactly one writer."""
    county = county_code()
    keys = list(range(40))

    def writer(i: int) -> list[str]:
        mine = []
        for k in keys[i % 40 :] + keys[: i % 40]:  # each racer starts elsewhere
            with unit_of_work(engine) as s:
                if write_instruction(s, draft(county, k)) is not None:
                    mine.append(draft(county, k).idempotency_key)
        return mine

    written = [k for keys_written in race_ok(RACERS, writer) for k in keys_written]
    assert sorted(written) == sorted(draft(county, k).idempotency_key for k in keys)
    with Session(engine) as s:
        count = s.execute(
            text(
                "SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM payment_instruction "
                "WHERE county_code = :c"
            ),
            {"c": county},
        ).one()
    assert tuple(count) == (40, 40)


def compile_month(engine: Engine, county: str, batch: str, after: int, upto: int) -> None:
    with unit_of_work(engine) as s:
        instructions.insert_payroll_chunk(
            s,
            payroll_id=batch,
            county=county,
            after=after,
            upto=upto,
            period_index=2031 * 12 + 4,
            quarterly=False,
            monthly_key="2031-05",
            quarterly_key="2031-Q2",
            now=datetime.now(UTC),
        )


def id_range(engine: Engine, county: str) -> tuple[int, int]:
    with Session(engine) as s:
        lo, hi = s.execute(
            text("SELECT MIN(id), MAX(id) FROM entitlement_account WHERE county_code = :c"),
            {"c": county},
        ).one()
    return int(lo) - 1, int(hi)


def test_racing_compilers_write_each_payroll_line_once(engine: Engine) -> None:
    """Four compilers of the same month (as a retried compile racing the attempt it replaces)
    each insert the county's 2,000 entitlements in chunks of their own size: 2,000 lines, one
    per household, the month's total exactly once."""
    county = county_code()
    seed_accounts(engine, county, 2000, amount="321.00", start_index=2031 * 12, prefix="C")
    lo, hi = id_range(engine, county)
    batch = f"payroll-{county}-2031-05"

    def compiler(i: int) -> int:
        chunk = (250, 400, 1000, 2000)[i % 4]
        for after in range(lo, hi, chunk):
            compile_month(engine, county, batch, after, min(after + chunk, hi))
        return chunk

    race_ok(4, compiler)
    with Session(engine) as s:
        n, households, total = s.execute(
            text(
                "SELECT COUNT(*), COUNT(DISTINCT household_id), SUM(amount) "
                "FROM payment_instruction WHERE payroll_id = :b"
            ),
            {"b": batch},
        ).one()
    assert (n, households) == (2000, 2000)
    assert Decimal(str(total)) == Decimal("642000.00")


def test_racing_steps_of_one_batch_move_each_line_once(engine: Engine) -> None:
    """Racing ``mark_sent`` of a compiled month: every line sent once (attempts 1); racing
    daily batches: each pending temporary line joins exactly one batch."""
    county = county_code()
    seed_accounts(engine, county, 600, amount="100.00", start_index=2031 * 12, prefix="M")
    lo, hi = id_range(engine, county)
    batch = f"payroll-{county}-2031-05"
    compile_month(engine, county, batch, lo, hi)

    def send(_: int) -> None:
        with unit_of_work(engine) as s:
            instructions.mark_sent(s, batch)

    race_ok(4, send)
    with Session(engine) as s:
        states = s.execute(
            text(
                "SELECT status, attempts, COUNT(*) FROM payment_instruction "
                "WHERE payroll_id = :b GROUP BY status, attempts"
            ),
            {"b": batch},
        ).all()
    assert [tuple(r) for r in states] == [(PaymentStatus.SENT.value, 1, 600)]

    for k in range(60):  # temporary-aid lines waiting for the day's bank batch
        with unit_of_work(engine) as s:
            write_instruction(s, draft(county, k))

    def assign(i: int) -> int:
        with unit_of_work(engine) as s:
            return instructions.assign_daily_batch(s, batch_id=f"daily-{county}-{i}", county=county)

    joined = race_ok(4, assign)
    assert sum(joined) == 60
    with Session(engine) as s:
        per_batch = dict(
            s.execute(
                text(
                    "SELECT payroll_id, COUNT(*) FROM payment_instruction "
                    "WHERE county_code = :c AND kind = :k GROUP BY payroll_id"
                ),
                {"c": county, "k": PaymentKind.TEMPORARY.value},
            ).all()
        )
    assert None not in per_batch and sum(per_batch.values()) == 60
    assert sorted(per_batch.values()) == sorted(j for j in joined if j)


def test_the_run_names_its_database(engine: Engine) -> None:
    """The suite knows which database it runs on (the PostgreSQL run really is one)."""
    assert engine.dialect.name == database_kind()
    if database_kind() == "postgresql":
        with engine.connect() as conn:
            assert conn.execute(text("SHOW transaction_isolation")).scalar_one() == (
                "read committed"
            )
