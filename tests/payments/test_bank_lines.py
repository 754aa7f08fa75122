"""One bad line never stops a batch: a field that cannot go into the bank file (a line break of
any kind, a separator, a control character) holds that line — found when the list is compiled,
and again when the file is written — and the rest of the month is paid; a malformed bank answer
fails once, non-retryably, and the payroll escalates to finance instead of retrying forever, then
waits for finance to re-send it."""

import asyncio
import os
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError
from sqlmodel import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.worker import Worker

from jiuzhu.contract import Role
from jiuzhu.settings import Settings
from tests.databases import on_postgres
from tests.entitlements.helpers import actor, read_text, run_payroll, seed_accounts, wait_for
from tests.payments.support import (
    CorrectedBank,
    payment_worker,
    rows,
    scalar,
    start_until_funding,
)
from tests.payments.test_replay import HISTORIES
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.models import FundingConfirmation, ResubmitBatch
from workflows.payments.payroll import PayrollWorkflow

BAD_NAMES = {
    "cr": "张三\r",
    "lf": "张三\n",
    "nel": "张\x85三",
    "ls": "张\u2028三",
    "ps": "张\u2029三",
    "bar": "张|三",
    "comma": "张,三",
    "bell": "张\x07三",
}
# A NUL can be stored on SQLite only: PostgreSQL refuses it in any text column, so there such a
# line never reaches the payroll (asserted in the test).
if not on_postgres():
    BAD_NAMES["nul"] = "张\x00三"


def _rename(engine: Engine, case_id: str, name: str) -> None:
    with Session(engine) as s:
        s.execute(
            text("UPDATE entitlement_account SET payee_name = :n WHERE case_id = :c"),
            {"n": name, "c": case_id},
        )
        s.commit()


