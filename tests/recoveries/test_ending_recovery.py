"""Recovery of months paid after an entitlement ended, on the real server: a household paid for
three months, the third one ahead, is stopped after the second; when the entitlement ends, one
receivable of the third month's whole amount is opened (its deadline from policy), and the
entitlement's timeline says so; asking again, or replaying the entitlement, opens none. With
nothing paid ahead, the ending opens nothing. After a member's death, the ending leaves out the
deceased's share its own receivable already claims. ``ended_lines`` (the rule) is unit-tested too.
``JIUZHU_WRITE_HISTORY=1`` also saves the histories replayed by ``tests/test_replay_all.py``
(the entitlement's ending and the receivable it opened)."""

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.payments import instructions
from activities.recoveries.activities import RecoveryActivities, ended_lines, person_key
from activities.recoveries.models import OpenEndingRecoveryRequest
from api.routes.recoveries import RecoverySummary, recovery_page
from jiuzhu.clock import beijing_today, start_of_day
from jiuzhu.contract import Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models import AuditEntry, CaseRecord, PaymentInstruction, utcnow
from jiuzhu.settings import Settings
from rules.calendar import add_months
from rules.household import Member
from tests.conftest import TEST_CONVERTER
from tests.entitlements.helpers import (
    actor,
    approved_case,
    payments,
    run_payroll,
    start_entitlement,
    wait_for,
    wait_published,
)
from tests.recoveries.test_recovery import seed_paid
from workflows.entitlements.contract import DeathNotification
from workflows.entitlements.models import (
    ChangeKind,
    ChangeReport,
    EntitlementInput,
    EntitlementState,
    EntitlementStatus,
    InvestigationClose,
    ReviewOutcome,
    ReviewOutcomeKind,
)
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.recoveries.contract import (
    RecoveryCause,
    RecoveryStatus,
    ending_recovery_workflow_id,
    recovery_workflow_id,
)
from workflows.recoveries.models import RecoveryState
from workflows.recoveries.workflow import OverpaymentRecoveryWorkflow
from workflows.registry import WORKFLOWS
from workflows.sandbox import workflow_runner

AREA = "419975001001"  # a county of its own: its payroll pays only this file's households
COUNTY = AREA[:6]
HISTORIES = Path(__file__).parent / "histories"
ENTITLEMENT_HISTORIES = Path(__file__).parents[1] / "entitlements" / "histories"


def month_key(d: date) -> str:
    return f"{d:%Y-%m}"


def write_history(path: Path, history_json: str) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(history_json)


async def save(client: Client, workflow_id: str, path: Path) -> None:
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        write_history(path, history.to_json())


async def stop_now(handle: WorkflowHandle[Any, Any]) -> date | None:
    """A reported change, the township's finding opening a review, the county's stop: this
    month is the last paid (低保办法 Art. 32)."""
    township = actor(Role.TOWNSHIP_OFFICER, AREA[:9])
    receipt = await handle.execute_update(
        EntitlementWorkflow.report_change,
        ChangeReport(actor=township, kind=ChangeKind.INCOME, description_zh="家庭成员外出务工"),
    )
    await handle.execute_update(
        EntitlementWorkflow.close_investigation,
        InvestigationClose(
            actor=township,
            investigation_id=receipt.investigation_id,
            finding_zh="家庭成员务工收入稳定，人均收入高于低保标准",
            open_review=True,
        ),
    )
    result = await handle.execute_update(
        EntitlementWorkflow.record_review_outcome,
        ReviewOutcome(
            actor=actor(Role.COUNTY_OFFICER, COUNTY),
            outcome=ReviewOutcomeKind.STOP,
            reasons_zh="家庭人均收入高于当地低保标准",
        ),
    )
    assert result.status is EntitlementStatus.ACTIVE  # paid to the end of this month
    return result.end_month


async def run_to_the_end(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], first_unpaid: date
) -> EntitlementState:
    """Move the entitlement's clock past its last payable month: it ends."""
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, start_of_day(first_unpaid) - now + timedelta(hours=1))
    final: EntitlementState = await wait_for(handle.result, seconds=30, what="the end")
    assert final.status is EntitlementStatus.ENDED
    return final


def receivables_of(engine: Engine, case_id: str) -> list[str]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(CaseRecord.case_id).where(
                    CaseRecord.case_kind == "recovery", col(CaseRecord.linked_case_id) == case_id
                )
            ).all()
        )


