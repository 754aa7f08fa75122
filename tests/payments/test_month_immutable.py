"""One workflow per payroll month, and its record immutable once it has moved money: a second
backfill of a month starts nothing (the month already has its workflow); a run started by hand
with the month's id anyway (an operator's CLI) returns the existing record and changes nothing;
two overlapping backfills of the same month start it once and pay it once."""

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import Worker

from jiuzhu.at_rest import sealed_path
from jiuzhu.schedules import start_month
from jiuzhu.settings import Settings
from tests.entitlements.helpers import seed_accounts, wait_for
from tests.payments.support import fund_compiled_total, rows, scalar
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.models import PayrollInput
from workflows.payments.payroll import PayrollWorkflow

RUN_COLUMNS = (
    "status, compiled_count, compiled_total, paid_count, paid_total, bank_file, result_file, "
    "report_file, funding_reference, run_id"
)


def _exists(path: str) -> bool:
    """The file is there: in clear, or sealed once reconciled (``jiuzhu/at_rest.py``)."""
    return Path(path).exists() or sealed_path(Path(path)).exists()


async def _runs(client: Client, pid: str) -> list[Any]:
    return [w async for w in client.list_workflows(f'WorkflowId = "{pid}"')]


async def _all_closed(client: Client, pid: str, at_least: int) -> bool:
    runs = await _runs(client, pid)
    return len(runs) >= at_least and all(
        w.status is not WorkflowExecutionStatus.RUNNING for w in runs
    )


async def _fund_when_compiled(client: Client, county: str, pid: str) -> Any:
    handle = client.get_workflow_handle_for(PayrollWorkflow.run, pid)

    async def awaiting() -> Any:
        try:
            st = await handle.query(PayrollWorkflow.get_state)
        except Exception:  # not started yet
            return None
        return st if st.status is PayrollStatus.AWAITING_FUNDING else None

    state = await wait_for(awaiting, seconds=60, what="compiled")
    return await fund_compiled_total(handle, state, county, f"BOF-{pid}")


async def test_backfill_after_reconciliation_returns_the_existing_record(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    county, year, month = "419934", 2036, 4
    seed_accounts(engine, county, 1, amount="500.00", start_index=2036 * 12, prefix="A")
    seed_accounts(engine, county, 1, amount="600.00", start_index=2036 * 12, prefix="B")
    pid = payroll_workflow_id(county, year, month)
    assert await start_month(client, county, settings.task_queue, year, month)
    final = await _fund_when_compiled(client, county, pid)
    assert final.status is PayrollStatus.RECONCILED
    before = rows(engine, f"SELECT {RUN_COLUMNS} FROM payroll_run WHERE payroll_id = :p", p=pid)
    assert before[0][0] == "reconciled" and before[0][3] == 2
    assert Decimal(str(before[0][4])) == Decimal("1100.00")

    # A second backfill: the month has its workflow, nothing starts.
    assert not await start_month(client, county, settings.task_queue, year, month)
    assert len(await _runs(client, pid)) == 1

    # Started by hand with the month's id anyway: the run returns the existing record.
    await client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(county_code=county, year=year, month=month),
        id=pid,
        task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    rerun = await client.get_workflow_handle_for(PayrollWorkflow.run, pid).result()
    assert rerun.rerun_of_existing and rerun.status is PayrollStatus.RECONCILED
    assert rerun.existing is not None and rerun.existing.paid_count == 2
    after = rows(engine, f"SELECT {RUN_COLUMNS} FROM payroll_run WHERE payroll_id = :p", p=pid)
    assert after == before  # totals, bank file, reconciliation and run untouched
    assert _exists(after[0][5]) and _exists(after[0][7])  # downloads still there
    assert scalar(engine, "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :p", p=pid) == 2


async def test_overlapping_backfills_pay_the_month_once(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    county, year, month = "419935", 2036, 5
    seed_accounts(engine, county, 2, amount="550.00", start_index=2036 * 12)
    pid = payroll_workflow_id(county, year, month)
    started = await asyncio.gather(
        *(start_month(client, county, settings.task_queue, year, month) for _ in range(2))
    )
    assert sorted(started) == [False, True]
    final = await _fund_when_compiled(client, county, pid)
    assert final.status is PayrollStatus.RECONCILED
    assert final.reconciled is not None and final.reconciled.paid_count == 2
    before = rows(engine, f"SELECT {RUN_COLUMNS} FROM payroll_run WHERE payroll_id = :p", p=pid)
    # And two more overlapping backfills after it moved money: nothing starts, the record stays.
    again = await asyncio.gather(
        *(start_month(client, county, settings.task_queue, year, month) for _ in range(2))
    )
    assert again == [False, False]
    runs = await _runs(client, pid)
    assert len(runs) == 1 and runs[0].status is WorkflowExecutionStatus.COMPLETED
    after = rows(engine, f"SELECT {RUN_COLUMNS} FROM payroll_run WHERE payroll_id = :p", p=pid)
    assert after == before
    assert (
        scalar(engine, "SELECT COUNT(*) FROM payment_instruction WHERE payroll_id = :p", p=pid) == 2
    )
    assert scalar(engine, "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :p", p=pid) == 2
