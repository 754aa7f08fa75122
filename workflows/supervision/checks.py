"""Pure checks of supervision's human steps and its routing rule. Each check raises a
``jiuzhu.refusals`` refusal before anything is written (validators) and again under the lock
(handlers); tests/supervision/test_checks.py runs them without a server."""

from datetime import date

from jiuzhu.areas import AreaRef
from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import forbidden, invalid, not_found, wrong_state
from workflows.supervision.contract import (
    CheckOutcome,
    ComplaintCategory,
    ComplaintStatus,
    DeliveryChannel,
    ResponsibleLevel,
    SampledOutcome,
    TaskStatus,
)
from workflows.supervision.models import (
    ComplaintFindings,
    ComplaintFollowUp,
    ComplaintReply,
    ComplaintState,
    RecordSpotCheck,
    SpotCheckState,
)

TRANSFER_CHECKS = ("dibao", "temporary", "none_eligible")


# --- spot checks ---------------------------------------------------------------------------
def check_spot_check(state: SpotCheckState, cmd: RecordSpotCheck, today: date) -> None:
    """A county officer of the round's county records the finding on a sampled case not yet
    checked, dated between the draw and today; a reversed 特困 approval names the transfer check
    (特困办法 Art. 27), nothing else does."""
    if cmd.actor.role is not Role.COUNTY_OFFICER:
        raise forbidden("只有县级民政部门可以办理抽查")
    if not cmd.actor.covers(state.county_code):
        raise forbidden(f"县（市、区）{state.county_code}不在{cmd.actor.area_code}的管辖范围内")
    task = state.task(cmd.case_id)
    if task is None:
        raise not_found(f"案件{cmd.case_id}不在本次抽查样本中", "case_id")
    if task.status is not TaskStatus.PENDING:
        raise wrong_state(f"案件{cmd.case_id}已抽查（{task.status.value}）")
    if cmd.checked_on > today:
        raise invalid("checked_on", f"抽查日期{cmd.checked_on}晚于今天")
    drawn = state.drawn_at.date() if state.drawn_at else None
    if drawn is not None and cmd.checked_on < drawn:
        raise invalid("checked_on", f"抽查日期{cmd.checked_on}早于抽样日期{drawn}")
    tekun_stop = (
        cmd.outcome is CheckOutcome.REVERSED
        and task.decision.outcome is SampledOutcome.APPROVE
        and task.decision.programme == "tekun"
    )
    if tekun_stop and cmd.transfer_check not in TRANSFER_CHECKS:
        raise invalid(
            "transfer_check",
            "撤销特困人员认定须记录转介核查结果（dibao、temporary或none_eligible）",
        )
    if not tekun_stop and cmd.transfer_check is not None:
        raise invalid("transfer_check", "只有撤销特困人员认定时才填写转介核查结果")


# --- complaints ----------------------------------------------------------------------------
COUNTY_CATEGORIES = frozenset(
    {
        ComplaintCategory.FAVOURITISM,
        ComplaintCategory.EMBEZZLEMENT,
        ComplaintCategory.MISCONDUCT,
        ComplaintCategory.SERVICE,
        ComplaintCategory.PAYMENT,
    }
)


def route(category: ComplaintCategory, area: AreaRef) -> tuple[ResponsibleLevel, str]:
    """The level that answers a complaint (焦民〔2022〕154号 第十二条): what concerns the conduct
    of township or village staff (人情保、关系保, 贪污侵占, 吃拿卡要, 推诿拖延) and payment (the
    county pays) goes to the county, which supervises them; a missed or unaccepted household and
    anything else to the township of the area, which finds and investigates households
    (主动发现). An area above township level is the county's."""
    if category in COUNTY_CATEGORIES or len(area.code) < 9:
        return ResponsibleLevel.COUNTY, area.county
    return ResponsibleLevel.TOWNSHIP, area.township


def _handler(state: ComplaintState, actor: Actor) -> None:
    """The responsible level's officer inside the responsible area, or a county officer of the
    county (the county may always take a township's complaint over)."""
    county = actor.role is Role.COUNTY_OFFICER and actor.covers(state.area.county)
    township = (
        state.level is ResponsibleLevel.TOWNSHIP
        and actor.role is Role.TOWNSHIP_OFFICER
        and actor.covers(state.responsible_area)
    )
    if not (county or township):
        level = "县级民政部门" if state.level is ResponsibleLevel.COUNTY else "乡镇（街道）"
        raise forbidden(f"该投诉举报由{level}（{state.responsible_area}）办理")


def _date_between(field: str, on: date, start: date, today: date, label: str) -> None:
    if on > today:
        raise invalid(field, f"{label}{on}晚于今天")
    if on < start:
        raise invalid(field, f"{label}{on}早于受理日期{start}")


def check_findings(state: ComplaintState, cmd: ComplaintFindings, today: date) -> None:
    """The responsible officer records the investigation's findings while it is open."""
    _handler(state, cmd.actor)
    if state.status is not ComplaintStatus.INVESTIGATING:
        raise wrong_state(f"投诉举报当前状态为{state.status.value}，不能登记调查结果")
    _date_between("investigated_on", cmd.investigated_on, state.received_on, today, "调查日期")


def check_reply(state: ComplaintState, cmd: ComplaintReply, today: date) -> None:
    """The reply follows the findings; an anonymous complaint is answered on the record only,
    a named one through a channel that reaches the complainant."""
    _handler(state, cmd.actor)
    if state.status is not ComplaintStatus.INVESTIGATING:
        raise wrong_state(f"投诉举报当前状态为{state.status.value}，不能登记答复")
    if state.current_findings() is None:
        raise wrong_state("请先登记调查核实结果，再答复")
    if state.anonymous and cmd.channel is not DeliveryChannel.ON_RECORD:
        raise invalid("channel", "匿名投诉举报无法送达本人，答复方式应为on_record（存档备查）")
    if not state.anonymous and cmd.channel is DeliveryChannel.ON_RECORD:
        raise invalid("channel", "实名投诉举报的答复须送达投诉人（phone、letter、in_person或sms）")
    _date_between("delivered_on", cmd.delivered_on, state.received_on, today, "送达日期")


def check_follow_up(state: ComplaintState, cmd: ComplaintFollowUp, today: date) -> None:
    """Any officer of the county records the complainant's follow-up within the window after the
    reply (anonymous complaints have no follow-up)."""
    if cmd.actor.role not in (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER):
        raise forbidden("只有民政经办人员可以登记投诉人的回访意见")
    if cmd.actor.area_code[:6] != state.area.county:
        raise forbidden(f"县（市、区）{state.area.county}不在{cmd.actor.area_code}的管辖范围内")
    if state.status is not ComplaintStatus.REPLIED:
        raise wrong_state(f"投诉举报当前状态为{state.status.value}，不能登记回访意见")
    if state.anonymous:
        raise wrong_state("匿名投诉举报没有回访")
    last = state.replies[-1].delivered_on if state.replies else state.received_on
    if cmd.on > today:
        raise invalid("on", f"回访日期{cmd.on}晚于今天")
    if cmd.on < last:
        raise invalid("on", f"回访日期{cmd.on}早于答复送达日期{last}")
    if not cmd.satisfied and not cmd.note_zh.strip():
        raise invalid("note_zh", "投诉人不满意时须记录其意见")
