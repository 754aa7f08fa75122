"""Every instruction reaches a bank: the daily bank batch of temporary assistance on the real
server. A prepayment from the township reserve fund goes out in the county's batch for the
value date and is reconciled paid; a line on a closed account fails and its amount is credited
back to the reserve fund once; a second run of the batch returns its record; a worker that dies
after the bank credited pays nothing twice; an unreadable answer is escalated once; a scheduled
run takes the next working day from the calendar. Each test has a county of its own (the
session database is shared)."""

import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import Worker

from activities.payments.bank import BankActivities, EmbeddedBank, bank_dir_for, result_path_for
from activities.registry import build_activities
from activities.temporary.payloads import BankReturns, EventClaim, Payee, PrepaymentDebit
from activities.temporary.reserve_fund import ReserveFundActivities, replenish
from jiuzhu.areas import AreaRef
from jiuzhu.calendar_store import working_calendar
from jiuzhu.clock import BEIJING
from jiuzhu.contract import Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import OutboxMessage, PaymentInstruction
from jiuzhu.db.models_payments import BankBatch, BankClosedAccount
from jiuzhu.db.models_temporary import ReserveFund, ReserveFundEntry
from jiuzhu.settings import Settings
from tests.conftest import auth
from tests.entitlements.helpers import actor
from tests.payments.support import TruncatingBank, rows, scalar
from tests.payments.test_replay import keep_history
from workflows.payments.contract import DailyBatchStatus, daily_batch_id
from workflows.payments.daily_batch import DailyBankBatchWorkflow
from workflows.payments.models import DailyBatchInput, DailyBatchState
from workflows.registry import WORKFLOWS
from workflows.sandbox import workflow_runner
from workflows.temporary.contract import EventType

VALUE_DATE = date(2036, 3, 3)


def grant_prepayment(
    engine: Engine, county: str, amount: str, *, account: str | None = None, name: str = "赵大勇"
) -> PrepaymentDebit:
    """What an emergency prepayment writes (the real activity): the reserve-fund debit and the
    pending instruction (kind ``prepayment``, no batch yet) of a case of its own."""
    area = AreaRef.of(f"{county}001001")
    case_id = f"T{uuid.uuid4().hex[:15].upper()}"
    req = PrepaymentDebit(
        case_id=case_id,
        area=area,
        household_id=f"H{case_id[1:]}",
        idempotency_key=f"temporary:{case_id}:prepayment",
        amount=Decimal(amount),
        payee=Payee(
            name=name,
            id_number="110101198001010018",
            card_account=account or f"62170{uuid.uuid4().int % 10**14:014d}",
        ),
        period=datetime.now(BEIJING).date().isoformat(),
        actor=actor(Role.TOWNSHIP_OFFICER, area.township),
        note_zh="先行救助：住房失火",
        claim=EventClaim(
            case_id=case_id,
            member_id_numbers=[f"ID{case_id}"],
            event_type=EventType.FIRE,
            event_date=date(2036, 3, 1),
        ),
    )
    ReserveFundActivities(engine).debit_prepayment(req)
    return req


def open_fund(engine: Engine, county: str, amount: str = "5000.00") -> str:
    township = f"{county}001"
    replenish(
        engine,
        township=township,
        amount=Decimal(amount),
        dedupe_key=f"test-open-{township}",
        actor=actor(Role.COUNTY_OFFICER, county),
        note_zh="设立备用金",
    )
    return township


def balance(engine: Engine, township: str) -> Decimal:
    with Session(engine) as s:
        fund = s.get(ReserveFund, township)
        assert fund is not None
        return (Decimal(fund.balance_fen) / 100).quantize(Decimal("0.01"))


def instruction(engine: Engine, key: str) -> PaymentInstruction:
    with Session(engine) as s:
        row = s.exec(
            select(PaymentInstruction).where(PaymentInstruction.idempotency_key == key)
        ).one()
        return row


def batch_row(engine: Engine, batch_id: str) -> BankBatch | None:
    with Session(engine) as s:
        return s.get(BankBatch, batch_id)


