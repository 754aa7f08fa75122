"""Pure checks of the payment workflows' human steps: each raises a ``jiuzhu.refusals`` refusal
(a non-retryable ``ApplicationError``) before anything is written; unit-tested without a server
(tests/entitlements/test_checks.py)."""

from datetime import datetime
from decimal import Decimal

from jiuzhu.clock import to_beijing
from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import conflict, forbidden, invalid, wrong_state
from workflows.payments.contract import CampaignStatus, PayrollStatus
from workflows.payments.models import (
    CampaignFunding,
    CampaignState,
    FundingConfirmation,
    PayrollState,
    ResubmitBatch,
)


def _finance_of(actor: Actor, county: str) -> None:
    if actor.role is not Role.FINANCE:
        raise forbidden("只有县级财政部门可以确认资金拨付")
    if not actor.covers(county):
        raise forbidden(f"县（市、区）{county}不在{actor.area_code}的管辖范围内")


def same_funding(
    recorded_reference: str | None,
    recorded_at: datetime | None,
    expected: Decimal | None,
    reference: str,
    amount: Decimal,
) -> bool:
    """True when funding is already recorded with this very confirmation (same reference and
    amount: a repeat, answered with the same record); a different one is a 409 naming the
    recorded reference; False when nothing is recorded yet."""
    if recorded_at is None:
        return False
    if reference != recorded_reference:
        raise conflict(
            f"资金拨付已于{to_beijing(recorded_at):%Y-%m-%d %H:%M}（北京时间）确认，"
            f"拨付凭证号为{recorded_reference}，"
            f"不能再以凭证号{reference}确认",
            "reference",
            recorded_reference=recorded_reference,
        )
    if expected is not None and amount != expected:
        raise conflict(
            f"凭证号{reference}已确认拨付{expected}元，与本次金额{amount}元不一致",
            "amount",
            recorded_reference=recorded_reference,
        )
    return True


def check_funding(state: PayrollState, inp: FundingConfirmation) -> None:
    """County finance of this county confirms funding, while the payroll awaits it, with
    exactly the compiled total (焦民〔2022〕154号 第六条: 8日前拨付). Once recorded, the same
    confirmation is accepted again (idempotent) and any other is refused."""
    _finance_of(inp.actor, state.county_code)
    expected = state.funded_amount
    if expected is None:
        expected = state.compiled.pending_total if state.compiled else None
    if same_funding(state.funding_reference, state.funded_at, expected, inp.reference, inp.amount):
        return
    if state.status is not PayrollStatus.AWAITING_FUNDING or state.compiled is None:
        raise wrong_state(f"发放批次当前状态为{state.status.value}，不在待拨付资金阶段")
    if inp.amount != state.compiled.pending_total:
        raise invalid(
            "amount", f"拨付金额{inp.amount}元与本月发放总额{state.compiled.pending_total}元不一致"
        )


def check_adjusted_total(state: PayrollState, inp: FundingConfirmation) -> None:
    """After the last re-check (deaths, suspensions, terminations and changed amounts since
    compile, a person paid in two households: seed 002 stop paying the deceased; exact, once),
    finance confirms exactly the adjusted total; any other amount — the old total included — is
    refused naming the adjusted total and what was held."""
    c = state.compiled
    if c is None or inp.amount == c.pending_total:
        return
    held = state.recheck
    since = (
        f"发放名单编制后重新核对，新暂停发放{held.newly_held}笔（{held.newly_held_total}元），"
        if held is not None and held.newly_held
        else ""
    )
    raise invalid(
        "amount",
        f"拨付金额{inp.amount}元与本月应发放总额{c.pending_total}元不一致：{since}"
        f"本月共暂停发放{c.held_count}笔（{c.held_total}元），"
        f"请按调整后的总额{c.pending_total}元（{c.pending_count}笔）确认拨付",
    )


def check_campaign_funding(state: CampaignState, inp: CampaignFunding) -> None:
    """County finance confirms the campaign's funding, once, with exactly its compiled total
    (provincial and local shares together); the same confirmation again is accepted."""
    _finance_of(inp.actor, state.county_code)
    expected = state.compiled.total if state.compiled else None
    if same_funding(state.funding_reference, state.funded_at, expected, inp.reference, inp.amount):
        return
    if state.status is not CampaignStatus.AWAITING_FUNDING or state.compiled is None:
        raise wrong_state(f"一次性补贴当前状态为{state.status.value}，不在待拨付资金阶段")
    if inp.amount != state.compiled.total:
        raise invalid("amount", f"拨付金额{inp.amount}元与补贴总额{state.compiled.total}元不一致")


def check_resubmit(county_code: str, status: str, what_zh: str, inp: ResubmitBatch) -> None:
    """County finance of the batch's county re-sends it to the bank, only once the bank's
    answer could not be read (``bank_error``, escalated to finance): the lines still unanswered
    go again and the bank credits each reference once (焦民〔2022〕154号: 按时足额发放，不得重复
    发放). Refused while it is being sent or once it was reconciled."""
    if inp.actor.role is not Role.FINANCE:
        raise forbidden("只有县级财政部门可以重新报送银行")
    if not inp.actor.covers(county_code):
        raise forbidden(f"县（市、区）{county_code}不在{inp.actor.area_code}的管辖范围内")
    if status != "bank_error":
        raise wrong_state(
            f"{what_zh}当前状态为{status}，只有银行回盘无法读取（bank_error）时才能重新报送"
        )


def check_campaign_resubmit(state: CampaignState, inp: ResubmitBatch) -> None:
    check_resubmit(state.county_code, state.status.value, "一次性补贴", inp)


def check_payroll_resubmit(state: PayrollState, inp: ResubmitBatch) -> None:
    check_resubmit(state.county_code, state.status.value, f"{state.period}救助金发放", inp)
