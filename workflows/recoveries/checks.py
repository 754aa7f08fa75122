"""Pure checks of the recovery's human steps: each raises a ``jiuzhu.refusals`` refusal before
anything is written (validators) and again under the lock (handlers)."""

from datetime import date

from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import conflict, forbidden, invalid, wrong_state
from workflows.recoveries.models import RecordRepayment, RecoveryState, WriteOff


def _county_officer_of(actor: Actor, state: RecoveryState) -> None:
    if actor.role is not Role.COUNTY_OFFICER:
        raise forbidden("只有县级民政部门可以办理多发救助金的追回或核销")
    if not actor.covers(state.area.county):
        raise forbidden(f"县（市、区）{state.area.county}不在{actor.area_code}的管辖范围内")


def _open(state: RecoveryState) -> None:
    if state.closed:
        raise wrong_state(f"追回事项已办结（{state.status.value}），余额为{state.balance}元")


def _before_zh(state: RecoveryState) -> str:
    if state.ended:
        return f"早于救助最后发放月份{state.since:%Y-%m}"
    return f"早于死亡日期{state.since}"


def check_repayment(state: RecoveryState, cmd: RecordRepayment, today: date) -> None:
    """A county officer of the household's county records a repayment of at most the balance,
    paid on a date between the death (an ending: its last payable month) and today, under a
    reference not recorded before."""
    _county_officer_of(cmd.actor, state)
    _open(state)
    if cmd.amount > state.balance:
        raise invalid("amount", f"追回金额{cmd.amount}元超过应追回余额{state.balance}元")
    if cmd.paid_on > today:
        raise invalid("paid_on", f"缴回日期{cmd.paid_on}晚于今天")
    if cmd.paid_on < state.since:
        raise invalid("paid_on", f"缴回日期{cmd.paid_on}{_before_zh(state)}")
    if any(r.reference == cmd.reference for r in state.repayments):
        raise conflict(f"凭证号{cmd.reference}已登记过一笔追回款", "reference")


def check_write_off(state: RecoveryState, cmd: WriteOff, today: date) -> None:
    """The county's write-off decision (文号, date, reasons) is recorded by a county officer of
    the household's county, decided between the death (an ending: its last payable month) and
    today."""
    _county_officer_of(cmd.actor, state)
    _open(state)
    if cmd.decided_on > today:
        raise invalid("decided_on", f"核销决定日期{cmd.decided_on}晚于今天")
    if cmd.decided_on < state.since:
        raise invalid("decided_on", f"核销决定日期{cmd.decided_on}{_before_zh(state)}")
