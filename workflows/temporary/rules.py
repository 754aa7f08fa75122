"""Pure amount rules of temporary assistance (临时救助, DOMAIN §6), shared by the step checks and
the API. No I/O, deterministic: safe inside workflows. Each check returns a ``Problem`` (the
field, as the API names it, and why, in Chinese) or None.

Sources: 国发〔2014〕47号 and 民发〔2018〕23号 (急难型先行救助、事后补充说明; 一事一议; 一次审批、
分阶段救助); 晋民发〔2022〕38号 二.8 (一次性临时救助金不低于当地农村低保月标准, where the policy
says so). The prepayment cap, the township approval limit and the justification period are
policy parameters (``rules.policy.Policy``)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rules.money import format_yuan
from rules.policy import Policy

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Problem:
    """A refused input: the field (dotted path, as the API names it) and why, in Chinese."""

    field: str
    message: str


def one_off_floor(policy: Policy) -> Decimal:
    """The minimum one-off amount in yuan: the rural monthly 低保 standard where the policy says
    so (晋民发〔2022〕38号 二.8), else 0.00."""
    return policy.temporary_one_off_floor()


def check_prepayment_amount(amount: Decimal, policy: Policy) -> Problem | None:
    """小金额先行救助: more than zero, at most ``policy.prepayment_cap``, and at least the one-off
    floor where the policy sets one (unless the cap itself is lower)."""
    if amount <= ZERO:
        return Problem("amount", "先行救助金额必须大于0")
    if amount > policy.prepayment_cap:
        return Problem(
            "amount",
            f"先行救助金额{format_yuan(amount)}超过本地小金额先行救助上限"
            f"{format_yuan(policy.prepayment_cap)}；超出部分请提交县级一事一议",
        )
    floor = min(one_off_floor(policy), policy.prepayment_cap)
    if amount < floor:
        return Problem("amount", f"一次性临时救助金不得低于当地农村低保月标准{format_yuan(floor)}")
    return None


def check_referral_amount(need: Decimal, policy: Policy) -> Problem | None:
    """一事一议 is for a need above what the township may pay at once (the prepayment cap)."""
    if need <= policy.prepayment_cap:
        return Problem(
            "need_amount",
            f"所需金额{format_yuan(need)}未超过乡镇先行救助上限"
            f"{format_yuan(policy.prepayment_cap)}，由乡镇直接救助即可",
        )
    return None


def check_special_decision(
    amount: Decimal | None, stages: list[tuple[date, Decimal]], today: date, policy: Policy
) -> Problem | None:
    """一事一议 approval: a positive amount, not below the one-off floor; stages (if any) on
    distinct ascending dates from ``today`` (Beijing) on, each positive, adding up to the
    amount."""
    if amount is None:
        return Problem("amount", "批准时须写明救助金额")
    if amount <= ZERO:
        return Problem("amount", "救助金额必须大于0")
    floor = one_off_floor(policy)
    if amount < floor:
        return Problem("amount", f"临时救助金不得低于当地农村低保月标准{format_yuan(floor)}")
    if not stages:
        return None
    dates = [d for d, _ in stages]
    for i, (d, a) in enumerate(stages):
        if a <= ZERO:
            return Problem(f"stages.{i}.amount", "每阶段金额必须大于0")
        if d < today:
            return Problem(f"stages.{i}.pay_on", f"发放日期{d.isoformat()}早于今天")
    if len(set(dates)) != len(dates):
        return Problem("stages", "分阶段发放日期不得重复")
    if dates != sorted(dates):
        return Problem("stages", "分阶段发放日期须按先后顺序排列")
    total = sum((a for _, a in stages), ZERO)
    if total != amount:
        return Problem(
            "stages",
            f"各阶段金额合计{format_yuan(total)}与批准金额{format_yuan(amount)}不一致",
        )
    return None
