"""变更: changes during an entitlement (DOMAIN §5). A reported change or a data-comparison flag
opens an investigation with a deadline — nobody is stopped on a flag alone (seed 002); a death
suspends that member's share at once and opens the household review (due within the policy's
``death_review``, 3 months); the ``work_refusal_limit``-th (3rd) unjustified refusal of
suitable work cuts that person's share from next month with a written notice (低保办法
Art. 34); the county records a new card account. Workflow code only."""

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from temporalio import workflow

from jiuzhu.calls import call
from jiuzhu.versions import DEATH_RECOVERY_AFTER_SETTLEMENT
from workflows.entitlements.steps import review, settlement

with workflow.unsafe.imports_passed_through():
    from activities.policy import PolicyActivities, PolicyRequest
    from activities.recoveries.activities import RecoveryActivities
    from activities.recoveries.models import OpenRecoveryRequest, OpenRecoveryResult
    from jiuzhu.clock import beijing_date, workflow_today
    from jiuzhu.contract import Actor
    from rules.calendar import add_months
    from rules.household import CARE_TIER_NAMES_ZH, CareTier, self_care_tier
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
        MemberShare,
        MoveOut,
        MoveOutResult,
        NoticeReason,
        ReviewKind,
        SelfCareReassessment,
        SelfCareRecord,
        SelfCareResult,
        WaitingRecovery,
        WorkRefusal,
        WorkRefusalResult,
    )
    from workflows.entitlements.snapshots import payee_name

if TYPE_CHECKING:
    from workflows.entitlements.workflow import EntitlementWorkflow

DIBAO_BASIS = "《最低生活保障审核确认办法》（民发〔2021〕57号）"
TEKUN_BASIS = "《特困人员认定办法》（民发〔2021〕43号）"
# A death dated before payments already made opens an overpayment receivable (issue 11 item 3).
RECOVERY_ON_DEATH = "entitlement-recovery-on-death"


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
    if inp.kind is ChangeKind.SELF_CARE:
        # 特困办法 Art. 23: re-assessed within the policy's ``self_care_reassessment`` (10
        # working days) of the report; only new reports reach this branch.
        spec = case.spec(
            deadline_name,
            "生活自理能力复核评估",
            s.self_care_reassessment or CHANGE_INVESTIGATION,
        ).model_copy(update={"basis": "特困办法 Art. 23"})
    else:
        spec = case.spec(
            deadline_name, f"{CHANGE_NAMES_ZH[inp.kind]}调查核实", CHANGE_INVESTIGATION
        )
    await case.book.start(spec)
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
    """Suspend the person's share at once and open (or extend) the household review; when
    the household was paid for months after the month of death, open the receivable of what
    was overpaid (``open_recovery``). Every death reaches an entitlement here once (the share
    is active only the first time)."""
    s = case.state
    m = s.member(inp.id_number)
    if m is None or m.status is not ShareStatus.ACTIVE:
        return s.review.review_id if s.review else None
    covered = sum(1 for x in s.members if x.status is ShareStatus.ACTIVE)
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
        review_id = await review.open_review(case, ReviewKind.DEATH, reason, deadline=False)
    else:
        s.review.reason_zh += f"；{reason}"
        review_id = s.review.review_id
    if case.versions.patched(RECOVERY_ON_DEATH):
        await open_recovery(case, inp, m, covered)
    return review_id


async def open_recovery(
    case: "EntitlementWorkflow", inp: DeathNotification, m: MemberShare, covered: int
) -> None:
    """Payments made for months after the month of death are recovered: the activity opens
    one receivable per household and death (``recovery-<household>-<id number>``, its own
    workflow, so this entitlement's continue-as-new never waits for it) and the timeline
    says so. While the bank still holds lines of the case, the receivable waits for its
    answers (``settlement``; the timeline says so) and is opened by ``recheck_settlement``."""
    s = case.state
    if case.versions.patched(DEATH_RECOVERY_AFTER_SETTLEMENT) and (
        lines := await settlement.in_flight(case)
    ):
        s.recoveries_waiting.append(WaitingRecovery(death=inp, covered=covered))
        if s.settle_at is None:
            settlement.ask_again(case)
        await case.record(
            "recovery_waits",
            None,
            f"{m.name}死亡：尚有{lines}笔救助金在银行处理中，待银行回盘后核算多发金额",
            in_flight=lines,
        )
        return
    await _open_death_recovery(case, inp, m, covered)


async def recheck_settlement(case: "EntitlementWorkflow") -> None:
    """The daily question of waiting receivables: the bank has answered every line (or the
    checks are used up) — open them; otherwise ask again tomorrow."""
    if settlement.settled_or_given_up(case, await settlement.in_flight(case)):
        settlement.stop_asking(case)
        await open_waiting_recoveries(case)
    else:
        settlement.ask_again(case)


async def open_waiting_recoveries(case: "EntitlementWorkflow") -> None:
    """Open every death's receivable that was waiting for the bank, in the order recorded."""
    s = case.state
    waiting, s.recoveries_waiting = s.recoveries_waiting, []
    for w in waiting:
        m = s.member(w.death.id_number)
        if m is not None:
            await _open_death_recovery(case, w.death, m, w.covered)


async def _open_death_recovery(
    case: "EntitlementWorkflow", inp: DeathNotification, m: MemberShare, covered: int
) -> None:
    s = case.state
    opened: OpenRecoveryResult = await call(
        RecoveryActivities.open_overpayment_recovery,
        OpenRecoveryRequest(
            entitlement_id=s.entitlement_id,
            household_id=s.household_id,
            programme=s.programme.value,
            area_code=s.area.code,
            deceased_id_number=m.id_number,
            deceased_name=m.name,
            date_of_death=inp.date_of_death,
            covered_members=max(covered, 1),
            payee_name=payee_name(s),
            record_ref=inp.record_ref,
        ),
        timeout=timedelta(minutes=1),
    )
    if opened.recovery_id is not None:
        await case.record(
            "recovery_opened",
            None,
            f"{m.name}死亡后多发救助金{opened.amount}元，已立案追回（{opened.recovery_id}）",
            recovery_id=opened.recovery_id,
            amount=str(opened.amount),
        )


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


