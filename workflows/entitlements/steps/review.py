"""定期核查: reviews of an entitlement (DOMAIN §5). The periodic review opens on the entitlement's
own clock (低保办法 Art. 31: every 12 months, 6 where members can work; 边缘 yearly); a household
review follows a member's death (within 3 months) or an investigation that found a change. The
county decides: continue; adjust the amount from next month (a reduction with a written notice,
低保办法 Art. 32); or stop / withdraw (``termination``). A decided review that leaves the case
paying starts a new cycle (continue-as-new). Workflow code only."""

from typing import TYPE_CHECKING

from temporalio import workflow

from workflows.entitlements.steps import termination

with workflow.unsafe.imports_passed_through():
    from jiuzhu.clock import workflow_today
    from rules.calendar import add_months
    from rules.programmes import Programme
    from rules.reasons import ReasonCode
    from workflows.entitlements.amounts import recompute_payable, share_amount
    from workflows.entitlements.contract import EntitlementStatus, ShareStatus
    from workflows.entitlements.models import (
        REVIEW_COMPLETION,
        NoticeReason,
        ReviewKind,
        ReviewOutcome,
        ReviewOutcomeKind,
        ReviewResult,
        ReviewTask,
    )

if TYPE_CHECKING:
    from workflows.entitlements.workflow import EntitlementWorkflow


def reason(inp: ReviewOutcome, default: ReasonCode | None) -> NoticeReason:
    return NoticeReason(text_zh=inp.reasons_zh, code=inp.reason_code or default)


async def open_review(
    case: "EntitlementWorkflow", kind: ReviewKind, reason_zh: str, deadline: bool = True
) -> str:
    """Open a review; its completion deadline (a death review runs on ``death_review``)."""
    review_id = case.mint("R")
    name = "death_review" if not deadline else f"review:{review_id}"
    case.state.review = ReviewTask(
        review_id=review_id,
        kind=kind,
        opened_at=workflow.now(),
        reason_zh=reason_zh,
        deadline_name=name,
    )
    if deadline:
        label = {
            ReviewKind.PERIODIC: "定期核查",
            ReviewKind.COVERAGE_AGE: "年满18周岁在校核查",
        }.get(kind, "复核")
        await case.book.start(case.spec(name, label, REVIEW_COMPLETION))
    await case.record("review_opened", None, reason_zh, review_id=review_id, kind=kind.value)
    return review_id


async def open_coverage_review(case: "EntitlementWorkflow") -> str:
    """特困 minors (特困办法, DOMAIN §4 termination): support covers a minor to the coverage age
    (policy ``tekun_minor_coverage_age``, 18) and longer while in school. On that day the
    entitlement opens a review with its completion deadline: the township checks schooling and
    the county decides — continue (in school; later periodic reviews check it again) or stop
    (7-day publicity first, 特困办法 Art. 24–27)."""
    s = case.state
    assert s.coverage_until is not None
    age = s.coverage_until.year - case.inp.household.applicant.birth_date.year
    return await open_review(
        case,
        ReviewKind.COVERAGE_AGE,
        f"特困人员于{s.coverage_until:%Y年%m月%d日}年满{age}周岁，核查是否仍在校就读"
        "（在校就读的可继续享受救助供养）",
    )


async def decide(case: "EntitlementWorkflow", inp: ReviewOutcome) -> ReviewResult:
    """The county's decision on the open review (validated by ``checks.check_review_outcome``)."""
    s = case.state
    task = s.review
    assert task is not None
    today = workflow_today()
    next_month = add_months(today.replace(day=1), 1)
    if inp.confirm_deaths:
        for m in s.members:
            if m.status is ShareStatus.SUSPENDED and "死亡" in m.note_zh:
                m.status = ShareStatus.DECEASED
    notice_id: str | None = None
    if inp.outcome is ReviewOutcomeKind.CONTINUE:
        recompute_payable(s)
        if s.status is EntitlementStatus.SUSPENDED and s.payable_amount > 0:
            s.status = EntitlementStatus.ACTIVE
    elif inp.outcome is ReviewOutcomeKind.ADJUST:
        assert inp.new_amount is not None
        previous = s.payable_amount
        s.next_monthly_amount = inp.new_amount
        s.next_amount = share_amount(s, inp.new_amount)
        s.next_amount_from = next_month
        if s.next_amount < previous:
            notice_id = await case.notice(
                "reduction",
                next_month,
                [reason(inp, ReasonCode.INCOME_BELOW_STANDARD)],
                previous_amount=previous,
                new_amount=s.next_amount,
            )
    elif inp.outcome is ReviewOutcomeKind.WITHDRAW:
        notice_id = await termination.start_withdrawal(
            case, reason(inp, ReasonCode.INCOME_NOT_BELOW_STANDARD)
        )
    elif s.programme is Programme.TEKUN:
        termination.propose_tekun_termination(case, inp)
    else:
        notice_id = await termination.stop(case, reason(inp, inp.reason_code))
    task.closed_at = workflow.now()
    task.outcome = inp.outcome
    task.decided_by = inp.actor
    s.past_reviews += 1
    await case.book.meet(task.deadline_name)
    await case.book.meet("death_review")
    if task.kind is ReviewKind.PERIODIC:
        s.next_review = add_months(s.next_review, case.review_months())
    if task.kind is ReviewKind.COVERAGE_AGE:
        s.coverage_until = None  # decided: in school (continue) or ending (stop)
    s.review = None
    await case.record(
        "review_decided",
        inp.actor,
        f"核查结论：{inp.outcome.value}；{inp.reasons_zh}",
        review_id=task.review_id,
        outcome=inp.outcome.value,
        new_amount=str(inp.new_amount) if inp.new_amount is not None else None,
        per_capita_income=str(inp.per_capita_income) if inp.per_capita_income is not None else None,
        transfer_check=inp.transfer_check.value if inp.transfer_check else None,
        notice_id=notice_id,
    )
    if s.status in (EntitlementStatus.ACTIVE, EntitlementStatus.SUSPENDED):
        case.continue_requested = True  # a new review cycle: continue-as-new
    return ReviewResult(
        status=s.status,
        payable_amount=s.payable_amount,
        end_month=s.end_month,
        next_review=s.next_review if s.status is EntitlementStatus.ACTIVE else None,
        notice_id=notice_id,
    )
