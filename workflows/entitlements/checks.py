"""Pure checks of the entitlement's human steps (DOMAIN §5): each takes the state and the step's
input and raises a ``jiuzhu.refusals`` refusal (a non-retryable ``ApplicationError``) before
anything is written. The workflow's Update validators call them; tests/entitlements/
test_checks.py runs them without a server."""

from datetime import timedelta

from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import forbidden, invalid, not_found, wrong_state
from rules.programmes import Programme
from workflows.entitlements.contract import EntitlementStatus, ShareStatus
from workflows.entitlements.models import (
    CardAccountChange,
    ChangeKind,
    ChangeReport,
    DeathNotification,
    EntitlementState,
    Investigation,
    InvestigationClose,
    MoveOut,
    ReviewOutcome,
    ReviewOutcomeKind,
    SelfCareReassessment,
    WorkRefusal,
)

REPORTERS = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
INVESTIGATORS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
DECIDERS = (Role.COUNTY_OFFICER,)


def check_actor(state: EntitlementState, actor: Actor, roles: tuple[Role, ...]) -> None:
    """The officer's role may take the step and the case lies inside their area (DOMAIN §2)."""
    if actor.role not in roles:
        raise forbidden(f"角色{actor.role.value}不能办理此事项")
    if not actor.covers(state.area.code):
        raise forbidden(f"地区{state.area.code}不在{actor.area_code}的管辖范围内")


def check_open(state: EntitlementState) -> None:
    if state.status is EntitlementStatus.ENDED:
        raise wrong_state("救助已终止")


def investigation(state: EntitlementState, investigation_id: str) -> Investigation | None:
    return next((i for i in state.investigations if i.investigation_id == investigation_id), None)


def check_report_change(state: EntitlementState, inp: ChangeReport) -> None:
    """A reported change or data flag names a member of the household, and a death names one."""
    check_actor(state, inp.actor, REPORTERS)
    check_open(state)
    if inp.member_id_number is not None and state.member(inp.member_id_number) is None:
        raise invalid("member_id_number", "该身份证号码不是本户成员")
    if inp.kind is ChangeKind.DEATH and inp.member_id_number is None:
        raise invalid("member_id_number", "报告成员死亡须注明死亡成员")
    if inp.kind is ChangeKind.SELF_CARE:
        check_self_care_report(state)


def check_self_care_report(state: EntitlementState) -> None:
    """特困办法 Art. 23: a change in self-care ability concerns a 特困 person; one re-assessment
    at a time."""
    if state.programme is not Programme.TEKUN:
        raise invalid("kind", "生活自理能力变化仅适用于特困人员救助供养")
    if any(i.kind is ChangeKind.SELF_CARE and i.closed_at is None for i in state.investigations):
        raise wrong_state("已有待完成的生活自理能力复核评估")


def check_self_care_assessment(state: EntitlementState, inp: SelfCareReassessment) -> None:
    """特困办法 Art. 20–23: the township (or county) records the re-assessment of an open
    self-care change on the six activities."""
    check_actor(state, inp.actor, INVESTIGATORS)
    check_open(state)
    inv = investigation(state, inp.investigation_id)
    if inv is None or inv.kind is not ChangeKind.SELF_CARE:
        raise not_found(f"没有生活自理能力变化调查{inp.investigation_id}", "investigation_id")
    if inv.closed_at is not None:
        raise wrong_state("该生活自理能力复核评估已办结")
    if inp.assessed_on is not None and inp.assessed_on < inv.opened_at.date() - timedelta(days=1):
        raise invalid("assessed_on", "评估日期不能早于报告生活自理能力变化的日期")


def check_close_investigation(state: EntitlementState, inp: InvestigationClose) -> None:
    check_actor(state, inp.actor, INVESTIGATORS)
    inv = investigation(state, inp.investigation_id)
    if inv is None:
        raise not_found(f"没有调查{inp.investigation_id}", "investigation_id")
    if inv.closed_at is not None:
        raise wrong_state("该调查已办结")


def check_record_death(state: EntitlementState, inp: DeathNotification) -> None:
    if state.member(inp.id_number) is None:
        raise not_found("该身份证号码不是本户成员", "id_number")


def check_work_refusal(state: EntitlementState, inp: WorkRefusal) -> None:
    """低保办法 Art. 34: only an active share can be cut for refusing work."""
    check_actor(state, inp.actor, INVESTIGATORS)
    check_open(state)
    member = state.member(inp.member_id_number)
    if member is None:
        raise invalid("member_id_number", "该身份证号码不是本户成员")
    if member.status is not ShareStatus.ACTIVE:
        raise wrong_state(f"该成员的救助份额状态为{member.status.value}")


def check_move_out(state: EntitlementState, inp: MoveOut) -> None:
    """成员迁出: a member of an open entitlement whose share is active or suspended; the
    applicant (the payee) cannot move out of their own household here (the household is then
    reviewed), and a single-person entitlement (特困) ends by termination instead."""
    check_actor(state, inp.actor, INVESTIGATORS)
    check_open(state)
    member = state.member(inp.member_id_number)
    if member is None:
        raise invalid("member_id_number", "该身份证号码不是本户成员")
    if member.status not in (ShareStatus.ACTIVE, ShareStatus.SUSPENDED):
        raise wrong_state(f"该成员的救助份额状态为{member.status.value}，无需办理迁出")
    if member.relation == "applicant" or state.single_person:
        raise invalid("member_id_number", "申请人（户主）不能办理成员迁出，请办理变更或终止")


def check_card_change(state: EntitlementState, inp: CardAccountChange) -> None:
    check_actor(state, inp.actor, DECIDERS)
    check_open(state)


def check_review_outcome(state: EntitlementState, inp: ReviewOutcome) -> None:
    """The county decides an open review (低保办法 Art. 31–33; 特困办法 Art. 24–27)."""
    check_actor(state, inp.actor, DECIDERS)
    check_open(state)
    if state.review is None:
        raise wrong_state("没有待决定的核查")
    if state.status in (EntitlementStatus.WITHDRAWAL, EntitlementStatus.TERMINATING):
        raise wrong_state(f"救助已处于{state.status.value}状态")
    if inp.outcome is ReviewOutcomeKind.ADJUST and inp.new_amount is None:
        raise invalid("new_amount", "调整救助金额须写明新的金额")
    if inp.outcome is not ReviewOutcomeKind.ADJUST and inp.new_amount is not None:
        raise invalid("new_amount", "只有调整救助金额时才填写新的金额")
    if inp.outcome is ReviewOutcomeKind.WITHDRAW and state.programme is not Programme.DIBAO:
        raise invalid("outcome", "渐退仅适用于最低生活保障")
    if (
        inp.outcome is ReviewOutcomeKind.STOP
        and state.programme is Programme.TEKUN
        and inp.transfer_check is None
    ):
        raise invalid("transfer_check", "终止特困人员救助供养须记录转介核查结果")
    if inp.outcome is ReviewOutcomeKind.CONTINUE and not any(
        m.status is ShareStatus.ACTIVE for m in state.members
    ):
        raise invalid("outcome", "本户已无正常享受的成员，请选择停发或调整")
