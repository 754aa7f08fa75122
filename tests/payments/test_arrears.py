"""No missing payment (seed 002): an entitlement whose account was written after a month it is
payable in had already been compiled (a decision recorded late, dated on paper before that
month) is paid that month's line by the next month, once — found by a newcomer's trial: a
household approved on paper 2026-11-26 (paid from 2026-12), recorded after 2026-12 was
compiled, was never paid for December."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.worker import Worker

from activities.payments.instructions import HELD_DUPLICATE_PERSON, HELD_SUSPENDED
from jiuzhu.contract import Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_payments import EntitlementAccount
from jiuzhu.settings import Settings
from tests.entitlements.helpers import actor, seed_accounts
from tests.payments.support import fund_compiled_total, rows, start_until_funding
from tests.payments.test_recheck import add_member, line
from workflows.payments.contract import PayrollStatus
from workflows.payments.models import FundingConfirmation
from workflows.payments.payroll import PayrollWorkflow

COUNTY = "419942"
JANUARY = 2037 * 12


async def _pay_month(client: Client, queue: str, month: int) -> Any:
    handle, state = await start_until_funding(client, queue, COUNTY, 2037, month)
    final = await fund_compiled_total(handle, state, COUNTY, f"BOF-{month}")
    assert final.status is PayrollStatus.RECONCILED
    return final


def _lines(engine: Engine, case_id: str) -> list[tuple[str, str, Decimal, str]]:
    return [
        (str(r[0]), str(r[1]), Decimal(str(r[2])).quantize(Decimal("0.01")), str(r[3]))
        for r in rows(
            engine,
            "SELECT period, status, amount, payroll_id FROM payment_instruction "
            "WHERE case_id = :c ORDER BY period",
            c=case_id,
        )
    ]


async def test_an_account_written_after_a_month_compiled_is_paid_that_month_next_month(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    (early,) = seed_accounts(engine, COUNTY, 1, amount="500.00", start_index=JANUARY, prefix="E")
    january = await _pay_month(client, settings.task_queue, 1)
    assert january.compiled.covered_upto is not None and january.compiled.arrears == 0

    # Recorded after January was compiled, payable from January.
    (late,) = seed_accounts(engine, COUNTY, 1, amount="600.00", start_index=JANUARY, prefix="L")
    february = await _pay_month(client, settings.task_queue, 2)
    assert february.compiled.arrears == 1
    recorded = rows(
        engine, "SELECT arrears_count FROM payroll_run WHERE payroll_id = :p", p=february.payroll_id
    )
    assert recorded == [(1,)]  # GET /payroll/{county}/{period}: run.arrears_count
    assert february.reconciled.paid_count == 3
    assert february.reconciled.paid_total == Decimal("1700.00")

    jan_id, feb_id = january.payroll_id, february.payroll_id
    assert _lines(engine, early) == [
        ("2037-01", "paid", Decimal("500.00"), jan_id),
        ("2037-02", "paid", Decimal("500.00"), feb_id),
    ]
    assert _lines(engine, late) == [  # January's line, paid with February's
        ("2037-01", "paid", Decimal("600.00"), feb_id),
        ("2037-02", "paid", Decimal("600.00"), feb_id),
    ]

    # March owes nothing more: each month's line exists once.
    march = await _pay_month(client, settings.task_queue, 3)
    assert march.compiled.arrears == 0 and march.reconciled.paid_count == 2
    assert [line[0] for line in _lines(engine, late)] == ["2037-01", "2037-02", "2037-03"]


async def test_an_earlier_months_line_is_rechecked_before_the_bank_file(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """A stop recorded between compile and funding holds the earlier month's line too (a
    newcomer's trial found the deceased's back-pay line paid while the month's own was held),
    and finance confirms the total without either."""
    county, march = "419943", 2037 * 12 + 2
    seed_accounts(engine, county, 1, amount="500.00", start_index=march, prefix="E")
    handle, state = await start_until_funding(client, settings.task_queue, county, 2037, 3)
    await fund_compiled_total(handle, state, county, "BOF-3")
    (late,) = seed_accounts(engine, county, 1, amount="600.00", start_index=march, prefix="L")
    handle, state = await start_until_funding(client, settings.task_queue, county, 2037, 4)
    assert state.compiled.arrears == 1 and state.compiled.pending_total == Decimal("1700.00")

    with unit_of_work(engine) as session:  # suspended after the list was compiled
        account = session.exec(
            select(EntitlementAccount).where(EntitlementAccount.case_id == late)
        ).one()
        account.status, account.updated_at = "suspended", datetime.now(UTC)
        session.add(account)
    finance = actor(Role.FINANCE, county)
    with pytest.raises(WorkflowUpdateFailedError):  # the old total: refused naming the new one
        await handle.execute_update(
            PayrollWorkflow.confirm_funding,
            FundingConfirmation(actor=finance, amount=Decimal("1700.00"), reference="BOF-4"),
        )
    state = await handle.query(PayrollWorkflow.get_state)
    assert state.compiled.pending_total == Decimal("500.00")
    final = await fund_compiled_total(handle, state, county, "BOF-4")
    assert final.reconciled.paid_total == Decimal("500.00")
    assert [(line[0], line[1]) for line in _lines(engine, late)] == [
        ("2037-03", "held"),
        ("2037-04", "held"),
    ]
    assert {
        r[0]
        for r in rows(
            engine, "SELECT failure_reason FROM payment_instruction WHERE case_id = :c", c=late
        )
    } == {HELD_SUSPENDED}


async def test_an_earlier_months_line_of_a_person_already_paid_elsewhere_is_held(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """一人一户 for arrears too: a person paid for January by one county's household, then
    found in a household of another county recorded late (payable from January), is not paid
    January again with that county's February; February itself is paid (nobody else pays it)."""
    january = 2038 * 12
    (first,) = seed_accounts(engine, "419944", 1, amount="500.00", start_index=january, prefix="A")
    twice = "419944197001010015"
    add_member(engine, first, twice)
    paid = await _pay_in(client, settings.task_queue, "419944", 1)
    assert paid.reconciled.paid_count == 1

    seed_accounts(engine, "419945", 1, amount="300.00", start_index=january, prefix="B")
    await _pay_in(client, settings.task_queue, "419945", 1)
    (late,) = seed_accounts(engine, "419945", 1, amount="600.00", start_index=january, prefix="L")
    add_member(engine, late, twice)
    february = await _pay_in(client, settings.task_queue, "419945", 2)

    assert february.compiled.arrears == 1
    assert line(engine, late, "2038-01") == ("held", HELD_DUPLICATE_PERSON, Decimal("600.00"))
    assert line(engine, late, "2038-02")[0] == "paid"
    assert line(engine, first, "2038-01")[0] == "paid"


async def _pay_in(client: Client, queue: str, county: str, month: int) -> Any:
    handle, state = await start_until_funding(client, queue, county, 2038, month)
    final = await fund_compiled_total(handle, state, county, f"BOF-{county}-{month}")
    assert final.status is PayrollStatus.RECONCILED
    return final
