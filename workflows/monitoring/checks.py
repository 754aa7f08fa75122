"""Pure checks of the warning's human step (the township's home visit): each raises a
``jiuzhu.refusals`` refusal before anything is written (validator) and again under the lock
(handler)."""

from datetime import date

from jiuzhu.contract import Role
from jiuzhu.refusals import forbidden, invalid, wrong_state
from rules.programmes import Programme
from workflows.monitoring.contract import (
    RECIPIENT_CATEGORIES,
    VisitOutcome,
)
from workflows.monitoring.models import RecordVisit, WarningState

OFFERABLE = (Programme.DIBAO, Programme.TEKUN, Programme.DIBAO_EDGE, Programme.RIGID_EXPENSE)


def check_visit(state: WarningState, cmd: RecordVisit, today: date) -> None:
    """豫政办〔2022〕103号 三(三) (seed 000): the township of the household visits (a township
    officer whose area covers it), on a date between the warning and today, and chooses what
    follows: an application offered (a programme the household does not already receive), a
    change investigation (only for a household paid 低保/特困 — nobody's payment changes on a
    warning alone), temporary aid, or closing with a reason."""
    actor = cmd.actor
    if actor.role is not Role.TOWNSHIP_OFFICER:
        raise forbidden("预警核查须由乡镇（街道）经办人上门核查并录入")
    if not actor.covers(state.area.code):
        raise forbidden(f"地区{state.area.code}不在{actor.area_code}的管辖范围内")
    if state.closed:
        raise wrong_state(f"预警已处置（{state.status.value}）")
    if cmd.visited_on > today:
        raise invalid("visited_on", f"核查日期{cmd.visited_on}晚于今天")
    if state.raised_on is not None and cmd.visited_on < state.raised_on:
        raise invalid("visited_on", f"核查日期{cmd.visited_on}早于预警日期{state.raised_on}")
    if any(not v.strip() for v in cmd.visitors):
        raise invalid("visitors", "核查人员姓名不能为空")
    if cmd.outcome is VisitOutcome.CHANGE_INVESTIGATION and state.entitlement_workflow_id is None:
        raise invalid("outcome", "该户未在享受低保或特困待遇，无待遇可变更调查")
    if cmd.outcome is VisitOutcome.APPLICATION_OFFERED:
        if cmd.programme is None:
            raise invalid("programme", "告知申请须注明救助项目")
        if cmd.programme not in OFFERABLE:
            raise invalid("programme", f"{cmd.programme.value}不能作为申请项目告知")
        if state.category in RECIPIENT_CATEGORIES and cmd.programme.value == state.programme:
            raise invalid("programme", "该户已在享受此项救助")
    if cmd.outcome is VisitOutcome.CLOSED and not cmd.reason_zh.strip():
        raise invalid("reason_zh", "办结须说明理由")
