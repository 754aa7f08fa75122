"""Pure checks of the recognition review's one human step: role, area, state and dates. Each
raises a ``jiuzhu.refusals`` refusal before anything is written."""

from datetime import date

from jiuzhu.contract import Role
from jiuzhu.refusals import forbidden, invalid, wrong_state
from workflows.recognitions.contract import RecognitionStatus
from workflows.recognitions.models import RecognitionState, ReviewDecision

REVIEWERS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)


def check_review(state: RecognitionState, cmd: ReviewDecision, today: date) -> date:
    """The yearly review is open; the officer is a township or county officer of the area; the
    paper date lies between the review's opening and today. Returns the decision date."""
    if cmd.actor.role not in REVIEWERS:
        raise forbidden(f"角色{cmd.actor.role.value}不能办理年度复核")
    if not cmd.actor.covers(state.area.code):
        raise forbidden(f"地区{state.area.code}不在{cmd.actor.area_code}的管辖范围内")
    if state.status is not RecognitionStatus.UNDER_REVIEW or not state.reviews:
        raise wrong_state("没有待办理的年度复核")
    on = cmd.decided_on or today
    if on > today:
        raise invalid("decided_on", "复核日期不能晚于今天")
    if on < state.reviews[-1].opened_on:
        raise invalid("decided_on", "复核日期不能早于年度复核开始日期")
    return on