def test_ended_lines_rule() -> None:
    rows = [
        ("k10", "2026-10", Decimal("600.00")),
        ("k11", "2026-11", Decimal("600.00")),
        ("k12", "2026-12", Decimal("600.00")),
        ("k01", "2027-01", Decimal("600.00")),
    ]
    terms: dict[str, Any] = {
        "start_month": date(2026, 10, 1),
        "last_payable_month": date(2026, 11, 1),
        "monthly_amount": Decimal("600.00"),
    }
    # Every month after the last payable one, whole.
    assert [(x.period, x.overpaid) for x in ended_lines(rows, **terms)] == [
        ("2026-12", Decimal("600.00")),
        ("2027-01", Decimal("600.00")),
    ]
    # A death's receivable already holds the deceased's share of December: the rest only.
    claimed = {"k12": Decimal("300.00")}
    assert [(x.period, x.overpaid) for x in ended_lines(rows, **terms, claimed=claimed)] == [
        ("2026-12", Decimal("300.00")),
        ("2027-01", Decimal("600.00")),
    ]
    # Claimed whole: nothing left on that line.
    claimed = {"k12": Decimal("600.00"), "k01": Decimal("600.00")}
    assert ended_lines(rows, **terms, claimed=claimed) == []
    # Dispersed 特困 quarterly: the quarter's months it paid for after the last payable month.
    quarters = [("q1", "2027-Q1", Decimal("2700.00")), ("q2", "2027-Q2", Decimal("2700.00"))]
    tekun: dict[str, Any] = {**terms, "monthly_amount": Decimal("900.00")}
    tekun["last_payable_month"] = date(2027, 1, 1)
    assert [(x.period, x.overpaid) for x in ended_lines(quarters, **tekun)] == [
        ("2027-Q1", Decimal("1800.00")),
        ("2027-Q2", Decimal("2700.00")),
    ]
    # A quarter compiled knowing the end (two months of 900): nothing after it was paid.
    tekun["last_payable_month"] = date(2027, 2, 1)
    short = [("q1", "2027-Q1", Decimal("1800.00"))]
    assert ended_lines(short, **tekun) == []
    # Started in the quarter's second month: the line paid February and March.
    tekun.update(start_month=date(2027, 2, 1), last_payable_month=date(2027, 2, 1))
    assert [(x.period, x.overpaid) for x in ended_lines(short, **tekun)] == [
        ("2027-Q1", Decimal("900.00"))
    ]


