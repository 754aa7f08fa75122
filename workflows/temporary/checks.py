"""Pure step checks of temporary assistance (临时救助, DOMAIN §6): each takes the case state, the
step's input and the clock it needs (``now`` an aware instant, ``today`` a Beijing date) and
raises the refusal (``jiuzhu.refusals``) that refuses it — WrongState 409, Forbidden 403,
InvalidInput 422 naming the field — or returns None. No I/O and no workflow calls: the Update
validators call them, and they are unit-tested without a server. Nothing is recorded for a
refused step.

Sources: 民发〔2018〕23号 (小金额先行救助、事后补充说明、一事一议、分阶段救助); DOMAIN §2 (an
officer acts only in their area)."""

from datetime import date, datetime

from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import forbidden, invalid, wrong_state
from rules.id_number import validate_id_number
from rules.money import format_yuan
from workflows.temporary.contract import TemporaryProcedure
from workflows.temporary.models import (
    CloseCase,
    DecideSpecial,
    GrantPrepayment,
    RecordRecovery,
    ReferToCounty,
    ReviewJustification,
    SubmitJustification,
    TemporaryCaseState,
)
from workflows.temporary.rules import (
    Problem,
    check_prepayment_amount,
    check_referral_amount,
    check_special_decision,
)


def refuse_problem(problem: Problem | None) -> None:
    """A rule's ``Problem`` as the InvalidInput refusal naming its field."""
    if problem is not None:
        raise invalid(problem.field, problem.message)


def check_actor(state: TemporaryCaseState, actor: Actor, *roles: Role) -> None:
    """The officer's role is one of ``roles`` and the case lies in their area."""
    if actor.role not in roles:
        raise forbidden(f"角色{actor.role.value}无权办理此事项")
    if not actor.covers(state.area.code):
        raise forbidden(f"案件所在地{state.area.code}不在您的辖区{actor.area_code}内")


def check_open(state: TemporaryCaseState) -> None:
    if state.closed_at is not None:
        raise wrong_state("案件已办结")


# --- 急难型 ---------------------------------------------------------------------------------
def check_grant(state: TemporaryCaseState, cmd: GrantPrepayment) -> None:
    """小金额先行救助: a township officer, an open emergency case without a prepayment, an
    amount within the cap (once the policy is loaded)."""
    check_actor(state, cmd.actor, Role.TOWNSHIP_OFFICER)
    check_open(state)
    if state.procedure is not TemporaryProcedure.EMERGENCY:
        raise wrong_state("支出型临时救助按审核审批程序办理，不适用先行救助")
    if state.prepayment is not None:
        raise wrong_state("本案已先行救助")
    if state.policy is not None:
        refuse_problem(check_prepayment_amount(cmd.amount, state.policy))


def check_justification(state: TemporaryCaseState, cmd: SubmitJustification, today: date) -> None:
    """事后补充说明: the prepaid amount, a beneficiary of the household, an investigation by two
    or more officers not later than ``today``."""
    check_actor(state, cmd.actor, Role.TOWNSHIP_OFFICER)
    check_open(state)
    p = state.prepayment
    if p is None:
        raise wrong_state("本案没有先行救助，无需补充说明")
    if p.justification is not None or p.review is not None:
        raise wrong_state("补充说明已提交")
    if cmd.amount != p.amount:
        raise invalid(
            "amount",
            f"补充说明金额{format_yuan(cmd.amount)}与先行救助金额{format_yuan(p.amount)}不一致",
        )
    if cmd.beneficiary_id_number is not None:
        try:
            number = validate_id_number(cmd.beneficiary_id_number)
        except ValueError as exc:
            raise invalid("beneficiary_id_number", str(exc)) from None
        if number not in {m.id_number for m in state.members}:
            raise invalid("beneficiary_id_number", "受助人不是本案家庭成员")
    if cmd.investigation.investigated_on > today:
        raise invalid("investigation.investigated_on", "调查日期晚于今天")
    if len({i.strip() for i in cmd.investigation.investigators}) < 2:
        raise invalid("investigation.investigators", "入户调查须有2名以上工作人员")