async def test_unwritable_lines_are_held_and_the_rest_is_paid(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    county = "419931"
    seed_accounts(engine, county, 2, amount="500.00", start_index=2035 * 12, prefix="G")
    bad = seed_accounts(
        engine, county, len(BAD_NAMES), amount="500.00", start_index=2035 * 12, prefix="X"
    )
    for case_id, name in zip(bad, BAD_NAMES.values(), strict=True):
        _rename(engine, case_id, name)
    if on_postgres():
        with pytest.raises(DataError, match="NUL"):
            _rename(engine, bad[0], "张\x00三")

    final = await run_payroll(client, settings.task_queue, county, 2035, 1)

    assert final.status is PayrollStatus.RECONCILED
    assert final.compiled is not None
    assert (final.compiled.pending_count, final.compiled.held_count) == (2, len(BAD_NAMES))
    assert final.compiled.pending_total == Decimal("1000.00")
    assert final.reconciled is not None
    assert (final.reconciled.paid_count, final.reconciled.held_count) == (2, len(BAD_NAMES))
    pid = payroll_workflow_id(county, 2035, 1)
    held = rows(
        engine,
        "SELECT case_id, status, failure_reason, attempts FROM payment_instruction "
        "WHERE payroll_id = :p AND case_id IN (SELECT case_id FROM entitlement_account "
        # in the seeded order: line ids follow the compile's scan, and PostgreSQL's scan does
        # not keep the read model's order once its rows were updated
        "WHERE household_id LIKE 'HX%') ORDER BY case_id",
        p=pid,
    )
    assert len(held) == len(BAD_NAMES)
    for (_case, status, reason, attempts), name in zip(held, BAD_NAMES.values(), strict=True):
        assert status == "held" and attempts == 0, (name, status)
        assert "payee_name" in reason, reason
    assert "U+000D" in held[0][2] and "U+2028" in held[3][2] and "“|”" in held[5][2]
    # Every line of the bank file has its 9 fields: nothing broke the format.
    assert final.bank is not None
    raw = read_text(final.bank.file_path)
    details = [line.split("|") for line in raw.split("\n") if line.startswith("D|")]
    assert len(details) == 2 and all(len(d) == 9 for d in details)
    assert "\r" not in raw and "\u2028" not in raw
    assert scalar(engine, "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :p", p=pid) == 2


async def test_line_that_breaks_the_format_when_written_is_held(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """Checked again when the file is written: an instruction whose payee name became
    unwritable after compilation is held then, and the others are paid."""
    county = "419932"
    cases = seed_accounts(engine, county, 3, amount="400.00", start_index=2035 * 12)
    handle, state = await start_until_funding(client, settings.task_queue, county, 2035, 2)
    with Session(engine) as s:
        s.execute(
            text("UPDATE payment_instruction SET payee_name = :n WHERE case_id = :c"),
            {"n": "李四\r", "c": cases[1]},
        )
        s.commit()
    assert state.compiled is not None
    await handle.execute_update(
        PayrollWorkflow.confirm_funding,
        FundingConfirmation(
            actor=actor(Role.FINANCE, county), amount=state.compiled.pending_total, reference="F"
        ),
    )
    final = await handle.result()
    assert final.status is PayrollStatus.RECONCILED
    assert final.reconciled is not None
    assert (final.reconciled.paid_count, final.reconciled.held_count) == (2, 1)
    status, reason = rows(
        engine,
        "SELECT status, failure_reason FROM payment_instruction WHERE case_id = :c",
        c=cases[1],
    )[0]
    assert status == "held" and "U+000D" in reason


async def test_malformed_bank_answer_escalates_once_and_finance_resubmits(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """The month stops at ``bank_error`` with one escalation; finance re-sends it explicitly
    (one of 10 racing re-sends is recorded), and each line is credited once."""
    county = "419933"
    seed_accounts(engine, county, 3, amount="300.00", start_index=2035 * 12)
    pid = payroll_workflow_id(county, 2035, 3)
    finance = actor(Role.FINANCE, county)
    async with payment_worker(client, settings, engine, CorrectedBank(engine)) as queue:
        handle, state = await start_until_funding(client, queue, county, 2035, 3)
        await handle.execute_update(
            PayrollWorkflow.confirm_funding,
            FundingConfirmation(actor=finance, amount=state.compiled.pending_total, reference="F"),
        )

        async def stopped() -> Any:
            st = await handle.query(PayrollWorkflow.get_state)
            return st if st.status is PayrollStatus.BANK_ERROR else None

        stuck = await wait_for(stopped, seconds=60, what="payroll bank_error")
        assert stuck.bank_error is not None and "malformed bank answer" in stuck.bank_error
        assert stuck.reconciled is None

        async def escalated() -> Any:
            return rows(
                engine,
                "SELECT kind, recipient_role, recipient_area, message_zh FROM outbox_message "
                "WHERE dedupe_key = :k",
                k=f"{pid}:bank_error",
            )

        outbox = await wait_for(escalated, seconds=30, what="the escalation to finance")
        assert len(outbox) == 1
        kind, role, area, message = outbox[0]
        assert (kind, role, area) == ("escalation", Role.FINANCE.value, county)
        assert "银行回盘" in message

        async def recorded() -> Any:
            status = "SELECT status FROM payroll_run WHERE payroll_id = :p"
            return rows(engine, status, p=pid) == [("bank_error",)]

        await wait_for(recorded, seconds=30, what="the month recorded as bank_error")
        # The reconciliation failed once, not at every retry.
        history = await handle.fetch_history()
        failures = [
            e.activity_task_failed_event_attributes.failure
            for e in history.events
            if e.HasField("activity_task_failed_event_attributes")
        ]
        failed = [f for f in failures if f.application_failure_info.non_retryable]
        assert len(failed) == 1
        credited = "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :b"
        assert scalar(engine, credited, b=pid) == 3  # credited; the answer was unreadable

        with pytest.raises(WorkflowUpdateFailedError):  # not finance
            await handle.execute_update(
                PayrollWorkflow.resubmit,
                ResubmitBatch(actor=actor(Role.COUNTY_OFFICER, county), reason_zh="重新报送"),
            )
        racers = await asyncio.gather(
            *(
                handle.execute_update(
                    PayrollWorkflow.resubmit,
                    ResubmitBatch(actor=finance, reason_zh=f"已与银行核对，重新报送{i}"),
                )
                for i in range(10)
            ),
            return_exceptions=True,
        )
        won = [r for r in racers if not isinstance(r, BaseException)]
        assert len(won) == 1 and won[0].resubmission == 1
        assert all(isinstance(r, WorkflowUpdateFailedError) for r in racers if r not in won)
        final = await handle.result()
        if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
            history = await handle.fetch_history()
            (HISTORIES / "payroll_resubmit.json").write_text(history.to_json())
    assert final.status is PayrollStatus.RECONCILED and final.bank_error is None
    assert final.reconciled is not None and final.reconciled.paid_count == 3
    (done,) = final.resubmissions
    assert done.actor.role is Role.FINANCE and done.after_error
    assert scalar(engine, credited, b=pid) == 3  # nobody credited twice
    audit = "SELECT COUNT(*) FROM audit_entry WHERE case_id = :c AND action = 'bank_resubmit'"
    assert scalar(engine, audit, c=pid) == 1
    run = rows(engine, "SELECT status, paid_count FROM payroll_run WHERE payroll_id = :p", p=pid)
    assert run == [("reconciled", 3)]
