"""变更: changes during an entitlement (DOMAIN §5). A reported change or a data-comparison flag
opens an investigation with a deadline — nobody is stopped on a flag alone (seed 002); a death
suspends that member's share at once and opens the household review (due within the policy's
``death_review``, 3 months); the ``work_refusal_limit``-th (3rd) unjustified refusal of
suitable work cuts that person's share from next month with a written notice (低保办法
Art. 34); the county records a new card account. Workflow code only."""

from typing import TYPE_CHECKING

from temporalio import workflow

from workflows.entitlements.steps import review

with workflow.unsafe.imports_passed_through():
    from jiuzhu.clock import workflow_today
    from jiuzhu.contract import Actor
    from rules.calendar import add_months
    from workflows.entitlements.amounts import recompute_payable, share_amount
    from workflows.entitlements.checks import investigation
    from workflows.entitlements.contract import ShareStatus
    from workflows.entitlements.models import (
        CHANGE_INVESTIGATION,
        CHANGE_NAMES_ZH,
        CardAccountChange,
        ChangeKind,
        ChangeReceipt,
        ChangeReport,
        DeathNotification,
        DeathResult,
        Investigation,
        InvestigationClose,
        NoticeReason,
        ReviewKind,
        WorkRefusal,
        WorkRefusalResult,
    )

if TYPE_CHECKING:
    from workflows.entitlements.workflow import EntitlementWorkflow

DIBAO_BASIS = "《最低生活保障审核确认办法》（民发〔2021〕57号）"


async def report_change(case: "EntitlementWorkflow", inp: ChangeReport) -> ChangeReceipt:
    s = case.state
    inv_id = case.mint("I")
    deadline_name = f"investigation:{inv_id}"
    s.investigations.append(
        Investigation(
            investigation_id=inv_id,
            kind=inp.kind,
            member_id_number=inp.member_id_number,
            description_zh=inp.description_zh,
            reported_by=inp.actor,
            opened_at=workflow.now(),
            deadline_name=deadline_name,
        )
    )
    await case.book.start(
        case.spec(deadline_name, f"{CHANGE_NAMES_ZH[inp.kind]}调查核实", CHANGE_INVESTIGATION)
    )
    await case.record(
        "change_reported",
        inp.actor,
        f"{CHANGE_NAMES_ZH[inp.kind]}：{inp.description_zh}",
        investigation_id=inv_id,
        kind=inp.kind.value,
    )
    review_id = None
    if inp.kind is ChangeKind.DEATH and inp.member_id_number:
        review_id = await apply_death(
            case,
            DeathNotification(
                id_number=inp.member_id_number,
                date_of_death=inp.occurred_on or workflow_today(),
                source="reported",
                record_ref=inv_id,
            ),
            inp.actor,
        )
    return ChangeReceipt(investigation_id=inv_id, review_id=review_id)


async def close_investigation(
    case: "EntitlementWorkflow", inp: InvestigationClose
) -> ChangeReceipt:
    """The township records its finding; if circumstances changed it opens a review (the county
    decides any change of amount in the review)."""
    s = case.state
    inv = investigation(s, inp.investigation_id)
    assert inv is not None  # the validator checked
    inv.closed_at = workflow.now()
    inv.closed_by = inp.actor
    inv.finding_zh = inp.finding_zh
    await case.book.meet(inv.deadline_name)
    review_id = None
    if inp.open_review:
        inv.review_opened = True
        if s.review is None:
            review_id = await review.open_review(
                case, ReviewKind.CHANGE, f"情况变化调查结论：{inp.finding_zh}"
            )
        else:
            review_id = s.review.review_id
    await case.record(
        "investigation_closed",
        inp.actor,
        inp.finding_zh,
        investigation_id=inv.investigation_id,
        review_opened=inp.open_review,
    )
    return ChangeReceipt(investigation_id=inv.investigation_id, review_id=review_id)


