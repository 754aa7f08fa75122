"""The payroll on the real server: exactly once across a worker killed (SIGKILL) in the middle of
compiling and of paying; cut-offs moved before a holiday; dispersed 特困 paid quarterly and
centralised 特困 monthly; failed lines retried next run; re-running a month creates nothing."""

import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import Worker

from jiuzhu.contract import Role
from jiuzhu.db.models_payments import BankClosedAccount
from jiuzhu.settings import Settings
from tests.entitlements.helpers import actor, read_text, run_payroll, seed_accounts, wait_for
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.models import FundingConfirmation, PayrollInput
from workflows.payments.payroll import PayrollWorkflow

ROOT = Path(__file__).resolve().parents[2]


def scalar(engine: Engine, sql: str, **params: object) -> int:
    with Session(engine) as s:
        return int(s.execute(text(sql), params).scalar_one() or 0)


def start_worker_process(client: Client, settings: Settings, queue: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JIUZHU_ENVIRONMENT": "test",
        "JIUZHU_DATABASE_URL": settings.database_url,
        "JIUZHU_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "JIUZHU_TASK_QUEUE": queue,
        "JIUZHU_POLICIES_DIR": str(settings.policies_dir),
        "JIUZHU_SEED_DEMO_OFFICERS": "false",
        "JIUZHU_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.entitlements.worker_proc"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()


async def test_worker_killed_mid_payroll_pays_each_line_once(
    client: Client, settings: Settings, engine: Engine
) -> None:
    county, n = "419912", 20_000
    seed_accounts(engine, county, n, amount="500.00")
    queue = f"payroll-kill-{uuid.uuid4().hex[:6]}"
    pid = payroll_workflow_id(county, 2030, 3)
    count = "SELECT COUNT(*) FROM payment_instruction WHERE payroll_id = :p"
    ledger = "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :p"
    paid = "SELECT COUNT(*) FROM payment_instruction WHERE payroll_id = :p AND status = 'paid'"
    proc = start_worker_process(client, settings, queue)
    try:
        handle = await client.start_workflow(
            PayrollWorkflow.run,
            PayrollInput(
                county_code=county, year=2030, month=3, chunk_size=100, heartbeat_seconds=2
            ),
            id=pid,
            task_queue=queue,
            # A workflow task that dies with the worker is retried after this, not 10 s.
            task_timeout=timedelta(seconds=3),
        )
        # Kill the worker while the list is being compiled.
        await wait_for(lambda: scalar(engine, count, p=pid) > 0, seconds=60, what="compiling")
        kill(proc)
        at_kill = scalar(engine, count, p=pid)
        assert 0 < at_kill < n, f"killed at {at_kill} of {n}"
        proc = start_worker_process(client, settings, queue)
        state = await wait_for(
            lambda: _status(handle, PayrollStatus.AWAITING_FUNDING), seconds=90, what="compiled"
        )
        assert state.compiled.pending_count == n
        assert state.compiled.pending_total == Decimal("500.00") * n
        await handle.execute_update(
            PayrollWorkflow.confirm_funding,
            FundingConfirmation(
                actor=actor(Role.FINANCE, county),
                amount=state.compiled.pending_total,
                reference="F1",
            ),
        )
        # Kill it while the bank file is being written, page by page (the pages written are
        # marked sent): the next attempt resumes from the last heartbeat (last id, bytes).
        sent = "SELECT COUNT(*) FROM payment_instruction WHERE payroll_id = :p AND status = 'sent'"
        await wait_for(lambda: scalar(engine, sent, p=pid) > 0, seconds=60, what="writing")
        kill(proc)
        assert scalar(engine, sent, p=pid) > 0
        proc = start_worker_process(client, settings, queue)
        # Kill it again while the bank is crediting.
        await wait_for(lambda: scalar(engine, ledger, p=pid) > 0, seconds=60, what="crediting")
        kill(proc)
        credited_at_kill = scalar(engine, ledger, p=pid)
        proc = start_worker_process(client, settings, queue)
        # And while the answers are reconciled, chunk by chunk.
        await wait_for(lambda: scalar(engine, paid, p=pid) > 0, seconds=60, what="reconciling")
        kill(proc)
        proc = start_worker_process(client, settings, queue)
        final = await handle.result()
    finally:
        kill(proc)
    assert credited_at_kill <= n
    # The file has each line once, numbered 1..n.
    assert final.bank is not None and final.bank.line_count == n
    lines = read_text(final.bank.file_path).split("\n")
    details = [line.split("|") for line in lines if line.startswith("D|")]
    assert [int(d[1]) for d in details] == list(range(1, n + 1))
    assert len({d[2] for d in details}) == n
    assert final.status is PayrollStatus.RECONCILED
    assert final.reconciled is not None and final.reconciled.paid_count == n
    assert scalar(engine, count, p=pid) == n
    assert (
        scalar(
            engine,
            "SELECT COUNT(DISTINCT idempotency_key) FROM payment_instruction "
            "WHERE payroll_id = :p AND status = 'paid'",
            p=pid,
        )
        == n
    )
    assert scalar(engine, ledger, p=pid) == n  # the bank credited each card exactly once
    assert (
        scalar(
            engine,
            "SELECT CAST(SUM(amount) AS INTEGER) FROM bank_ledger WHERE batch_id = :p",
            p=pid,
        )
        == 500 * n
    )


async def _status(handle: WorkflowHandle[Any, Any], status: PayrollStatus) -> Any:
    state = await handle.query(PayrollWorkflow.get_state)
    return state if state.status is status else None


async def test_credit_day_on_a_holiday_pays_earlier(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """February 2024: the 10th is the Spring Festival (a holiday), so the bank credits on the
    last working day before it, Friday the 9th; the 5th and 8th are working days."""
    import chinese_calendar

    assert not chinese_calendar.is_workday(date(2024, 2, 10))
    assert chinese_calendar.is_workday(date(2024, 2, 9))
    county = "140198"  # under Shanxi, whose policy is in force since 2022
    seed_accounts(engine, county, 3, start_index=2024 * 12)
    final = await run_payroll(client, settings.task_queue, county, 2024, 2)
    assert final.cutoffs is not None
    assert (final.cutoffs.data, final.cutoffs.funds, final.cutoffs.credit) == (
        date(2024, 2, 5),
        date(2024, 2, 8),
        date(2024, 2, 9),
    )
    assert final.bank is not None
    header = read_text(final.bank.file_path).splitlines()[0].split("|")
    assert header[:2] == ["H", "JZPAY1"] and header[4] == "20240209"
    # A 10th on a Sunday (March 2024) moves to Friday the 8th.
    march = await run_payroll(client, settings.task_queue, county, 2024, 3)
    assert march.cutoffs is not None and march.cutoffs.credit == date(2024, 3, 8)


async def test_tekun_dispersed_quarterly_centralised_monthly(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """Shanxi pays dispersed 特困 quarterly, by the 10th of the quarter's first month
    (晋民发〔2022〕38号); centralised 特困 goes monthly to the institution; 低保 monthly."""
    county = "140199"  # under Shanxi (14): tekun_dispersed_payment_frequency = quarterly
    jan = 2027 * 12
    dispersed = seed_accounts(
        engine, county, 1, programme="tekun", amount="700.00", start_index=jan, prefix="D"
    )
    late = seed_accounts(
        engine, county, 1, programme="tekun", amount="700.00", start_index=jan + 1, prefix="L"
    )  # starts in February, mid-quarter
    central = seed_accounts(
        engine,
        county,
        1,
        programme="tekun",
        amount="900.00",
        start_index=jan,
        prefix="C",
        centralised=True,
    )
    dibao = seed_accounts(engine, county, 1, amount="450.00", start_index=jan, prefix="B")
    for m in (1, 2, 3, 4):
        await run_payroll(client, settings.task_queue, county, 2027, m)

    def paid(case_id: str) -> list[tuple[str, str]]:
        with Session(engine) as s:
            rows = s.execute(
                text(
                    "SELECT period, amount FROM payment_instruction WHERE case_id = :c "
                    "AND status = 'paid' ORDER BY id"
                ),
                {"c": case_id},
            ).all()
        return [(r[0], f"{Decimal(str(r[1])):.2f}") for r in rows]

    assert paid(dispersed[0]) == [("2027-Q1", "2100.00"), ("2027-Q2", "2100.00")]
    assert paid(late[0]) == [("2027-Q1", "1400.00"), ("2027-Q2", "2100.00")]
    assert paid(central[0]) == [(f"2027-0{m}", "900.00") for m in (1, 2, 3, 4)]
    assert paid(dibao[0]) == [(f"2027-0{m}", "450.00") for m in (1, 2, 3, 4)]


async def test_failed_line_retried_next_run_and_rerun_creates_nothing(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    county = "419915"
    cases = seed_accounts(engine, county, 3, start_index=2031 * 12)
    closed = f"62{county}{1:010d}"  # the second household's card is closed at the bank
    with Session(engine) as s:
        s.add(BankClosedAccount(account=closed, code="51", reason_zh="账户已销户"))
        s.commit()
    jan = await run_payroll(client, settings.task_queue, county, 2031, 1)
    assert jan.reconciled is not None
    assert (jan.reconciled.paid_count, jan.reconciled.failed_count) == (2, 1)
    report = read_text(jan.reconciled.report_path)
    assert "51 账户已销户" in report and "failed" in report

    # Re-running January creates zero payments, pays nobody twice and leaves its record as it
    # was (the re-run says so).
    again = await run_payroll(client, settings.task_queue, county, 2031, 1)
    assert again.rerun_of_existing and again.status is PayrollStatus.RECONCILED
    assert again.compiled is None and again.existing is not None
    assert (again.existing.paid_count, again.existing.failed_count) == (2, 1)

    # The county records a new card (as the entitlement's update would); February retries the
    # failed January line on it, under the same key, plus February's three.
    with Session(engine) as s:
        s.execute(
            text(
                "UPDATE entitlement_account SET card_account = :a, revision = revision + 1 "
                "WHERE case_id = :c"
            ),
            {"a": "6217999900001111", "c": cases[1]},
        )
        s.commit()
    feb = await run_payroll(client, settings.task_queue, county, 2031, 2)
    assert feb.compiled is not None and (feb.compiled.inserted, feb.compiled.retried) == (3, 1)
    assert feb.reconciled is not None and feb.reconciled.paid_count == 4
    rows = scalar(
        engine,
        "SELECT COUNT(*) FROM payment_instruction WHERE case_id = :c AND status = 'paid'",
        c=cases[1],
    )
    assert rows == 2  # January (retried) and February, each once


async def test_funding_refused_for_wrong_role_area_or_amount(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    from temporalio.client import WorkflowUpdateFailedError

    county = "419916"
    seed_accounts(engine, county, 2, start_index=2031 * 12)
    handle = await client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(county_code=county, year=2031, month=5),
        id=payroll_workflow_id(county, 2031, 5),
        task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    state = await wait_for(lambda: _status(handle, PayrollStatus.AWAITING_FUNDING), seconds=30)
    total = state.compiled.pending_total
    for who, amount in [
        (actor(Role.COUNTY_OFFICER, county), total),
        (actor(Role.FINANCE, "410882"), total),
        (actor(Role.FINANCE, county), total + 1),
    ]:
        try:
            await handle.execute_update(
                PayrollWorkflow.confirm_funding,
                FundingConfirmation(actor=who, amount=amount, reference="X"),
            )
        except WorkflowUpdateFailedError:
            pass
        else:  # pragma: no cover
            raise AssertionError(f"funding by {who.role} {who.area_code} {amount} accepted")
    assert (await handle.query(PayrollWorkflow.get_state)).funded_at is None
    await handle.execute_update(
        PayrollWorkflow.confirm_funding,
        FundingConfirmation(actor=actor(Role.FINANCE, county), amount=total, reference="OK"),
    )
    assert (await handle.result()).status is PayrollStatus.RECONCILED
