"""Pure checks of the payment workflows' human steps: each raises a ``jiuzhu.refusals`` refusal
(a non-retryable ``ApplicationError``) before anything is written; unit-tested without a server
(tests/entitlements/test_checks.py)."""

from jiuzhu.contract import Role
from jiuzhu.refusals import forbidden, invalid, wrong_state
from workflows.payments.contract import PayrollStatus
from workflows.payments.models import FundingConfirmation, PayrollState


def check_funding(state: PayrollState, inp: FundingConfirmation) -> None:
    """County finance of this county confirms funding, while the payroll awaits it, with
    exactly the compiled total (焦民〔2022〕154号 第六条: 8日前拨付)."""
    if inp.actor.role is not Role.FINANCE:
        raise forbidden("只有县级财政部门可以确认资金拨付")
    if not inp.actor.covers(state.county_code):
        raise forbidden(f"县（市、区）{state.county_code}不在{inp.actor.area_code}的管辖范围内")
    if state.status is not PayrollStatus.AWAITING_FUNDING or state.compiled is None:
        raise wrong_state(f"发放批次当前状态为{state.status.value}，不在待拨付资金阶段")
    if inp.amount != state.compiled.pending_total:
        raise invalid(
            "amount", f"拨付金额{inp.amount}元与本月发放总额{state.compiled.pending_total}元不一致"
        )
