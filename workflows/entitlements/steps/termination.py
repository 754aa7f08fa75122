"""渐退, 停发, 特困终止: how an entitlement ends (DOMAIN §4 termination).

- 渐退期 (低保办法 Art. 33 and the 2022 notice): income risen above the standard through work —
  paid for the policy's ``withdrawal_period`` more months, with a written notice, then ended.
- 停发 (低保办法 Art. 32): support stops from next month with a written notice and reasons.
- 特困终止 (特困办法 Art. 24–27): the proposed termination is published for 7 days; then support
  stops from next month with a written notice, and the transfer check to 低保 or temporary
  assistance is recorded.
- The end: after the last payable month the entitlement ends (deadlines cancelled, payment
  summary refreshed), and whatever the payroll already paid for months after that month is
  recovered (``open_ending_recovery``) — once the lines a bank still holds have been answered
  (``recover_when_settled``). Workflow code only."""

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.versions import RECOVERY_AFTER_SETTLEMENT
from workflows.entitlements.steps import changes, settlement

with workflow.unsafe.imports_passed_through():
    from activities.recoveries.activities import RecoveryActivities
    from activities.recoveries.models import OpenEndingRecoveryRequest, OpenRecoveryResult
    from jiuzhu.clock import workflow_today
    from rules.calendar import add_months
    from rules.periods import Period, PeriodUnit
    from workflows.entitlements.contract import EntitlementStatus, ShareStatus
    from workflows.entitlements.models import (
        TEKUN_TERMINATION_PUBLICITY,
        NoticeReason,
        ReviewOutcome,
        TransferCheck,
    )
    from workflows.entitlements.snapshots import applicant, payee_name

if TYPE_CHECKING:
    from workflows.entitlements.workflow import EntitlementWorkflow

TEKUN_BASIS = "《特困人员认定办法》（民发〔2021〕43号）"

REFERRALS_ZH = {
    TransferCheck.DIBAO: "经核查，你（家）符合最低生活保障条件，将转入最低生活保障。",
    TransferCheck.TEMPORARY: "经核查，你（家）可申请临时救助，已告知乡镇（街道）办理。",
    TransferCheck.NONE_ELIGIBLE: "经核查，暂不符合最低生活保障或临时救助条件。",
}