async def run_batch(
    client: Client, queue: str, county: str, value_date: date = VALUE_DATE
) -> DailyBatchState:
    batch_id = daily_batch_id(county, value_date)
    result: DailyBatchState = await client.execute_workflow(
        DailyBankBatchWorkflow.run,
        DailyBatchInput(county_code=county, value_date=value_date),
        id=batch_id,
        task_queue=queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    return result


@asynccontextmanager
async def worker_with_bank(
    client: Client, settings: Settings, engine: Engine, bank: EmbeddedBank
) -> AsyncIterator[str]:
    """Every workflow and activity on a queue of its own, the paying bank replaced."""
    queue = f"daily-{uuid.uuid4().hex[:8]}"
    banking = BankActivities(
        engine, bank_dir_for(settings.database_url, settings.bank_dir), bank=bank
    )
    activities = [
        a
        for a in build_activities(engine, settings, client)
        if not isinstance(getattr(a, "__self__", None), BankActivities)
    ]
    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=[*activities, banking.send_to_bank, banking.reconcile_batch],
        workflow_runner=workflow_runner(),
        activity_executor=ThreadPoolExecutor(max_workers=8),
    ):
        yield queue


class CrashingBank(EmbeddedBank):
    """Credits the file, then the worker "dies" before the answer is read: the first attempt
    fails after the bank has credited every line (its answer lost); the retry sends again."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.crashes = 0

    def submit(
        self, batch_file: Path, heartbeat_every: int, progress: Callable[[int], None] | None = None
    ) -> None:
        super().submit(batch_file, heartbeat_every, progress)
        if self.crashes == 0:
            self.crashes += 1
            result_path_for(batch_file).unlink()
            raise RuntimeError("worker killed after the bank credited")


async def test_prepayment_paid_by_the_daily_batch(
    client: Client, settings: Settings, engine: Engine, worker: Worker
) -> None:
    county = "419961"
    township = open_fund(engine, county)
    req = grant_prepayment(engine, county, "800.00")
    line = instruction(engine, req.idempotency_key)
    assert (line.status, line.payroll_id, line.kind) == ("pending", None, "prepayment")
    assert balance(engine, township) == Decimal("4200.00")

    state = await run_batch(client, settings.task_queue, county)
    batch_id = daily_batch_id(county, VALUE_DATE)
    assert state.status is DailyBatchStatus.RECONCILED and not state.rerun_of_existing
    assert state.assigned is not None and state.assigned.pending_count == 1
    assert state.reconciled is not None
    assert (state.reconciled.paid_count, state.reconciled.paid_total) == (1, Decimal("800.00"))
    line = instruction(engine, req.idempotency_key)
    assert (line.status, line.payroll_id, line.attempts) == ("paid", batch_id, 1)
    ledger = rows(
        engine,
        "SELECT batch_id, amount, value_date FROM bank_ledger WHERE reference = :r",
        r=req.idempotency_key,
    )
    assert [(r[0], Decimal(str(r[1]))) for r in ledger] == [(batch_id, Decimal("800.00"))]
    row = batch_row(engine, batch_id)
    assert row is not None
    assert (row.kind, row.status, row.paid_count, row.failed_count) == (
        "temporary",
        "reconciled",
        1,
        0,
    )
    assert row.file_path.endswith(f"{batch_id}.txt") and row.report_path
    assert balance(engine, township) == Decimal("4200.00")  # paid: nothing comes back
    desc = await client.get_workflow_handle(batch_id).describe()
    sa = {k.name: v for k, v in ((p.key, p.value) for p in desc.typed_search_attributes)}
    assert sa["CaseKind"] == "bank_batch" and sa["CountyCode"] == county
    assert sa["ProgrammeStatus"] == "reconciled"

    # A second run of the same batch: the record as it stands, nothing paid again.
    again = await run_batch(client, settings.task_queue, county)
    assert again.rerun_of_existing and again.status is DailyBatchStatus.RECONCILED
    assert again.existing is not None and again.existing.paid_count == 1
    assert scalar(engine, "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :b", b=batch_id) == 1

    # The next day nothing is pending: the batch completes quietly, without a record.
    quiet = await run_batch(client, settings.task_queue, county, VALUE_DATE + timedelta(days=1))
    assert quiet.status is DailyBatchStatus.NOTHING_TO_PAY
    assert batch_row(engine, daily_batch_id(county, VALUE_DATE + timedelta(days=1))) is None

    await keep_history(client, batch_id, "daily_batch")


async def test_refused_line_fails_and_credits_the_reserve_fund_back_once(
    client: Client, settings: Settings, engine: Engine, worker: Worker
) -> None:
    county = "419962"
    township = open_fund(engine, county)
    closed = "6217000000099990001"
    with unit_of_work(engine) as s:
        s.merge(BankClosedAccount(account=closed, code="51", reason_zh="账户已销户"))
    paid = grant_prepayment(engine, county, "800.00")
    refused = grant_prepayment(engine, county, "600.00", account=closed)
    assert balance(engine, township) == Decimal("3600.00")

    state = await run_batch(client, settings.task_queue, county)
    batch_id = daily_batch_id(county, VALUE_DATE)
    assert state.status is DailyBatchStatus.RECONCILED
    assert state.reconciled is not None
    assert (state.reconciled.paid_count, state.reconciled.failed_count) == (1, 1)
    assert state.credited_back is not None
    assert (state.credited_back.new_count, state.credited_back.new_total) == (
        1,
        Decimal("600.00"),
    )
    assert instruction(engine, paid.idempotency_key).status == "paid"
    line = instruction(engine, refused.idempotency_key)
    assert line.status == "failed" and line.failure_reason == "51 账户已销户"
    assert balance(engine, township) == Decimal("4200.00")  # 5000 − 800 paid

    def returns() -> list[ReserveFundEntry]:
        with Session(engine) as s:
            return list(
                s.exec(
                    select(ReserveFundEntry)
                    .where(ReserveFundEntry.purpose == "bank_return")
                    .where(col(ReserveFundEntry.township_code) == township)
                ).all()
            )

    back = returns()
    assert len(back) == 1
    assert (back[0].direction, back[0].amount_fen, back[0].case_id) == (
        "credit",
        60000,
        refused.case_id,
    )
    assert back[0].payment_idempotency_key == refused.idempotency_key
    row = batch_row(engine, batch_id)
    assert row is not None
    assert (row.failed_count, row.credited_back_count, row.credited_back_total) == (
        1,
        1,
        Decimal("600.00"),
    )

    # The credit-back again, and the batch again: nothing more is credited.
    repeat = ReserveFundActivities(engine).credit_back_failed(BankReturns(batch_id=batch_id))
    assert (repeat.new_count, repeat.credited_count) == (0, 1)
    again = await run_batch(client, settings.task_queue, county)
    assert again.rerun_of_existing
    assert len(returns()) == 1 and balance(engine, township) == Decimal("4200.00")
    # The refused line is in no later batch: its money is back in the fund.
    later = await run_batch(client, settings.task_queue, county, VALUE_DATE + timedelta(days=1))
    assert later.status is DailyBatchStatus.NOTHING_TO_PAY


async def test_worker_dying_after_the_bank_credited_pays_nothing_twice(
    client: Client, settings: Settings, engine: Engine
) -> None:
    county = "419963"
    open_fund(engine, county)
    lines = [grant_prepayment(engine, county, a) for a in ("500.00", "700.00", "900.00")]
    bank = CrashingBank(engine)
    async with worker_with_bank(client, settings, engine, bank) as queue:
        state = await run_batch(client, queue, county)
    batch_id = daily_batch_id(county, VALUE_DATE)
    assert bank.crashes == 1
    assert state.status is DailyBatchStatus.RECONCILED
    assert state.reconciled is not None and state.reconciled.paid_count == 3
    ledger = rows(
        engine, "SELECT reference FROM bank_ledger WHERE batch_id = :b ORDER BY 1", b=batch_id
    )
    assert [r[0] for r in ledger] == sorted(r.idempotency_key for r in lines)
    assert {instruction(engine, r.idempotency_key).status for r in lines} == {"paid"}


async def test_unreadable_answer_stops_the_batch_with_one_escalation(
    client: Client, settings: Settings, engine: Engine
) -> None:
    county = "419964"
    township = open_fund(engine, county)
    for amount in ("500.00", "700.00"):
        grant_prepayment(engine, county, amount)
    async with worker_with_bank(client, settings, engine, TruncatingBank(engine)) as queue:
        state = await run_batch(client, queue, county)
    batch_id = daily_batch_id(county, VALUE_DATE)
    assert state.status is DailyBatchStatus.BANK_ERROR and state.bank_error
    with Session(engine) as s:
        sent = s.exec(select(OutboxMessage).where(OutboxMessage.workflow_id == batch_id)).all()
    assert [(m.kind, m.recipient_role, m.recipient_area) for m in sent] == [
        ("escalation", "finance", county)
    ]
    row = batch_row(engine, batch_id)
    assert row is not None and row.status == "bank_error" and row.bank_error
    assert balance(engine, township) == Decimal("3800.00")  # nothing credited back
    again = await run_batch(client, settings.task_queue, county)
    assert again.rerun_of_existing and again.status is DailyBatchStatus.BANK_ERROR


async def test_unwritable_line_is_held_and_the_batch_completes_quietly(
    client: Client, settings: Settings, engine: Engine, worker: Worker
) -> None:
    county = "419968"
    township = open_fund(engine, county)
    req = grant_prepayment(engine, county, "400.00", name="赵|大勇")
    state = await run_batch(client, settings.task_queue, county)
    assert state.status is DailyBatchStatus.NOTHING_TO_PAY
    assert state.assigned is not None and state.assigned.held_count == 1
    line = instruction(engine, req.idempotency_key)
    assert line.status == "held" and line.failure_reason
    row = batch_row(engine, daily_batch_id(county, VALUE_DATE))
    assert row is not None and (row.status, row.held_count) == ("nothing_to_pay", 1)
    assert (
        scalar(
            engine, "SELECT COUNT(*) FROM bank_ledger WHERE reference = :r", r=req.idempotency_key
        )
        == 0
    )
    assert balance(engine, township) == Decimal("4600.00")  # held for correction, not returned


async def test_scheduled_run_takes_the_next_working_day(
    client: Client, settings: Settings, engine: Engine, worker: Worker
) -> None:
    county = "419965"
    open_fund(engine, county)
    req = grant_prepayment(engine, county, "300.00")
    launcher: DailyBatchState = await client.execute_workflow(
        DailyBankBatchWorkflow.run,
        DailyBatchInput(county_code=county),
        id=f"bank-daily-scheduled-{county}-{uuid.uuid4().hex[:6]}",
        task_queue=settings.task_queue,
    )
    made_on = datetime.now(BEIJING).date()
    expected = working_calendar(engine).first_working_day_on_or_after(made_on + timedelta(days=1))
    assert launcher.status is DailyBatchStatus.LAUNCHED
    assert launcher.value_date == expected.date and launcher.value_date > made_on
    batch_id = daily_batch_id(county, expected.date)
    assert launcher.launched_workflow_id == batch_id
    final = await client.get_workflow_handle_for(DailyBankBatchWorkflow.run, batch_id).result()
    assert final.status is DailyBatchStatus.RECONCILED
    assert instruction(engine, req.idempotency_key).payroll_id == batch_id


async def test_bank_batch_api(
    api: httpx.AsyncClient, client: Client, settings: Settings, engine: Engine, worker: Worker
) -> None:
    from jiuzhu.officers import create_officer

    county = "419966"
    open_fund(engine, county)
    grant_prepayment(engine, county, "450.00")
    await run_batch(client, settings.task_queue, county)
    batch_id = daily_batch_id(county, VALUE_DATE)
    create_officer(engine, "officer-bb-finance", "测试市财政", Role.FINANCE, "4199", "bb-fin")
    city_finance = {"Authorization": "Bearer bb-fin"}

    r = await api.get(f"/bank-batches/{batch_id}", headers=city_finance)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["batch"]["status"] == "reconciled" and body["batch"]["kind"] == "temporary"
    assert body["totals"] == [
        {"kind": "prepayment", "status": "paid", "count": 1, "total": "450.00"}
    ]
    r = await api.get("/bank-batches", params={"county_code": county}, headers=city_finance)
    assert r.status_code == 200 and [b["batch_id"] for b in r.json()] == [batch_id]
    r = await api.get(f"/bank-batches/{batch_id}", headers=auth("finance"))  # 419901 only
    assert r.status_code == 403
    r = await api.get(f"/bank-batches/{batch_id}", headers=auth("township"))
    assert r.status_code == 403
    r = await api.get("/bank-batches/bank-daily-419966-20000101", headers=city_finance)
    assert r.status_code == 404

    # Trigger through the county's daily schedule (a county of its own: 沁阳市).
    r = await api.post("/bank-batches/daily/410882/trigger", headers=auth("other_county"))
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["schedule_id"] == "bank-daily-schedule-410882"
    assert accepted["batch_id"] == daily_batch_id(
        "410882", date.fromisoformat(accepted["value_date"])
    )
    handle = client.get_schedule_handle(accepted["schedule_id"])
    try:
        from tests.entitlements.helpers import wait_for

        async def launched() -> bool:
            return (await handle.describe()).info.num_actions >= 1

        await wait_for(launched, seconds=30, what="daily schedule action")
        r = await api.post(
            "/bank-batches/daily/410882/backfill",
            json={"day": "2999-01-01"},
            headers=auth("other_county"),
        )
        assert r.status_code == 422
        r = await api.post("/bank-batches/daily/410882/trigger", headers=auth("township"))
        assert r.status_code == 403
    finally:
        await handle.delete()