async def record_death(case: "EntitlementWorkflow", inp: DeathNotification) -> DeathResult:
    """Monthly death check (seed 002); idempotent per person."""
    m = case.state.member(inp.id_number)
    if m is None or m.status is not ShareStatus.ACTIVE:
        return DeathResult(applied=False)
    review_id = await apply_death(case, inp, None)
    return DeathResult(applied=True, review_id=review_id)


async def apply_death(
    case: "EntitlementWorkflow", inp: DeathNotification, actor: Actor | None
) -> str | None:
    """Suspend the person's share at once and open (or extend) the household review."""
    s = case.state
    m = s.member(inp.id_number)
    if m is None or m.status is not ShareStatus.ACTIVE:
        return s.review.review_id if s.review else None
    m.status = ShareStatus.SUSPENDED
    m.note_zh = f"{inp.date_of_death:%Y-%m-%d}死亡（{inp.source}），暂停其份额"
    s.seen_deaths.append(inp.record_ref)
    recompute_payable(s)
    await case.record(
        "share_suspended",
        actor,
        f"{m.name}死亡，自即日起暂停其救助份额，本户每月发放{s.payable_amount}元",
        id_number=m.id_number,
        date_of_death=inp.date_of_death.isoformat(),
        source=inp.source,
    )
    reason = f"成员{m.name}死亡，家庭情况复核（3个月内）"
    await case.book.start(case.spec("death_review", "成员死亡家庭复核", s.death_review))
    if s.review is None:
        return await review.open_review(case, ReviewKind.DEATH, reason, deadline=False)
    s.review.reason_zh += f"；{reason}"
    return s.review.review_id


async def record_work_refusal(case: "EntitlementWorkflow", inp: WorkRefusal) -> WorkRefusalResult:
    """低保办法 Art. 34: the ``work_refusal_limit``-th unjustified refusal cuts the share."""
    s = case.state
    m = s.member(inp.member_id_number)
    assert m is not None  # the validator checked
    if inp.justified:
        m.justified_refusals += 1
    else:
        m.unjustified_refusals += 1
    await case.record(
        "work_refusal",
        inp.actor,
        f"{m.name}拒绝就业（{'有正当理由' if inp.justified else '无正当理由'}）："
        f"{inp.description_zh}",
        id_number=m.id_number,
        unjustified=m.unjustified_refusals,
    )
    if inp.justified or m.unjustified_refusals < s.work_refusal_limit:
        return WorkRefusalResult(unjustified_refusals=m.unjustified_refusals, share_cut=False)
    previous = s.payable_amount
    m.status = ShareStatus.CUT
    m.note_zh = f"累计{m.unjustified_refusals}次无正当理由拒绝就业，减发其份额"
    effective = add_months(workflow_today().replace(day=1), 1)
    s.next_amount = share_amount(s, s.monthly_amount)
    s.next_amount_from = effective
    notice_id = await case.notice(
        "reduction",
        effective,
        [
            NoticeReason(
                text_zh=f"家庭成员{m.name}有劳动能力，累计{m.unjustified_refusals}次"
                "无正当理由拒绝接受介绍的与其健康状况、劳动能力等相适应的工作",
                basis=f"{DIBAO_BASIS}第三十四条",
            )
        ],
        previous_amount=previous,
        new_amount=s.next_amount,
    )
    await case.record(
        "share_cut",
        inp.actor,
        f"自{effective:%Y年%m月}起减发{m.name}的份额，本户每月发放{s.next_amount}元",
        id_number=m.id_number,
        notice_id=notice_id,
    )
    return WorkRefusalResult(
        unjustified_refusals=m.unjustified_refusals, share_cut=True, notice_id=notice_id
    )


async def change_card_account(case: "EntitlementWorkflow", inp: CardAccountChange) -> None:
    """A new card account (e.g. after a failed payment to a closed account); failed lines are
    retried on it by the next payroll."""
    old = case.state.card_account.account_number
    case.state.card_account = inp.card_account
    await case.record(
        "card_account_changed",
        inp.actor,
        "变更社保卡账户",
        old_account=old[-4:],
        new_account=inp.card_account.account_number[-4:],
    )
