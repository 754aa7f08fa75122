"""急难型 temporary assistance (民发〔2018〕23号: 小金额先行救助，事后补充说明): the township pays a
small amount at once from its reserve fund; a justification deadline (``policy.
prepayment_justification``, reminder to the township, escalation to the county) runs until the
township records who was helped, why, how much, the investigation and its signature; the county
accepts it, or rejects it (also when none came in time), which opens recovery (追回) of the
amount back into the fund.

Money moves first (one idempotent activity, one transaction), state changes after it: a
refusal leaves no trace."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from activities.deadlines import DeadlineSpec
from activities.temporary.cases import TemporaryActivities
from activities.temporary.payloads import PrepaymentDebit, RecoveryCredit, RecoveryOpen
from activities.temporary.reserve_fund import ReserveFundActivities
from jiuzhu.calls import call
from jiuzhu.clock import workflow_today
from jiuzhu.refusals import refusal_of
from rules.money import format_yuan
from workflows.payments.contract import PaymentKind
from workflows.temporary.case import TemporaryCase
from workflows.temporary.contract import JUSTIFICATION_DEADLINE, prepayment_key, recovery_key
from workflows.temporary.models import (
    GrantPrepayment,
    Justification,
    JustificationReview,
    PaymentRecord,
    Prepayment,
    RecordRecovery,
    Recovery,
    RecoveryEntry,
    ReviewJustification,
    Signature,
    SubmitJustification,
)

MONEY_TIMEOUT = timedelta(seconds=30)
# Reserve-fund movements called from an Update: regular activities (the server records each
# attempt and the result, the ledger entry id, durably), with bounded retries so the officer
# gets an answer; each is idempotent by key, so the officer's retry completes the same movement.
MONEY_RETRY = RetryPolicy(maximum_attempts=8, maximum_interval=timedelta(seconds=10))


def business_refusal(err: ActivityError) -> BaseException:
    """The activity's refusal (InsufficientFunds, NoReserveFund, EventAlreadyAided …) re-raised
    as the Update's own refusal; any other failure unchanged."""
    refusal = refusal_of(err)
    return refusal.error() if refusal is not None else err


async def grant_prepayment(case: TemporaryCase, cmd: GrantPrepayment) -> None:
    """小金额先行救助: debit the reserve fund and issue the instruction (one activity, one
    transaction), then record the prepayment and open the justification deadline."""
    s = case.state
    assert s.policy is not None
    key = prepayment_key(s.case_id)
    today = workflow_today()
    try:
        debit = await workflow.execute_activity_method(
            ReserveFundActivities.debit_prepayment,
            PrepaymentDebit(
                case_id=s.case_id,
                area=s.area,
                household_id=s.household_id,
                idempotency_key=key,
                amount=cmd.amount,
                payee=case.payee(),
                period=today.isoformat(),
                actor=cmd.actor,
                note_zh=f"先行救助：{cmd.reason_zh}",
                claim=case.claim(cmd.repeat_reason),
            ),
            start_to_close_timeout=MONEY_TIMEOUT,
            retry_policy=MONEY_RETRY,
        )
    except ActivityError as err:
        raise business_refusal(err) from None
    now = workflow.now()
    s.prepayment = Prepayment(
        amount=debit.amount,
        reason_zh=cmd.reason_zh,
        granted_by=cmd.actor,
        granted_at=now,
        payment_key=key,
        ledger_entry_id=debit.ledger_entry_id,
        fund_balance_after=debit.balance_after,
        repeat_reason=cmd.repeat_reason or s.repeat_reason,
    )
    s.payments.append(
        PaymentRecord(
            idempotency_key=key,
            kind=PaymentKind.PREPAYMENT,
            funding_source="reserve_fund",
            amount=debit.amount,
            period=today.isoformat(),
            issued_at=now,
        )
    )
    await case.book.start(
        DeadlineSpec.owed_by_township(
            name=JUSTIFICATION_DEADLINE,
            label_zh="先行救助事后补充说明",
            start=today,
            period=s.policy.prepayment_justification,
            reminder_lead=s.policy.reminder_lead,
            area=s.area,
            basis="民发〔2018〕23号：小金额先行救助，事后补充说明；期限为本地政策参数",
        )
    )
    await case.record(
        "prepayment",
        cmd.actor,
        f"先行救助{format_yuan(debit.amount)}（备用金支出，余额{format_yuan(debit.balance_after)}）",
        amount=str(debit.amount),
        reason_zh=cmd.reason_zh,
        payment_key=key,
        ledger_entry_id=debit.ledger_entry_id,
        repeat_reason=cmd.repeat_reason,
    )