def in_months(period: Period) -> int:
    """A period in whole months (policy periods in days count 30 to the month, at least 1)."""
    return period.value if period.unit is PeriodUnit.MONTHS else max(1, period.value // 30)


async def start_withdrawal(case: "EntitlementWorkflow", reason: NoticeReason) -> str:
    """渐退期: paid through ``end_month`` (this month + withdrawal period), notice now."""
    s = case.state
    s.status = EntitlementStatus.WITHDRAWAL
    s.end_month = add_months(workflow_today().replace(day=1), in_months(s.withdrawal_period))
    return await case.notice(
        "termination", add_months(s.end_month, 1), [reason], withdrawal_until=s.end_month
    )


async def stop(case: "EntitlementWorkflow", reason: NoticeReason) -> str:
    """停发: this month is the last paid; the notice takes effect next month."""
    s = case.state
    s.end_month = workflow_today().replace(day=1)
    return await case.notice("termination", add_months(s.end_month, 1), [reason])


def propose_tekun_termination(case: "EntitlementWorkflow", inp: ReviewOutcome) -> None:
    """特困: 7 days of publicity first (the alarm wakes the case when it ends)."""
    s = case.state
    s.status = EntitlementStatus.TERMINATING
    s.termination_publicity_until = workflow_today() + timedelta(
        days=TEKUN_TERMINATION_PUBLICITY.value
    )
    s.termination_reason_zh = inp.reasons_zh
    s.transfer_check = inp.transfer_check


def publicity_over(case: "EntitlementWorkflow") -> bool:
    s = case.state
    return (
        s.status is EntitlementStatus.TERMINATING
        and s.termination_publicity_until is not None
        and s.end_month is None
        and workflow_today() > s.termination_publicity_until
    )


async def after_tekun_publicity(case: "EntitlementWorkflow") -> None:
    """特困办法 Art. 26–27: after 7 days of publicity, support stops from next month with a
    written notice; the transfer check to 低保/temporary assistance is recorded."""
    s = case.state
    s.end_month = workflow_today().replace(day=1)
    check = s.transfer_check or TransferCheck.NONE_ELIGIBLE
    notice_id = await case.notice(
        "termination",
        add_months(s.end_month, 1),
        [
            NoticeReason(
                text_zh=s.termination_reason_zh or "不再符合特困人员救助供养条件",
                basis=f"{TEKUN_BASIS}第二十四条至第二十七条",
            )
        ],
        referral=REFERRALS_ZH[check],
    )
    await case.record(
        "termination_confirmed",
        None,
        f"终止公示期满无异议，自{add_months(s.end_month, 1):%Y年%m月}起停止供养",
        notice_id=notice_id,
        transfer_check=s.transfer_check.value if s.transfer_check else None,
    )


async def end(case: "EntitlementWorkflow") -> None:
    """The last payable month is over: the entitlement ends. Every way an entitlement ends
    comes here — a stop (停发, also a reversed approval), the end of a gradual withdrawal, a 特困
    termination after its publicity, the end of a recognition's validity — so here is where
    months already paid beyond the last payable one are recovered (runs started before
    ``entitlement-recovery-on-end`` replay without it: ``recovers_on_end``)."""
    s = case.state
    s.status = EntitlementStatus.ENDED
    await case.book.cancel_all()
    await case.refresh_payments()
    await case.record(
        "ended",
        None,
        f"救助于{s.end_month:%Y年%m月}发放完毕后终止" if s.end_month else "救助终止",
    )
    if case.recovers_on_end:
        if case.versions.patched(RECOVERY_AFTER_SETTLEMENT):
            case.recovery_pending = True  # ``recover_when_settled``, once the bank has answered
        else:
            await open_ending_recovery(case)


async def recover_when_settled(case: "EntitlementWorkflow") -> None:
    """The ended entitlement's receivables, once the bank has answered the lines it still
    holds (``settlement.wait_after_end``): first the deaths' that were waiting (each claims the
    deceased's share), then the ending's (``open_ending_recovery``, less those claims)."""
    await settlement.wait_after_end(case)
    await changes.open_waiting_recoveries(case)
    if case.recovery_pending:
        await open_ending_recovery(case)


async def open_ending_recovery(case: "EntitlementWorkflow") -> None:
    """Money paid for months after the last payable month was not owed (低保办法 Art. 32 and
    特困办法 Art. 26: support stops from the month after; seed 000 四(四): 依法依规追回非法获取的
    物资、救助金). The activity reads the payroll lines already paid for those months — a month
    paid ahead by a backfill, or compiled and paid before the stop was recorded — and opens one
    receivable per entitlement and ending for what they paid for them (the whole amount of a
    later month), less what a member's death already recovers (its own receivable, issue 11
    item 3): ``recovery-<entitlement>-ended-<YYYYMM>``, its own workflow with its deadline,
    reminder and escalation. The timeline says so; nothing paid ahead opens nothing."""
    s = case.state
    if s.end_month is None:
        return
    person = applicant(s)
    notices = [n.notice_id for n in s.notices if n.kind == "termination"]
    opened: OpenRecoveryResult = await call(
        RecoveryActivities.open_ending_recovery,
        OpenEndingRecoveryRequest(
            entitlement_id=s.entitlement_id,
            household_id=s.household_id,
            programme=s.programme.value,
            area_code=s.area.code,
            applicant_id_number=person.id_number,
            applicant_name=person.name,
            start_month=s.start_month,
            last_payable_month=s.end_month.replace(day=1),
            monthly_amount=max(s.payable_amount, Decimal("0.00")).quantize(Decimal("0.01")),
            covered_members=max(1, sum(1 for m in s.members if m.status is ShareStatus.ACTIVE)),
            payee_name=payee_name(s),
            record_ref=notices[-1] if notices else f"{s.entitlement_id}:ended:{s.end_month:%Y-%m}",
            deceased_id_numbers=[
                m.id_number
                for m in s.members
                if m.status in (ShareStatus.SUSPENDED, ShareStatus.DECEASED)
            ],
        ),
        timeout=timedelta(minutes=1),
    )
    if opened.recovery_id is not None:
        await case.record(
            "recovery_opened",
            None,
            f"救助终止后多发救助金{opened.amount}元，已立案追回（{opened.recovery_id}）",
            recovery_id=opened.recovery_id,
            amount=str(opened.amount),
            cause="ended",
        )
