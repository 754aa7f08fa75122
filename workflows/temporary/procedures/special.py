"""一事一议 (民发〔2018〕23号: 对于救助金额较大的，提交县级困难群众基本生活保障工作协调机制
"一事一议"): a need above the township's prepayment cap is referred to the county, which
decides the amount and may approve it in stages (一次审批、分阶段救助). Each stage is paid from
county funds on its date (00:00 Beijing), once (idempotency key case + stage), woken by the
case's alarm (keys ``stage:<index>``)."""

from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError

from activities.deadlines import DeadlineActivities, DeadlineSpec, OutboxItem
from activities.temporary.cases import TemporaryActivities
from activities.temporary.payloads import PaymentOrder
from jiuzhu.calls import call
from jiuzhu.clock import start_of_day, workflow_today
from jiuzhu.contract import Role
from jiuzhu.versions import SPECIAL_DECISION_DEADLINE as SPECIAL_DECISION_PATCH
from rules.money import format_yuan
from workflows.payments.contract import PaymentKind
from workflows.temporary.case import TemporaryCase
from workflows.temporary.contract import SPECIAL_DECISION_DEADLINE, stage_key
from workflows.temporary.models import (
    DecideSpecial,
    PaymentRecord,
    Referral,
    ReferToCounty,
    Signature,
    SpecialDecision,
    Stage,
)
from workflows.temporary.procedures.emergency import MONEY_RETRY, business_refusal

STAGE_PREFIX = "stage:"
PAYMENT_TIMEOUT = timedelta(seconds=30)


async def refer_to_county(case: TemporaryCase, cmd: ReferToCounty) -> None:
    """提请县级一事一议: record the referral, tell the county (a notice in the outbox) and start
    the county's decision deadline (policy ``special_decision``, default 10 working days;
    reminder to the county, escalation to the county's supervisors), met by the decision."""
    s = case.state
    s.referral = Referral(
        need_amount=cmd.need_amount,
        situation_zh=cmd.situation_zh,
        referred_by=cmd.actor,
        referred_at=workflow.now(),
    )
    workflow_id = workflow.info().workflow_id
    await call(
        DeadlineActivities.post_outbox,
        OutboxItem(
            dedupe_key=f"{workflow_id}:referral",
            kind="notice",
            recipient_role=Role.COUNTY_OFFICER.value,
            recipient_area=s.area.county,
            case_id=s.case_id,
            workflow_id=workflow_id,
            message_zh=(
                f"一事一议：案件{s.case_id}所需救助{format_yuan(cmd.need_amount)}"
                f"超过乡镇先行救助上限，请提交县级困难群众基本生活保障工作协调机制研究。"
            ),
        ),
    )
    if workflow.patched(SPECIAL_DECISION_PATCH):
        assert s.policy is not None
        await case.book.start(
            DeadlineSpec(
                name=SPECIAL_DECISION_DEADLINE,
                label_zh="县级一事一议决定",
                start=workflow_today(),
                period=s.policy.special_decision,
                reminder_lead=s.policy.reminder_lead,
                responsible_role=Role.COUNTY_OFFICER,
                responsible_area=s.area.county,
                escalation_role=Role.AUDITOR,
                escalation_area=s.area.county,
                basis="民发〔2018〕23号、晋民发〔2022〕38号二.7：数额较大的提交县级困难群众基本生活"
                "保障工作协调机制一事一议；期限为本地政策参数",
            )
        )
    await case.record(
        "referral",
        cmd.actor,
        f"提请县级一事一议，所需救助{format_yuan(cmd.need_amount)}",
        need_amount=str(cmd.need_amount),
    )


