"""The entitlement's branching on a per-test task queue, with same-named stand-ins for the
activities that write (read model, audit, notices, outbox), so the test is about the workflow:
a death suspends the share and opens the household review; the county decides gradual
withdrawal (渐退期); the alarm ends the entitlement after the last payable month and asks once for
the receivable of months paid after it."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.deadlines import DeadlineActivities, OutboxItem
from activities.entitlements.models import (
    AccountSnapshot,
    NoticeRef,
    NoticeRequest,
    PaymentSummary,
    SummaryRequest,
)
from activities.policy import PolicyActivities
from activities.recoveries.models import (
    OpenEndingRecoveryRequest,
    OpenRecoveryRequest,
    OpenRecoveryResult,
)
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Role
from jiuzhu.records import RecordStep
from jiuzhu.settings import Settings
from rules.calendar import add_months
from tests.entitlements.helpers import actor, approved_case, start_entitlement, wait_for
from workflows.entitlements.contract import DeathNotification, EntitlementStatus, ShareStatus
from workflows.entitlements.models import ReviewKind, ReviewOutcome, ReviewOutcomeKind
from workflows.entitlements.workflow import EntitlementWorkflow

AREA = "419901002001"


class StandIns:
    def __init__(self) -> None:
        self.accounts: list[AccountSnapshot] = []
        self.actions: list[str] = []
        self.notices: list[NoticeRequest] = []
        self.outbox: list[OutboxItem] = []
        self.endings: list[OpenEndingRecoveryRequest] = []

    @activity.defn(name="publish_account")
    def publish_account(self, a: AccountSnapshot) -> None:
        self.accounts.append(a)

    @activity.defn(name="record_step")
    def record_step(self, step: RecordStep) -> None:
        self.actions += [a.action for a in step.audit]

    @activity.defn(name="issue_notice")
    def issue_notice(self, req: NoticeRequest) -> NoticeRef:
        self.notices.append(req)
        return NoticeRef(
            notice_id=req.notice_id, kind=req.kind, title="通知书", issued_on=req.issued_on
        )

    @activity.defn(name="post_outbox")
    def post_outbox(self, item: OutboxItem) -> None:
        self.outbox.append(item)

    @activity.defn(name="payment_summary")
    def payment_summary(self, req: SummaryRequest) -> PaymentSummary:
        return PaymentSummary(paid_count=7, paid_total=Decimal("4200.00"))

    @activity.defn(name="payments_in_flight")
    def payments_in_flight(self, req: SummaryRequest) -> int:
        return 0  # the bank has answered every line

    @activity.defn(name="open_overpayment_recovery")
    def open_overpayment_recovery(self, req: OpenRecoveryRequest) -> OpenRecoveryResult:
        return OpenRecoveryResult()  # nothing was paid after the death

    @activity.defn(name="open_ending_recovery")
    def open_ending_recovery(self, req: OpenEndingRecoveryRequest) -> OpenRecoveryResult:
        self.endings.append(req)
        return OpenRecoveryResult()  # nothing was paid after the last payable month


async def test_death_then_withdrawal_then_end(
    env: WorkflowEnvironment, client: Client, settings: Settings, engine: Engine
) -> None:
    queue = f"entitlement-branching-{uuid.uuid4().hex[:6]}"
    stand = StandIns()
    policy = PolicyActivities(engine, settings.policies_dir)
    deadlines = DeadlineActivities(engine)
    today = beijing_today()
    inp = approved_case(AREA, start_month=today.replace(day=1), amount="900.00", members=3)
    async with Worker(
        client,
        task_queue=queue,
        workflows=[EntitlementWorkflow],
        activity_executor=ThreadPoolExecutor(max_workers=4),
        activities=[
            policy.policy_in_force,
            deadlines.compute_deadline,
            stand.publish_account,
            stand.record_step,
            stand.issue_notice,
            stand.post_outbox,
            stand.payment_summary,
            stand.payments_in_flight,
            stand.open_overpayment_recovery,
            stand.open_ending_recovery,
        ],
    ):
        handle = await start_entitlement(client, queue, inp)
        death = await handle.execute_update(
            EntitlementWorkflow.record_death,
            DeathNotification(
                id_number=inp.household.members[2].id_number,
                date_of_death=today - timedelta(days=1),
                source="死亡比对（测试）",
                record_ref="death_record:branching",
            ),
        )
        assert death.applied and death.review_id is not None
        state = await handle.query(EntitlementWorkflow.get_state)
        assert state.review is not None and state.review.kind is ReviewKind.DEATH
        assert state.payable_amount == Decimal("600.00")
        assert stand.accounts[-1].members_paid == 2
        assert stand.accounts[-1].county_code == AREA[:6]
        assert stand.accounts[-1].township_code == AREA[:9]

        result = await handle.execute_update(
            EntitlementWorkflow.record_review_outcome,
            ReviewOutcome(
                actor=actor(Role.COUNTY_OFFICER, AREA[:6]),
                outcome=ReviewOutcomeKind.WITHDRAW,
                reasons_zh="成员务工收入超过低保标准",
            ),
        )
        end_month = add_months(today.replace(day=1), 6)
        assert result.status is EntitlementStatus.WITHDRAWAL and result.end_month == end_month
        assert [n.kind for n in stand.notices] == ["termination"]
        assert stand.notices[0].withdrawal_until == end_month
        state = await handle.query(EntitlementWorkflow.get_state)
        assert state.member(inp.household.members[2].id_number).status is ShareStatus.DECEASED  # type: ignore[union-attr]
        assert state.cycle == 0  # a withdrawal is not a new cycle

        await env.fast_forward(handle, timedelta(days=31 * 8))
        final = await wait_for(handle.result, seconds=30, what="the end after withdrawal")
        assert final.status is EntitlementStatus.ENDED
        assert final.payments.paid_count == 7
        assert stand.accounts[-1].status == "ended"
        assert stand.actions[:2] == ["enrol", "share_suspended"]
        assert stand.actions[-1] == "ended"
        # The ending asks once for a receivable of months paid after the last payable one,
        # leaving out the deceased's share (their own receivable claims it).
        assert [(e.last_payable_month, e.deceased_id_numbers) for e in stand.endings] == [
            (end_month, [inp.household.members[2].id_number])
        ]
