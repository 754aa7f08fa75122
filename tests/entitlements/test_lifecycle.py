"""The issue's scenario on the real server: a 低保 household approved in January is paid every
month from February, each month exactly once; the review after 12 months finds income risen
through work above the standard; six more monthly payments follow in the gradual-withdrawal
period; then the entitlement ends with a notice and no further payment."""

import asyncio
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import start_of_day
from jiuzhu.contract import Role
from jiuzhu.db.models_payments import EntitlementNotice
from jiuzhu.settings import Settings
from tests.entitlements.helpers import (
    account_row,
    actor,
    approved_case,
    months_between,
    payments,
    run_payroll,
    start_entitlement,
    wait_for,
    wait_published,
)
from workflows.entitlements.models import (
    EntitlementStatus,
    ReviewKind,
    ReviewOutcome,
    ReviewOutcomeKind,
)
from workflows.entitlements.workflow import EntitlementWorkflow

COUNTY = "419911"  # a county of its own: the payroll of this test pays only this test's cases
AREA = "419911001001"


def midnight(d: date) -> datetime:
    return start_of_day(d)


async def _search_attributes(handle: WorkflowHandle[Any, Any], key: str) -> dict[str, Any] | None:
    desc = await handle.describe()
    sa = {k.name: v for k, v in desc.typed_search_attributes}
    return sa if key in sa else None


async def test_monthly_payments_review_withdrawal_and_exit(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    queue = settings.task_queue
    inp = approved_case(AREA, start_month=date(2027, 2, 1), amount="600.00")
    handle = await start_entitlement(client, queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    row = account_row(engine, case_id)
    assert row is not None and row.status == "active" and row.county_code == COUNTY
    # Short steps run as local activities: the read model can be written a moment before the
    # workflow task that upserts the search attributes completes.
    sa = await wait_for(lambda: _search_attributes(handle, "NextDeadline"), what="search attrs")
    assert sa["CaseKind"] == "entitlement" and sa["ProgrammeStatus"] == "active"
    assert sa["HouseholdId"] == inp.household_id and sa["CountyCode"] == COUNTY
    assert sa["NextDeadline"] == midnight(date(2028, 2, 1))

    # A payment every month from February, each exactly once (a re-run of one month adds none).
    # (Months are independent runs with their own ids: run them side by side.)
    months = [(2027, i) for i in range(2, 13)] + [(2028, 1)]
    await asyncio.gather(*(run_payroll(client, queue, COUNTY, y, m) for y, m in months))
    rerun = await run_payroll(client, queue, COUNTY, 2027, 5)
    # The month moved money: the re-run returns its record unchanged and compiles nothing.
    assert rerun.rerun_of_existing and rerun.status.value == "reconciled"
    assert rerun.compiled is None and rerun.existing is not None

    # Twelve months on, the entitlement's own clock opens the periodic review.
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, midnight(date(2028, 2, 1)) - now + timedelta(hours=2))
    state = await wait_for(
        lambda: _with_review(handle), what="periodic review opened after 12 months"
    )
    assert state.review.kind is ReviewKind.PERIODIC
    await run_payroll(client, queue, COUNTY, 2028, 2)

    # The review finds income risen through work above the standard: gradual withdrawal.
    result = await handle.execute_update(
        EntitlementWorkflow.record_review_outcome,
        ReviewOutcome(
            actor=actor(Role.COUNTY_OFFICER, COUNTY),
            outcome=ReviewOutcomeKind.WITHDRAW,
            reasons_zh="家庭成员就业后人均收入高于当地低保标准",
            per_capita_income=Decimal("820.00"),
        ),
    )
    assert result.status is EntitlementStatus.WITHDRAWAL
    assert result.end_month == date(2028, 8, 1)  # six more months: March to August
    await wait_for(lambda: (account_row(engine, case_id) or row).status == "withdrawal")

    withdrawal = range(3, 9)
    await asyncio.gather(*(run_payroll(client, queue, COUNTY, 2028, m) for m in withdrawal))
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, midnight(date(2028, 9, 1)) - now + timedelta(hours=1))
    for m in (9, 10):  # the payroll keeps running after the withdrawal ended: nothing for it
        await run_payroll(client, queue, COUNTY, 2028, m)

    final = await handle.result()
    assert final.status is EntitlementStatus.ENDED
    paid = payments(engine, case_id)
    periods = [p.period for p in paid]
    assert periods == months_between(date(2027, 2, 1), date(2028, 8, 1))  # 13 + 6 = 19
    assert len(periods) == 19 and len(set(periods)) == 19
    assert all(p.status == "paid" and str(p.amount) == "600.00" for p in paid)
    assert final.payments.paid_count == 19 and final.payments.last_paid_period == "2028-08"
    with Session(engine) as s:
        notices = s.exec(
            select(EntitlementNotice).where(EntitlementNotice.case_id == case_id)
        ).all()
    assert [n.kind for n in notices] == ["termination"]
    assert "渐退" in notices[0].html and "2028年8月" in notices[0].html
    assert (account_row(engine, case_id) or row).status == "ended"


async def _with_review(handle: WorkflowHandle[Any, Any]) -> Any:
    state = await handle.query(EntitlementWorkflow.get_state)
    return state if state.review is not None else None