async def submit_justification(case: TemporaryCase, cmd: SubmitJustification) -> None:
    """事后补充说明 with the township's signature (民发〔2018〕23号: 补齐审核审批手续); meets the
    justification deadline (late if already due)."""
    s = case.state
    assert s.prepayment is not None
    deadline = case.book.get(JUSTIFICATION_DEADLINE)
    now = workflow.now()
    late = deadline is not None and now >= deadline.due_at
    applicant = s.applicant
    s.prepayment.justification = Justification(
        beneficiary_name=cmd.beneficiary_name or applicant.name,
        beneficiary_id_number=cmd.beneficiary_id_number or applicant.id_number,
        reason_zh=cmd.reason_zh,
        amount=cmd.amount,
        investigation=cmd.investigation,
        township_signature=Signature(officer=cmd.actor, signed_at=now, opinion_zh=cmd.opinion_zh),
        late=late,
    )
    await case.book.meet(JUSTIFICATION_DEADLINE)
    await case.record(
        "justification",
        cmd.actor,
        "提交先行救助事后补充说明（乡镇签批）" + ("（逾期）" if late else ""),
        late=late,
        investigators=cmd.investigation.investigators,
    )


async def review_justification(case: TemporaryCase, cmd: ReviewJustification) -> None:
    """The county record: accept the justification, or reject it, which opens recovery of the
    amount (a task to the township in the outbox)."""
    s = case.state
    p = s.prepayment
    assert p is not None
    now = workflow.now()
    p.review = JustificationReview(
        accepted=cmd.accept,
        reason_zh=cmd.reason_zh,
        county_signature=Signature(officer=cmd.actor, signed_at=now, opinion_zh=cmd.reason_zh),
    )
    if cmd.accept:
        await case.record("justification_accepted", cmd.actor, "县级审核通过补充说明")
    else:
        await case.book.cancel(JUSTIFICATION_DEADLINE)
        p.recovery = Recovery(amount_due=p.amount, opened_at=now)
        await call(
            TemporaryActivities.open_recovery,
            RecoveryOpen(
                case_id=s.case_id,
                workflow_id=workflow.info().workflow_id,
                area=s.area,
                amount=p.amount,
                reason_zh=cmd.reason_zh,
                opened_by=cmd.actor,
                opened_at=now,
            ),
        )
        await case.record(
            "justification_rejected",
            cmd.actor,
            f"县级审核不予通过：{cmd.reason_zh}；追回{format_yuan(p.amount)}",
            reason_zh=cmd.reason_zh,
            unjustified=p.justification is None,
        )
    await case.settle()


async def record_recovery(case: TemporaryCase, cmd: RecordRecovery) -> None:
    """A recovered amount is credited back to the reserve fund (idempotent per entry); the
    recovery closes when nothing is outstanding."""
    s = case.state
    assert s.prepayment is not None and s.prepayment.recovery is not None
    rec = s.prepayment.recovery
    closes = cmd.amount == rec.outstanding
    n = len(rec.entries) + 1
    try:
        credited = await workflow.execute_activity_method(
            ReserveFundActivities.credit_recovery,
            RecoveryCredit(
                case_id=s.case_id,
                township_code=s.area.township,
                dedupe_key=recovery_key(s.case_id, n),
                amount=cmd.amount,
                closes=closes,
                actor=cmd.actor,
                note_zh=f"追回先行救助款：{cmd.method_zh}",
            ),
            start_to_close_timeout=MONEY_TIMEOUT,
            retry_policy=MONEY_RETRY,
        )
    except ActivityError as err:
        raise business_refusal(err) from None
    now = workflow.now()
    rec.entries.append(
        RecoveryEntry(
            amount=cmd.amount,
            recovered_on=cmd.recovered_on,
            method_zh=cmd.method_zh,
            recorded_by=cmd.actor,
            recorded_at=now,
            ledger_entry_id=credited.ledger_entry_id,
        )
    )
    if closes:
        rec.closed_at = now
    await case.record(
        "recovery",
        cmd.actor,
        f"追回{format_yuan(cmd.amount)}，已退回备用金" + ("（追回完毕）" if closes else ""),
        amount=str(cmd.amount),
        ledger_entry_id=credited.ledger_entry_id,
    )
    await case.settle()