def check_review(
    state: TemporaryCaseState,
    cmd: ReviewJustification,
    justification_due: datetime | None,
    now: datetime,
) -> None:
    """The county's review: accept only a submitted justification; reject for want of one only
    once its deadline (``justification_due``) has passed; a rejection names its reason."""
    check_actor(state, cmd.actor, Role.COUNTY_OFFICER)
    check_open(state)
    p = state.prepayment
    if p is None:
        raise wrong_state("本案没有先行救助")
    if p.review is not None:
        raise wrong_state("已审核")
    if p.justification is None:
        if cmd.accept:
            raise wrong_state("乡镇尚未提交补充说明，不能审核通过")
        if justification_due is None or now < justification_due:
            raise wrong_state("补充说明期限未到，尚不能以未补充说明为由不予通过")
    if not cmd.accept and not cmd.reason_zh.strip():
        raise invalid("reason_zh", "不予通过须写明理由")


def check_recovery(state: TemporaryCaseState, cmd: RecordRecovery, today: date) -> None:
    """A recovered amount: an open recovery, 0 < amount ≤ outstanding, not dated after today."""
    check_actor(state, cmd.actor, Role.TOWNSHIP_OFFICER)
    check_open(state)
    p = state.prepayment
    if p is None or p.recovery is None or p.recovery.closed_at is not None:
        raise wrong_state("本案没有待追回的款项")
    if cmd.amount <= 0 or cmd.amount > p.recovery.outstanding:
        raise invalid(
            "amount", f"追回金额须大于0且不超过待追回金额{format_yuan(p.recovery.outstanding)}"
        )
    if cmd.recovered_on > today:
        raise invalid("recovered_on", "追回日期晚于今天")


# --- 一事一议 -------------------------------------------------------------------------------
def check_referral(state: TemporaryCaseState, cmd: ReferToCounty) -> None:
    """提请一事一议: a township officer, an emergency case not yet referred, a need above the
    prepayment cap (once the policy is loaded)."""
    check_actor(state, cmd.actor, Role.TOWNSHIP_OFFICER)
    check_open(state)
    if state.procedure is not TemporaryProcedure.EMERGENCY:
        raise wrong_state("支出型临时救助按审核审批程序办理")
    if state.referral is not None:
        raise wrong_state("已提请县级一事一议")
    if state.policy is not None:
        refuse_problem(check_referral_amount(cmd.need_amount, state.policy))


def check_special(state: TemporaryCaseState, cmd: DecideSpecial, today: date) -> None:
    """一事一议 decision by the county: a refusal names its reason; an approval's amount and
    stage plan follow ``rules.check_special_decision``."""
    check_actor(state, cmd.actor, Role.COUNTY_OFFICER)
    check_open(state)
    if state.referral is None:
        raise wrong_state("本案未提请一事一议")
    if state.special_decision is not None:
        raise wrong_state("一事一议已作出决定")
    if not cmd.approve:
        if not cmd.reason_zh.strip():
            raise invalid("reason_zh", "不予救助须写明理由")
        return
    if state.policy is None:
        raise wrong_state("案件尚在登记中，请稍后再试")
    plan = [(p.pay_on, p.amount) for p in cmd.stages]
    refuse_problem(check_special_decision(cmd.amount, plan, today, state.policy))


# --- closing ----------------------------------------------------------------------------------
def check_close(state: TemporaryCaseState, cmd: CloseCase) -> None:
    """Close without aid: an emergency case with nothing paid and nothing referred."""
    check_actor(state, cmd.actor, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
    check_open(state)
    if state.procedure is TemporaryProcedure.NORMAL:
        raise wrong_state("支出型临时救助通过申请的撤回或决定办结")
    if state.prepayment is not None or state.referral is not None:
        raise wrong_state("本案已先行救助或已提请一事一议，不能直接办结")
