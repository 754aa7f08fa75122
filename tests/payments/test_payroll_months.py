"""One workflow per payroll month, started ahead: a month's payroll starts the next month's with
a start delay up to its 1st, 01:00 Beijing time; a backfill of that month wakes it at once
(signal-with-start) and a second one starts nothing; worker start-up plans every county's next
month once and removes the payroll schedule of earlier releases."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from jiuzhu.clock import at_beijing, beijing_today
from jiuzhu.schedules import (
    PLAN_AHEAD,
    calendar_at,
    ensure_payroll_months,
    ensure_schedule,
    launcher_schedule,
    month_starts_at,
    next_month,
    start_month,
)
from jiuzhu.settings import Settings
from tests.entitlements.helpers import wait_for
from worker import make_worker
from workflows.payments.contract import (
    PAYROLL_WORKFLOW_TYPE,
    PayrollStatus,
    payroll_schedule_id,
    payroll_workflow_id,
)
from workflows.payments.models import PayrollInput
from workflows.payments.payroll import PayrollWorkflow

COUNTY = "419936"


@pytest_asyncio.fixture
async def ahead(client: Client, settings: Settings, engine: Engine) -> AsyncIterator[Settings]:
    """A worker of its own that plans months ahead (off in the test environment)."""
    local = settings.model_copy(
        update={"task_queue": f"months-{uuid.uuid4().hex[:6]}", "payroll_start_ahead": True}
    )
    async with make_worker(client, local, engine):
        yield local


async def _runs(client: Client, wid: str) -> list[WorkflowExecutionStatus | None]:
    return [w.status async for w in client.list_workflows(f'WorkflowId = "{wid}"')]


def test_a_month_paid_early_on_the_first_still_hands_on() -> None:
    """From the first minutes of 1 December (or 1 July) the month after next starts 62 days and
    an hour later: a month paid early then still starts the one after it ahead."""
    for first, (year, month) in ((date(2026, 12, 1), (2027, 2)), (date(2027, 7, 1), (2027, 9))):
        now = at_beijing(first, time(0, 0)).astimezone(UTC)
        assert month_starts_at(year, month) - now <= PLAN_AHEAD


async def test_a_month_starts_the_next_ahead_and_a_backfill_wakes_it(
    client: Client, ahead: Settings, worker: Worker
) -> None:
    today = beijing_today()
    this_month = payroll_workflow_id(COUNTY, today.year, today.month)
    ny, nm = next_month(today.year, today.month)
    following = payroll_workflow_id(COUNTY, ny, nm)

    assert await start_month(client, COUNTY, ahead.task_queue, today.year, today.month)
    handle = client.get_workflow_handle_for(PayrollWorkflow.run, this_month)
    done = await handle.result()
    assert done.status is PayrollStatus.NOTHING_TO_PAY  # no entitlements in this county

    # The next month is there, waiting for its 1st at 01:00 Beijing time.
    desc = await client.get_workflow_handle(following).describe()
    assert desc.status is WorkflowExecutionStatus.RUNNING
    assert desc.execution_time is not None
    assert abs(desc.execution_time - month_starts_at(ny, nm)) < timedelta(seconds=1)
    assert desc.history_length == 1  # started, no workflow task yet
    assert desc.search_attributes.get("CaseKind") == ["payroll"]

    # A backfill of that month wakes it now; another starts nothing.
    assert await start_month(client, COUNTY, ahead.task_queue, ny, nm)
    woken = await client.get_workflow_handle_for(PayrollWorkflow.run, following).result()
    assert woken.status is PayrollStatus.NOTHING_TO_PAY
    assert not await start_month(client, COUNTY, ahead.task_queue, ny, nm)
    assert await _runs(client, following) == [WorkflowExecutionStatus.COMPLETED]
    # Paid early, that month handed on to the one after it, which waits for its own 1st.
    ay, am = next_month(ny, nm)
    after = await client.get_workflow_handle(payroll_workflow_id(COUNTY, ay, am)).describe()
    assert after.status is WorkflowExecutionStatus.RUNNING and after.history_length == 1
    assert after.execution_time is not None
    assert abs(after.execution_time - month_starts_at(ay, am)) < timedelta(seconds=1)
    assert await _runs(client, this_month) == [WorkflowExecutionStatus.COMPLETED]


async def test_worker_start_up_plans_each_county_once_and_drops_the_old_schedule(
    client: Client, settings: Settings
) -> None:
    county = "419937"
    legacy = launcher_schedule(
        workflow_type=PAYROLL_WORKFLOW_TYPE,
        arg=PayrollInput(county_code=county),
        launcher_id=f"payroll-scheduled-{county}",
        county_code=county,
        task_queue=settings.task_queue,
        what_zh="月度救助金发放",
        calendar=calendar_at(1, 1),
        catchup=timedelta(days=31),
        note="earlier release",
    )
    await ensure_schedule(client, payroll_schedule_id(county), legacy)
    queue = f"startup-{uuid.uuid4().hex[:6]}"  # no worker: the months only wait
    assert await ensure_payroll_months(client, queue, [county]) == [county]
    assert await ensure_payroll_months(client, queue, [county]) == [county]
    schedules = [s.id async for s in await client.list_schedules()]
    assert payroll_schedule_id(county) not in schedules
    now = datetime.now(UTC)
    today = beijing_today()
    ny, nm = next_month(today.year, today.month)
    wid = payroll_workflow_id(county, ny, nm)
    statuses = await wait_for(lambda: _runs(client, wid), what="next month's payroll")
    assert statuses == [WorkflowExecutionStatus.RUNNING]
    desc = await client.get_workflow_handle(wid).describe()
    assert desc.execution_time is not None and desc.execution_time > now
    await client.get_workflow_handle(wid).terminate("test: no worker serves this queue")