async def record_move_out(case: "EntitlementWorkflow", inp: MoveOut) -> MoveOutResult:
    """成员迁出 (分户): the member leaves the household; their share ends at once and the amount
    follows from next month with a written notice (低保办法 Art. 32). Publishing the account
    releases the member's place in the household-membership index, so another household of the
    programme may then claim them (issue 11 item 4)."""
    s = case.state
    m = s.member(inp.member_id_number)
    assert m is not None  # the validator checked
    previous = s.payable_amount
    m.status = ShareStatus.MOVED_OUT
    moved_on = inp.moved_on or workflow_today()
    m.note_zh = f"{moved_on:%Y年%m月%d日}迁出：{inp.reason_zh}"
    effective = add_months(workflow_today().replace(day=1), 1)
    s.next_amount = share_amount(s, s.next_monthly_amount or s.monthly_amount)
    s.next_amount_from = effective
    notice_id = await case.notice(
        "reduction",
        effective,
        [
            NoticeReason(
                text_zh=f"家庭成员{m.name}已迁出本户（{inp.reason_zh}），不再计入保障人口",
                basis=f"{DIBAO_BASIS}第三十二条",
            )
        ],
        previous_amount=previous,
        new_amount=s.next_amount,
    )
    await case.record(
        "member_moved_out",
        inp.actor,
        f"{m.name}迁出本户（{inp.reason_zh}），自{effective:%Y年%m月}起本户每月发放"
        f"{s.next_amount}元",
        id_number=m.id_number,
        moved_on=moved_on.isoformat(),
        notice_id=notice_id,
    )
    return MoveOutResult(
        id_number=m.id_number,
        next_amount=s.next_amount,
        effective_from=effective,
        notice_id=notice_id,
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


async def record_self_care_assessment(
    case: "EntitlementWorkflow", inp: SelfCareReassessment
) -> SelfCareResult:
    """特困办法 Art. 20–23: the re-assessment of a reported self-care change on the six
    activities (all able → self-care; ≤ 3 unable → partly lost; ≥ 4 → fully lost) closes the
    change's investigation and meets its deadline on the assessment's paper date. A new tier
    changes the care standard (照料护理标准, policy ``tekun_care_*``) from the next month —
    the household amount moves by the difference of the two standards — with a written notice
    when the amount falls (低保办法 Art. 32 by analogy; 特困办法 Art. 23)."""
    s = case.state
    inv = investigation(s, inp.investigation_id)
    assert inv is not None  # the validator checked
    today = workflow_today()
    on = inp.assessed_on or today
    tier = self_care_tier(inp.assessment)
    previous = CareTier(s.care_tier) if s.care_tier else None
    unable = inp.assessment.unable_count()
    finding = f"生活自理能力复核评估：{unable}项不能达到，{CARE_TIER_NAMES_ZH[tier]}"
    inv.closed_at = workflow.now()
    inv.closed_by = inp.actor
    inv.finding_zh = finding + (f"（{inp.note_zh}）" if inp.note_zh else "")
    await case.book.meet(inv.deadline_name, on=on)
    effective = None
    notice_id = None
    if tier is not (previous or CareTier.SELF_CARE):
        policy = await call(
            PolicyActivities.policy_in_force,
            PolicyRequest(area_code=s.area.code, on=beijing_date(s.approved_at)),
        )
        before = policy.tekun_care_supplement(previous or CareTier.SELF_CARE)
        after = policy.tekun_care_supplement(tier)
        effective = add_months(today.replace(day=1), 1)
        base = s.next_monthly_amount if s.next_monthly_amount is not None else s.monthly_amount
        paid_now = s.next_amount if s.next_amount is not None else s.payable_amount
        s.next_monthly_amount = max(base + after - before, Decimal("0.00"))
        s.next_amount = share_amount(s, s.next_monthly_amount)
        s.next_amount_from = effective
        if s.next_amount < paid_now:
            notice_id = await case.notice(
                "reduction",
                effective,
                [
                    NoticeReason(
                        text_zh=f"经生活自理能力复核评估，{CARE_TIER_NAMES_ZH[tier]}，"
                        "相应调整照料护理标准",
                        basis=f"{TEKUN_BASIS}第二十条至第二十三条",
                    )
                ],
                previous_amount=paid_now,
                new_amount=s.next_amount,
            )
    s.care_tier = tier.value
    s.self_care_assessments.append(
        SelfCareRecord(
            investigation_id=inv.investigation_id,
            assessed_on=on,
            assessed_by=inp.actor,
            previous_tier=previous,
            care_tier=tier,
            unable_count=unable,
            effective_from=effective,
        )
    )
    await case.record(
        "self_care_assessed",
        inp.actor,
        finding
        + (
            f"，自{effective:%Y年%m月}起按新的照料护理标准每月发放{s.next_amount}元"
            if effective
            else "，照料护理标准不变"
        ),
        investigation_id=inv.investigation_id,
        care_tier=tier.value,
        previous_tier=previous.value if previous else None,
        on=on.isoformat(),
        notice_id=notice_id,
    )
    return SelfCareResult(
        previous_tier=previous,
        care_tier=tier,
        next_amount=s.next_amount if effective else None,
        effective_from=effective,
        notice_id=notice_id,
    )
