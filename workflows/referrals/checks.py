"""Pure checks of a referral's human steps: each raises a ``jiuzhu.refusals`` refusal before
anything is written (validators) and again under the lock (handlers)."""

from datetime import date

from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import forbidden, invalid, wrong_state
from workflows.referrals.contract import NEEDS, STATUS_NAMES_ZH, AnswerOutcome, Department, Need
from workflows.referrals.models import RecordAnswer, ReferralState, Withdraw


def check_need(department: Department, need: Need) -> None:
    """A referral asks a department for one of the needs it answers for (``NEEDS``)."""
    if need not in NEEDS[department]:
        raise invalid("need", f"{need.value}不属于{department.value}部门办理的救助事项")


def check_asked_on(asked_on: date, source_opened_on: date, today: date) -> None:
    """The referral is dated between the source case's opening and today."""
    if asked_on > today:
        raise invalid("asked_on", f"转介日期{asked_on}晚于今天")
    if asked_on < source_opened_on:
        raise invalid("asked_on", f"转介日期{asked_on}早于来源案件的登记日期{source_opened_on}")


def _awaiting(state: ReferralState) -> None:
    if state.closed:
        raise wrong_state(f"转介已办结（{STATUS_NAMES_ZH[state.status]}）")


def check_answer(state: ReferralState, cmd: RecordAnswer, today: date) -> None:
    """A county officer of the household's county records the department's answer (the county
    civil-affairs department leads the coordination with the other departments: seed 000 五(二);
    seed 001 三(二)), dated between the referral and today; an amount only with a grant."""
    if cmd.actor.role is not Role.COUNTY_OFFICER:
        raise forbidden("部门反馈由县级民政部门登记")
    if not cmd.actor.covers(state.area.county):
        raise forbidden(f"县（市、区）{state.area.county}不在{cmd.actor.area_code}的管辖范围内")
    _awaiting(state)
    if cmd.answered_on > today:
        raise invalid("answered_on", f"反馈日期{cmd.answered_on}晚于今天")
    if cmd.answered_on < state.asked_on:
        raise invalid("answered_on", f"反馈日期{cmd.answered_on}早于转介日期{state.asked_on}")
    if cmd.amount is not None and cmd.outcome is not AnswerOutcome.GRANTED:
        raise invalid("amount", "只有给予救助的反馈才填写救助金额")


def check_withdraw(state: ReferralState, cmd: Withdraw) -> None:
    """The referring side (a township or county officer over the case's area) withdraws a
    referral still awaiting an answer, with its reason."""
    if cmd.actor.role not in (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER):
        raise forbidden("转介由乡镇（街道）或县级民政部门撤回")
    if not cmd.actor.covers(state.area.code):
        raise forbidden(f"{state.area.code}不在{cmd.actor.area_code}的管辖范围内")
    _awaiting(state)


def check_referrer(actor: Actor, area_code: str) -> None:
    """A township or county officer over the source case's area refers (seed 000 五(一): 乡镇
    （街道）负责申请受理…; 县级民政 leads the coordination)."""
    if actor.role not in (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER):
        raise forbidden("转介由乡镇（街道）或县级民政部门办理")
    if not actor.covers(area_code):
        raise forbidden(f"{area_code}不在{actor.area_code}的管辖范围内")
