"""The workflow's branching with stand-in activities (same names, no database) on a per-test task
queue of the session's real time-skipping server: a grant the fund cannot cover is refused with
nothing recorded; a prepayment never justified is reminded, escalated, rejected once due and
recovered, which closes the case; a 一事一议 plan pays its stages on their dates."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.deadlines import Deadline, DeadlineSpec, OutboxItem
from activities.policy import PolicyRequest
from activities.temporary.payloads import (
    CreditResult,
    DebitResult,
    EventClaim,
    PaymentOrder,
    PendingApplication,
    PendingLookup,
    PrepaymentDebit,
    PrepaymentRow,
    RecoveryCredit,
    RecoveryOpen,
)
from activities.temporary.reserve_fund import FundRefused
from jiuzhu.clock import at_beijing, beijing_date, beijing_today, end_of_day
from jiuzhu.contract import Actor
from jiuzhu.policy_files import load_policy_files
from jiuzhu.records import RecordStep
from jiuzhu.refusals import RefusalKind, refusal_of
from rules.policy import Policy, resolve_policy
from tests.factories import id_number
from workflows.applications.contract import ApplicantMember
from workflows.entitlements.contract import CardAccount
from workflows.sandbox import workflow_runner
from workflows.temporary.contract import (
    INSUFFICIENT_FUNDS,
    EventType,
    TemporaryProcedure,
    start_search_attributes,
)
from workflows.temporary.models import (
    AidEvent,
    DecideSpecial,
    GrantPrepayment,
    RecordRecovery,
    ReferToCounty,
    ReviewJustification,
    StagePlan,
    StepResult,
    TemporaryCaseInput,
    TemporaryCaseState,
)
from workflows.temporary.workflow import TemporaryCaseWorkflow

ROOT = Path(__file__).resolve().parents[2]


class StandIns:
    """Same-named activities that remember what the workflow asked for; the fund is a number."""

    def __init__(self) -> None:
        policies = load_policy_files(ROOT / "policies")
        self.policy = resolve_policy(policies, "419901001", beijing_today())
        self.fund = Decimal("300.00")
        self.outbox: list[str] = []
        self.actions: list[str] = []
        self.payments: list[str] = []
        self.recoveries: list[Decimal] = []

    @activity.defn(name="policy_in_force")
    async def policy_in_force(self, req: PolicyRequest) -> Policy:
        return self.policy

    @activity.defn(name="find_pending_application")
    async def find_pending_application(self, req: PendingLookup) -> PendingApplication | None:
        return None

    @activity.defn(name="record_step")
    async def record_step(self, step: RecordStep) -> None:
        self.actions += [a.action for a in step.audit]

    @activity.defn(name="record_prepayment")
    async def record_prepayment(self, row: PrepaymentRow) -> None:
        pass

    @activity.defn(name="compute_deadline")
    async def compute_deadline(self, spec: DeadlineSpec) -> Deadline:
        """Due at the end of the 14th day, reminded at 09:00 two days before."""
        return Deadline(
            spec=spec,
            due_date=spec.start + timedelta(days=14),
            due_at=end_of_day(spec.start + timedelta(days=14)),
            remind_at=at_beijing(spec.start + timedelta(days=12), time(9, 0)),
            provisional=False,
        )

    @activity.defn(name="post_outbox")
    async def post_outbox(self, item: OutboxItem) -> None:
        self.outbox.append(item.kind)

    @activity.defn(name="debit_prepayment")
    async def debit_prepayment(self, req: PrepaymentDebit) -> DebitResult:
        if req.amount > self.fund:
            refused = FundRefused(INSUFFICIENT_FUNDS, "备用金余额不足", "419901001", self.fund)
            raise refused.refusal().error()
        self.fund -= req.amount
        self.payments.append(req.idempotency_key)
        return DebitResult(
            ledger_entry_id=1,
            amount=req.amount,
            balance_after=self.fund,
            idempotency_key=req.idempotency_key,
        )

    @activity.defn(name="open_recovery")
    async def open_recovery(self, req: RecoveryOpen) -> None:
        self.outbox.append("recovery")

    @activity.defn(name="credit_recovery")
    async def credit_recovery(self, req: RecoveryCredit) -> CreditResult:
        self.fund += req.amount
        self.recoveries.append(req.amount)
        return CreditResult(ledger_entry_id=len(self.recoveries) + 1, balance_after=self.fund)

    @activity.defn(name="claim_event")
    async def claim_event(self, claim: EventClaim) -> None:
        pass

    @activity.defn(name="issue_payment")
    async def issue_payment(self, order: PaymentOrder) -> None:
        self.payments.append(order.idempotency_key)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.policy_in_force,
            self.find_pending_application,
            self.record_step,
            self.record_prepayment,
            self.compute_deadline,
            self.post_outbox,
            self.debit_prepayment,
            self.open_recovery,
            self.credit_recovery,
            self.claim_event,
            self.issue_payment,
        ]


@pytest_asyncio.fixture
async def stand_ins(client: Client) -> AsyncIterator[tuple[StandIns, str]]:
    fakes = StandIns()
    queue = f"temporary-branches-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[TemporaryCaseWorkflow],
        activities=fakes.all(),
        workflow_runner=workflow_runner(),
    ):
        yield fakes, queue


async def start(
    client: Client, queue: str, actors: dict[str, Actor]
) -> WorkflowHandle[TemporaryCaseWorkflow, TemporaryCaseState]:
    applicant = id_number(area6="110101")
    case_id = "TB" + uuid.uuid4().hex[:14].upper()
    inp = TemporaryCaseInput(
        case_id=case_id,
        procedure=TemporaryProcedure.EMERGENCY,
        area_code="419901001001",
        household_id="H" + case_id,
        members=[ApplicantMember(name="赵大勇", id_number=applicant, relation="applicant")],
        event=AidEvent(
            event_type=EventType.FIRE,
            event_date=beijing_today() - timedelta(days=1),
            description_zh="住房失火",
        ),
        card_account=CardAccount(
            holder_name="赵大勇", holder_id_number=applicant, account_number="6217000000001"
        ),
        registered_by=actors["township"],
        registered_at=datetime.now(UTC),
    )
    return await client.start_workflow(
        TemporaryCaseWorkflow.run,
        inp,
        id=f"temporary-{case_id}",
        task_queue=queue,
        search_attributes=start_search_attributes(),
    )


async def step(handle: WorkflowHandle[Any, Any], update: Any, arg: Any) -> StepResult:
    """One Update; its small result."""
    result = await handle.execute_update(update, arg)
    return StepResult.model_validate(result)


async def until(check: Callable[[], bool]) -> None:
    for _ in range(100):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_prepayment_refused_then_unjustified_escalated_rejected_and_recovered(
    env: WorkflowEnvironment,
    client: Client,
    stand_ins: tuple[StandIns, str],
    actors: dict[str, Actor],
) -> None:
    fakes, queue = stand_ins
    township, county = actors["township"], actors["county"]
    handle = await start(client, queue, actors)

    # The fund cannot cover the grant: refused (409 Conflict, code InsufficientFunds), no trace.
    grant = GrantPrepayment(actor=township, amount=Decimal("500.00"), reason_zh="火灾")
    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await step(handle, TemporaryCaseWorkflow.grant_prepayment, grant)
    refusal = refusal_of(exc.value)
    assert refusal is not None and refusal.kind is RefusalKind.CONFLICT
    assert refusal.extra["code"] == INSUFFICIENT_FUNDS
    state = await handle.query(TemporaryCaseWorkflow.get_state)
    assert state.prepayment is None and state.deadlines == [] and fakes.actions == ["register"]

    fakes.fund = Decimal("1000.00")
    result = await step(handle, TemporaryCaseWorkflow.grant_prepayment, grant)
    assert (result.status, result.outcome) == ("prepaid", None)

    reject = ReviewJustification(actor=county, accept=False, reason_zh="逾期未补充说明")
    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await step(handle, TemporaryCaseWorkflow.review_justification, reject)
    refusal = refusal_of(exc.value)
    assert refusal is not None and refusal.kind is RefusalKind.WRONG_STATE

    await env.fast_forward(handle, timedelta(days=13))  # past the reminder, before the due day
    await until(lambda: fakes.outbox == ["reminder"])
    await env.fast_forward(handle, timedelta(days=2))  # past the end of the due day
    await until(lambda: fakes.outbox == ["reminder", "escalation"])
    state = await handle.query(TemporaryCaseWorkflow.get_state)
    assert state.status == "prepaid" and state.deadlines[0].escalated_at is not None

    result = await step(handle, TemporaryCaseWorkflow.review_justification, reject)
    assert result.status == "recovery" and fakes.outbox[-1] == "recovery"
    for amount in ("200.00", "300.00"):
        result = await step(
            handle,
            TemporaryCaseWorkflow.record_recovery,
            RecordRecovery(
                actor=township,
                amount=Decimal(amount),
                recovered_on=beijing_today(),
                method_zh="退回",
            ),
        )
    assert (result.status, result.outcome) == ("closed", "recovered")
    final = await handle.result()
    assert final.outcome == "recovered" and fakes.recoveries == [Decimal(200), Decimal(300)]
    assert fakes.fund == Decimal("1000.00")
    assert fakes.outbox.count("escalation") == 1
    assert fakes.actions == [
        "register",
        "prepayment",
        "justification_rejected",
        "recovery",
        "recovery",
        "close",
    ]


async def test_special_plan_pays_each_stage_on_its_date(
    env: WorkflowEnvironment,
    client: Client,
    stand_ins: tuple[StandIns, str],
    actors: dict[str, Actor],
) -> None:
    fakes, queue = stand_ins
    handle = await start(client, queue, actors)
    await step(
        handle,
        TemporaryCaseWorkflow.refer_to_county,
        ReferToCounty(actor=actors["township"], need_amount=Decimal("3000"), situation_zh="重病"),
    )
    today = beijing_date(await env.get_current_time(handle))
    plan = [StagePlan(pay_on=today + timedelta(days=d), amount=Decimal(1000)) for d in (2, 5, 9)]
    result = await step(
        handle,
        TemporaryCaseWorkflow.decide_special,
        DecideSpecial(actor=actors["county"], approve=True, amount=Decimal(3000), stages=plan),
    )
    assert result.status == "paying" and fakes.payments == []
    await env.fast_forward(handle, timedelta(days=3))
    await until(lambda: len(fakes.payments) == 1)
    await env.fast_forward(handle, timedelta(days=7))
    final = await handle.result()
    assert (final.status, final.outcome) == ("closed", "aided")
    assert fakes.payments == [f"temporary:{final.case_id}:stage:{i}" for i in (1, 2, 3)]
    assert [p.kind for p in final.payments] == ["staged"] * 3


async def test_resumed_case_rearms_its_stages(
    env: WorkflowEnvironment,
    client: Client,
    stand_ins: tuple[StandIns, str],
    actors: dict[str, Actor],
) -> None:
    """After continue-as-new the state comes in through the input: nothing is registered again,
    the unpaid stage is woken on its date and paid once, and the case closes."""
    fakes, queue = stand_ins
    first = await start(client, queue, actors)
    await step(
        first,
        TemporaryCaseWorkflow.refer_to_county,
        ReferToCounty(actor=actors["township"], need_amount=Decimal("2000"), situation_zh="重病"),
    )
    today = beijing_date(await env.get_current_time(first))
    plan = [StagePlan(pay_on=today, amount=Decimal(1000))]
    plan.append(StagePlan(pay_on=today + timedelta(days=3), amount=Decimal(1000)))
    await step(
        first,
        TemporaryCaseWorkflow.decide_special,
        DecideSpecial(actor=actors["county"], approve=True, amount=Decimal(2000), stages=plan),
    )
    await until(lambda: len(fakes.payments) == 1)
    state = await first.query(TemporaryCaseWorkflow.get_state)
    await first.terminate("replaced by its continuation in this test")

    inp = TemporaryCaseInput(
        **state.model_dump(include=set(TemporaryCaseInput.model_fields) - {"resume"}),
        resume=state,
    )
    resumed = await client.start_workflow(
        TemporaryCaseWorkflow.run,
        inp,
        id=f"temporary-{state.case_id}-resumed",
        task_queue=queue,
        search_attributes=start_search_attributes(),
    )
    await env.fast_forward(resumed, timedelta(days=4))
    final = await resumed.result()
    assert (final.status, final.outcome) == ("closed", "aided")
    assert fakes.payments == [f"temporary:{state.case_id}:stage:{i}" for i in (1, 2)]
    assert fakes.actions.count("register") == 1