async def test_ending_after_a_month_paid_ahead_opens_one_receivable(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    queue = settings.task_queue
    m2 = beijing_today().replace(day=1)
    m1, m3 = add_months(m2, -1), add_months(m2, 1)
    inp = approved_case(AREA, start_month=m1, amount="600.00", members=2)
    handle = await start_entitlement(client, queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)

    # Paid for M1 and M2, and M3 ahead (a month compiled and paid before the stop).
    for month in (m1, m2, m3):
        paid = await run_payroll(client, queue, COUNTY, month.year, month.month)
        assert paid.status.value == "reconciled"
    lines = payments(engine, case_id)
    assert [(p.period, p.status, str(p.amount)) for p in lines] == [
        (month_key(m), "paid", "600.00") for m in (m1, m2, m3)
    ]

    # The county stops the entitlement this month (M2): M3 was not owed.
    assert await stop_now(handle) == m2
    final = await run_to_the_end(env, handle, m3)

    rid = ending_recovery_workflow_id(case_id, m3)
    assert inp.household.members[0].id_number not in rid  # opaque
    await wait_for(lambda: receivables_of(engine, case_id) == [rid], what=f"recovery {rid}")
    recovery = client.get_workflow_handle_for(OverpaymentRecoveryWorkflow.run, rid)
    state: RecoveryState = await recovery.query(OverpaymentRecoveryWorkflow.get_state)
    m3_line = next(p for p in lines if p.period == month_key(m3))
    assert [(x.idempotency_key, x.period, x.paid_amount, x.overpaid) for x in state.lines] == [
        (m3_line.idempotency_key, month_key(m3), Decimal("600.00"), Decimal("600.00"))
    ]
    assert (state.cause, state.amount, state.balance, state.status) == (
        RecoveryCause.ENDED,
        Decimal("600.00"),
        Decimal("600.00"),
        RecoveryStatus.OPEN,
    )
    assert state.last_payable_month == m2 and state.entitlement_id == case_id
    assert state.applicant_name == "王大山" and state.date_of_death is None
    # Its deadline (policy ``overpayment_recovery``), reminded before and escalated after.
    assert [d.name for d in state.deadlines] == ["overpayment_recovery"]
    assert state.deadlines[0].is_open and "终止后多发" in state.deadlines[0].spec.label_zh
    assert state.timeline[0].action == "open" and month_key(m3) in state.timeline[0].note_zh

    # The county's list names the cause and the person (no deceased for an ending).
    await wait_for(lambda: _listed(engine, rid), what="recovery listed with its cause")
    listed = _listed(engine, rid)
    assert listed is not None
    assert (listed.cause, listed.person_name, listed.deceased_name) == ("ended", "王大山", None)

    opened = [t for t in final.timeline if t.action == "recovery_opened"]
    assert [t.note_zh for t in opened] == [f"救助终止后多发救助金600.00元，已立案追回（{rid}）"]
    assert [t.action for t in final.timeline][-2:] == ["ended", "recovery_opened"]

    # A second trigger (the activity retried with the same ending) finds the receivable.
    again = await ActivityEnvironment().run(
        RecoveryActivities(engine, client).open_ending_recovery,
        OpenEndingRecoveryRequest(
            entitlement_id=case_id,
            household_id=inp.household_id,
            programme="dibao",
            area_code=AREA,
            applicant_id_number=inp.household.members[0].id_number,
            applicant_name="王大山",
            start_month=m1,
            last_payable_month=m2,
            monthly_amount=Decimal("600.00"),
            covered_members=2,
            payee_name="王大山",
            record_ref="retry",
        ),
    )
    assert (again.recovery_id, again.amount, again.opened) == (rid, Decimal("600.00"), False)
    # A replay of the entitlement's history, with the worker's own workflows, is deterministic
    # and starts nothing.
    history = await client.get_workflow_handle(handle.id).fetch_history()  # the ending's run
    replay = await Replayer(
        workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=TEST_CONVERTER
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None, replay.replay_failure
    assert receivables_of(engine, case_id) == [rid]

    await save(client, handle.id, ENTITLEMENT_HISTORIES / "entitlement_ended_recovery.json")
    await save(client, rid, HISTORIES / "recovery_ended.json")


def _listed(engine: Engine, recovery_id: str) -> RecoverySummary | None:
    with Session(engine) as session:
        page = recovery_page(session, AREA[:6], None, 0, 200)
    return next(
        (i for i in page.items if i.recovery_id == recovery_id and i.cause == "ended"), None
    )


async def second_member_died(
    handle: WorkflowHandle[Any, Any], inp: EntitlementInput, month: date
) -> Member:
    """The death check finds the household's second member, dead on the 10th of ``month``."""
    deceased = inp.household.members[1]
    await handle.execute_update(
        EntitlementWorkflow.record_death,
        DeathNotification(
            id_number=deceased.id_number,
            date_of_death=month + timedelta(days=9),
            source="死亡比对（测试）",
            record_ref=f"death_record:{inp.household_id}-{inp.programme.value}",
        ),
    )
    return deceased


async def m3_at_the_bank(
    client: Client, settings: Settings, engine: Engine, *, members: int
) -> tuple[EntitlementInput, WorkflowHandle[Any, Any], date]:
    """A household paid 600 for M1 and M2 (this month), and M3 in a bank file the bank has not
    answered yet (``sent``). Returns the input, the handle and M2."""
    m2 = beijing_today().replace(day=1)
    m1, m3 = add_months(m2, -1), add_months(m2, 1)
    inp = approved_case(AREA, start_month=m1, amount="600.00", members=members)
    handle = await start_entitlement(client, settings.task_queue, inp)
    await wait_published(engine, f"{inp.household_id}-dibao")
    seed_paid(engine, inp, {month_key(m1): "600.00", month_key(m2): "600.00"}, AREA)
    seed_paid(engine, inp, {month_key(m3): "600.00"}, AREA, status="sent")
    return inp, handle, m2


def reconciled_paid(engine: Engine, case_id: str, month: date) -> PaymentInstruction:
    """The bank credits the month's line; the reconciliation marks it paid (the payroll's own
    writer). Returns the line."""
    line = next(p for p in payments(engine, case_id) if p.period == month_key(month))
    with unit_of_work(engine) as session:
        instructions.mark_paid(
            session, f"payroll-{COUNTY}-{month_key(month)}", [line.idempotency_key], utcnow()
        )
    return line


async def test_a_line_still_at_the_bank_when_the_entitlement_ends_is_recovered_once_paid(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """Issue 11 item 3: M3 is already in a bank file (``sent``) when the county stops the
    household in M2. The ending waits for the bank's answer instead of opening a receivable of
    what is paid so far (nothing); once M3 is reconciled as paid, the next daily check opens the
    receivable of M3's 600.00, once."""
    inp, handle, m2 = await m3_at_the_bank(client, settings, engine, members=1)
    case_id, m3 = f"{inp.household_id}-dibao", add_months(m2, 1)
    assert await stop_now(handle) == m2
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, start_of_day(m3) - now + timedelta(hours=1))

    async def waiting() -> EntitlementState | None:
        state: EntitlementState = await handle.query(EntitlementWorkflow.get_state)
        return state if state.timeline[-1].action == "recovery_waits" else None

    ended = await wait_for(waiting, seconds=30, what="the ending waiting for the bank")
    assert ended.status is EntitlementStatus.ENDED
    assert [t.action for t in ended.timeline][-2:] == ["ended", "recovery_waits"]
    assert "1笔" in ended.timeline[-1].note_zh
    assert receivables_of(engine, case_id) == []

    # Still at the bank a day later: no receivable yet.
    await env.fast_forward(handle, timedelta(days=1, hours=1))
    state: EntitlementState = await handle.query(EntitlementWorkflow.get_state)
    assert state.timeline[-1].action == "recovery_waits" and receivables_of(engine, case_id) == []

    # The bank credits M3; the reconciliation marks it paid (the payroll's own writer).
    m3_line = reconciled_paid(engine, case_id, m3)
    await env.fast_forward(handle, timedelta(days=1, hours=1))
    final: EntitlementState = await wait_for(handle.result, seconds=30, what="the end")

    rid = ending_recovery_workflow_id(case_id, m3)
    await wait_for(lambda: receivables_of(engine, case_id) == [rid], what=f"recovery {rid}")
    recovery: RecoveryState = await client.get_workflow_handle_for(
        OverpaymentRecoveryWorkflow.run, rid
    ).query(OverpaymentRecoveryWorkflow.get_state)
    assert [(x.idempotency_key, x.period, x.overpaid) for x in recovery.lines] == [
        (m3_line.idempotency_key, month_key(m3), Decimal("600.00"))
    ]
    assert recovery.amount == Decimal("600.00") and recovery.cause is RecoveryCause.ENDED
    assert [t.action for t in final.timeline][-3:] == [
        "ended",
        "recovery_waits",
        "recovery_opened",
    ]
    # Replayed with the worker's own workflows: deterministic.
    history = await client.get_workflow_handle(handle.id).fetch_history()
    replay = await Replayer(
        workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=TEST_CONVERTER
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert replay.replay_failure is None, replay.replay_failure
    await save(client, handle.id, ENTITLEMENT_HISTORIES / "entitlement_ended_after_settlement.json")


async def test_a_death_while_a_line_is_at_the_bank_recovers_it_once_paid(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """Issue 11 item 3: a two-person household paid 600 for M1 and M2, with M3 in a bank file
    (``sent``); one member's death in M1 is recorded. The deceased's receivable waits for the
    bank; once M3 is reconciled as paid, the next daily check opens it with the deceased's half
    of M2 and of M3 (300 each). The household goes on being paid."""
    inp, handle, m2 = await m3_at_the_bank(client, settings, engine, members=2)
    case_id, m1, m3 = f"{inp.household_id}-dibao", add_months(m2, -1), add_months(m2, 1)
    deceased = await second_member_died(handle, inp, m1)
    state: EntitlementState = await handle.query(EntitlementWorkflow.get_state)
    assert state.timeline[-1].action == "recovery_waits" and "1笔" in state.timeline[-1].note_zh
    assert [w.death.id_number for w in state.recoveries_waiting] == [deceased.id_number]
    death_id = recovery_workflow_id(inp.household_id, person_key(deceased.id_number))
    assert receivables_of(engine, case_id) == []

    reconciled_paid(engine, case_id, m3)
    await env.fast_forward(handle, timedelta(days=1, hours=1))
    await wait_for(lambda: receivables_of(engine, case_id) == [death_id], what=death_id)
    death: RecoveryState = await client.get_workflow_handle_for(
        OverpaymentRecoveryWorkflow.run, death_id
    ).query(OverpaymentRecoveryWorkflow.get_state)
    assert [(x.period, x.overpaid) for x in death.lines] == [
        (month_key(m2), Decimal("300.00")),
        (month_key(m3), Decimal("300.00")),
    ]
    state = await handle.query(EntitlementWorkflow.get_state)
    assert state.status is EntitlementStatus.ACTIVE and state.recoveries_waiting == []
    assert state.timeline[-1].action == "recovery_opened" and state.settle_at is None
    await save(client, handle.id, ENTITLEMENT_HISTORIES / "entitlement_death_after_settlement.json")


async def test_ending_with_nothing_paid_ahead_opens_nothing(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    m2 = beijing_today().replace(day=1)
    m1, m3 = add_months(m2, -1), add_months(m2, 1)
    inp = approved_case(AREA, start_month=m1, amount="600.00", members=1)
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    seed_paid(engine, inp, {month_key(m1): "600.00", month_key(m2): "600.00"}, AREA)

    assert await stop_now(handle) == m2
    final = await run_to_the_end(env, handle, m3)
    assert "recovery_opened" not in [t.action for t in final.timeline]
    assert final.timeline[-1].action == "ended"
    assert receivables_of(engine, case_id) == []


async def test_ending_after_a_death_recovers_only_what_the_death_did_not(
    env: WorkflowEnvironment, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    """A two-person household paid 600 a month for M1..M3: one member dies in M1, so their
    receivable claims their half of M2 and M3 (300 each); the county then stops the household
    in M2. The ending recovers M3 less the deceased's half already claimed: 300, never 600."""
    m2 = beijing_today().replace(day=1)
    m1, m3 = add_months(m2, -1), add_months(m2, 1)
    inp = approved_case(AREA, start_month=m1, amount="600.00", members=2)
    handle = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    seed_paid(engine, inp, {month_key(m): "600.00" for m in (m1, m2, m3)}, AREA)
    deceased = await second_member_died(handle, inp, m1)
    death_id = recovery_workflow_id(inp.household_id, person_key(deceased.id_number))
    await wait_for(lambda: opened_lines(engine, death_id), what="the death's receivable")
    death: RecoveryState = await client.get_workflow_handle_for(
        OverpaymentRecoveryWorkflow.run, death_id
    ).query(OverpaymentRecoveryWorkflow.get_state)
    assert [(x.period, x.overpaid) for x in death.lines] == [
        (month_key(m2), Decimal("300.00")),
        (month_key(m3), Decimal("300.00")),
    ]

    # The death's household review decides a stop this month (M2).
    result = await handle.execute_update(
        EntitlementWorkflow.record_review_outcome,
        ReviewOutcome(
            actor=actor(Role.COUNTY_OFFICER, COUNTY),
            outcome=ReviewOutcomeKind.STOP,
            reasons_zh="核实成员死亡，其余成员人均收入高于当地低保标准",
        ),
    )
    assert result.end_month == m2
    final = await run_to_the_end(env, handle, m3)

    rid = ending_recovery_workflow_id(case_id, m3)
    await wait_for(lambda: sorted(receivables_of(engine, case_id)) == sorted([death_id, rid]))
    state: RecoveryState = await client.get_workflow_handle_for(
        OverpaymentRecoveryWorkflow.run, rid
    ).query(OverpaymentRecoveryWorkflow.get_state)
    assert [(x.period, x.paid_amount, x.overpaid) for x in state.lines] == [
        (month_key(m3), Decimal("600.00"), Decimal("300.00"))
    ]
    assert state.amount == Decimal("300.00") and state.cause is RecoveryCause.ENDED
    opened = [t.note_zh for t in final.timeline if t.action == "recovery_opened"]
    assert opened[-1] == f"救助终止后多发救助金300.00元，已立案追回（{rid}）"
    # A death's receivable not yet in the read model is read from the workflow itself.
    acts = RecoveryActivities(engine, client)
    assert await acts._lines_of(death_id) == death.lines
    assert await acts._lines_of(f"{death_id}-none") == []


def opened_lines(engine: Engine, recovery_id: str) -> bool:
    """The receivable's ``open`` step is in the audit (what the ending reads)."""
    with Session(engine) as s:
        return (
            s.exec(
                select(AuditEntry.id).where(
                    AuditEntry.case_id == recovery_id, AuditEntry.action == "open"
                )
            ).first()
            is not None
        )