async def decide_special(case: TemporaryCase, cmd: DecideSpecial) -> None:
    """The county's 一事一议 decision. A refusal settles the referral; an approval claims the
    event (refused if another case aided it without a repeat reason) and plans the stages (one
    stage today when no plan is given), each woken by the alarm on its date."""
    s = case.state
    signature = Signature(officer=cmd.actor, signed_at=workflow.now(), opinion_zh=cmd.reason_zh)
    if not cmd.approve:
        await case.book.meet(SPECIAL_DECISION_DEADLINE)  # none if referred before the patch
        s.special_decision = SpecialDecision(
            approved=False,
            amount=Decimal("0.00"),
            meeting_ref=cmd.meeting_ref,
            reason_zh=cmd.reason_zh,
            county_signature=signature,
        )
        await case.record("special_refused", cmd.actor, f"一事一议不予救助：{cmd.reason_zh}")
        await case.settle()
        return
    assert cmd.amount is not None
    try:
        await call(
            TemporaryActivities.claim_event, case.claim(cmd.repeat_reason), retry_policy=MONEY_RETRY
        )
    except ActivityError as err:
        raise business_refusal(err) from None
    await case.book.meet(SPECIAL_DECISION_DEADLINE)
    plan = [(p.pay_on, p.amount) for p in cmd.stages] or [(workflow_today(), cmd.amount)]
    s.special_decision = SpecialDecision(
        approved=True,
        amount=cmd.amount,
        stages=[
            Stage(index=i, pay_on=d, amount=a, payment_key=stage_key(s.case_id, i))
            for i, (d, a) in enumerate(plan, start=1)
        ],
        meeting_ref=cmd.meeting_ref,
        reason_zh=cmd.reason_zh,
        county_signature=signature,
        repeat_reason=cmd.repeat_reason,
    )
    arm_stages(case)
    await case.record(
        "special_decision",
        cmd.actor,
        f"一事一议批准救助{format_yuan(cmd.amount)}，分{len(plan)}次发放",
        amount=str(cmd.amount),
        stages=[{"pay_on": d.isoformat(), "amount": str(a)} for d, a in plan],
        meeting_ref=cmd.meeting_ref,
    )


def arm_stages(case: TemporaryCase) -> None:
    """Set a wake-up at 00:00 Beijing on the date of every unpaid stage (after a decision, and
    after continue-as-new)."""
    d = case.state.special_decision
    if d is None or not d.approved or case.state.closed_at is not None:
        return
    for stage in d.unpaid():
        case.alarm.set(f"{STAGE_PREFIX}{stage.index}", start_of_day(stage.pay_on))


def stage_keys(keys: list[str]) -> list[int]:
    """The stage indexes among the alarm's due keys, in plan order."""
    return sorted(int(k.removeprefix(STAGE_PREFIX)) for k in keys if k.startswith(STAGE_PREFIX))


async def pay_due_stages(case: TemporaryCase, keys: list[str]) -> None:
    """Pay every stage whose wake-up came, in plan order."""
    d = case.state.special_decision
    if d is None:
        return
    for index in stage_keys(keys):
        stage = next((st for st in d.stages if st.index == index), None)
        if stage is not None and stage.paid_at is None:
            await _pay_stage(case, stage, len(d.stages))


async def _pay_stage(case: TemporaryCase, stage: Stage, total: int) -> None:
    """A county-funded instruction (kind ``staged``): a regular activity with the default
    (unlimited) retries, since no officer waits for it and the money must go out."""
    s = case.state
    await workflow.execute_activity_method(
        TemporaryActivities.issue_payment,
        PaymentOrder(
            idempotency_key=stage.payment_key,
            kind=PaymentKind.STAGED,
            case_id=s.case_id,
            household_id=s.household_id,
            area=s.area,
            period=stage.pay_on.isoformat(),
            amount=stage.amount,
            payee=case.payee(),
        ),
        start_to_close_timeout=PAYMENT_TIMEOUT,
    )
    stage.paid_at = workflow.now()
    s.payments.append(
        PaymentRecord(
            idempotency_key=stage.payment_key,
            kind=PaymentKind.STAGED,
            funding_source="county",
            amount=stage.amount,
            period=stage.pay_on.isoformat(),
            issued_at=stage.paid_at,
        )
    )
    await case.record(
        "stage_paid",
        None,
        f"分阶段救助第{stage.index}/{total}次发放{format_yuan(stage.amount)}",
        stage=stage.index,
        amount=str(stage.amount),
        payment_key=stage.payment_key,
    )
