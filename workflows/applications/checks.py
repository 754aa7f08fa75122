"""The checks of every step of the application workflow (who may act, in which state, with which
data): pure functions of the case state, used by the workflow's update validators and again by
the handlers under the case lock. Each raises a ``jiuzhu.refusals`` refusal — ``WrongState``
(409), ``Forbidden`` (403) or ``InvalidInput`` (422, naming the field) — before anything is
recorded. Unit-tested without a server (tests/application/test_checks.py)."""

from dataclasses import dataclass
from datetime import date

from activities.deadlines import Deadline
from jiuzhu.clock import beijing_date
from jiuzhu.contract import Actor, Role
from jiuzhu.refusals import invalid, wrong_state
from rules.household import Household, WorkCapacity, age_on, validate_household_on
from rules.policy import Policy
from rules.programmes import Programme
from workflows.applications.contract import CLOSED_STATUSES, STATUS_ZH, ApplicationStatus
from workflows.applications.models import (
    AcceptInput,
    ApplicationState,
    AppraisalInput,
    CountyVisitInput,
    DecisionInput,
    DecisionOutcome,
    DeliveryInput,
    EdgeConsentInput,
    EndReviewInput,
    FilingInput,
    InvestigationInput,
    InvestigationMethod,
    MissingDocumentsInput,
    OpinionInput,
    PublicityObjectionInput,
    Recommendation,
    SpecialDeadlineInput,
    SupplementInput,
    VerificationObjectionInput,
    WithdrawInput,
)
from workflows.applications.rules import (
    ADVERSE_CODES,
    COUNTY_ROLES,
    OVERALL,
    TOWNSHIP_OR_COUNTY,
    TOWNSHIP_OR_VILLAGE,
    TOWNSHIP_ROLES,
    act_date,
    decider_roles,
    outcome_for,
    require_actor,
)

REFUSAL_KINDS = ("refusal", "temporary_refusal")
PAYING_PROGRAMMES = (Programme.DIBAO, Programme.TEKUN)
ACCEPTED_OPEN = (
    ApplicationStatus.ACCEPTED,
    ApplicationStatus.VERIFICATION,
    ApplicationStatus.AWAITING_OPINION,
    ApplicationStatus.PUBLICITY,
    ApplicationStatus.OBJECTION,
    ApplicationStatus.AWAITING_DECISION,
)


def members_can_work(household: Household, on: date, policy: Policy) -> bool:
    """Members of working age with work capacity: reviewed every 6 months (低保办法 Art. 31)."""
    return any(
        m.work_capacity is not WorkCapacity.NONE
        and policy.tekun_minor_age <= age_on(m.birth_date, on) < policy.tekun_elderly_age
        for m in household.members
    )


@dataclass(frozen=True)
class StepChecks:
    """The checks of every step against one moment of the case: its state, the policy it runs
    under (after acceptance) and today's date (Beijing time)."""

    state: ApplicationState
    policy: Policy | None
    today: date

    def require(self, actor: Actor, roles: frozenset[Role], step_zh: str) -> None:
        require_actor(actor, roles, self.state.area_code, step_zh)

    def expect(self, step_zh: str, *statuses: ApplicationStatus) -> None:
        status = self.state.status
        if status not in statuses:
            raise wrong_state(f"案件当前状态为「{STATUS_ZH[status]}」，不能办理「{step_zh}」")

    def open_deadline(self, name: str) -> Deadline | None:
        for d in reversed(self.state.deadlines):
            if d.name == name:
                return d if d.is_open else None
        return None

    def accept(self, inp: AcceptInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_ROLES, "受理")
        if s.status is ApplicationStatus.DOCUMENTS_REQUESTED:
            raise wrong_state("申请材料尚未补齐，不能受理（一次性告知后须先登记补齐材料）")
        self.expect("受理", ApplicationStatus.SUBMITTED)
        not_before = s.supplements[-1].on if s.supplements else s.applied_on
        return act_date(
            "accepted_on", inp.accepted_on, self.today, not_before, "申请或补齐材料日期"
        )

    def request_documents(self, inp: MissingDocumentsInput) -> None:
        self.require(inp.actor, TOWNSHIP_ROLES, "一次性告知")
        if self.state.missing_documents is not None:
            raise wrong_state("已一次性告知需补齐的全部材料，不得再次要求补充")
        self.expect("一次性告知", ApplicationStatus.SUBMITTED)
        if inp.submit_by is not None and inp.submit_by <= self.today:
            raise invalid("submit_by", "补齐材料期限须晚于今天")

    def supplement(self, inp: SupplementInput) -> date:
        self.require(inp.actor, TOWNSHIP_OR_VILLAGE, "补齐材料")
        self.expect("补齐材料", ApplicationStatus.DOCUMENTS_REQUESTED)
        notice = self.state.missing_documents
        return act_date(
            "received_on", inp.received_on, self.today, notice.on if notice else None, "告知日期"
        )

    def investigation(self, inp: InvestigationInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_ROLES, "入户调查")
        self.expect(
            "入户调查",
            ApplicationStatus.ACCEPTED,
            ApplicationStatus.AWAITING_OPINION,
            ApplicationStatus.OBJECTION,
        )
        previous = [x.on for x in s.investigations] + [x.on for x in s.publicity_objections]
        not_before = max([*previous, s.accepted_on]) if s.accepted_on else None
        today = self.today
        on = act_date("visited_on", inp.visited_on, today, not_before, "受理或上次调查/异议日期")
        if inp.method is InvestigationMethod.REMOTE and not inp.remote_reason_zh:
            raise invalid("remote_reason_zh", "电话、视频调查仅限重大突发事件，须说明理由")
        if not inp.signed_by_household:
            raise invalid("signed_by_household", "调查表须由调查人员和申请人双方签字确认")
        household = inp.household
        if household is None:
            if s.programme is not Programme.TEMPORARY:
                raise invalid("household", "须填写家庭经济状况调查结果")
            return on
        if household.applicant.id_number != s.applicant.id_number:
            raise invalid("household.members", "调查的申请人须与申请书中的申请人一致")
        for problem in validate_household_on(household, today):
            raise invalid("household." + ".".join(str(p) for p in problem.loc), problem.message)
        if s.programme is Programme.TEKUN:
            for index, member in enumerate(household.members):
                if member.id_number == s.applicant.id_number and member.self_care is None:
                    raise invalid(
                        f"household.members.{index}.self_care",
                        "特困人员申请须进行生活自理能力评估（特困办法第二十条）",
                    )
        return on

    def verification_objection(self, inp: VerificationObjectionInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_OR_COUNTY, "信息核对复查")
        self.expect("信息核对复查", ApplicationStatus.AWAITING_OPINION)
        v = s.verification
        if s.programme is Programme.TEMPORARY or v is None:
            raise wrong_state("本案未进行信息核对")
        if inp.source is not None and inp.source not in v.sources:
            raise invalid("source", f"未知的数据源{inp.source}")
        return act_date("received_on", inp.received_on, self.today, v.requested_on, "核对日期")

    def appraisal(self, inp: AppraisalInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_ROLES, "民主评议")
        if s.programme is Programme.TEMPORARY:
            self.expect("民主评议", ApplicationStatus.AWAITING_OPINION, ApplicationStatus.OBJECTION)
        elif s.status is not ApplicationStatus.OBJECTION:
            raise wrong_state("民主评议仅在公示有异议时进行（低保办法第十九条）")
        if inp.votes_for + inp.votes_against > inp.participants:
            raise invalid("votes_for", "同意与不同意票数之和超过参加人数")
        previous = [x.on for x in s.publicity_objections] + [x.on for x in s.investigations]
        not_before = max([*previous, s.accepted_on]) if s.accepted_on else None
        return act_date("held_on", inp.held_on, self.today, not_before, "异议或调查日期")

    def opinion(self, inp: OpinionInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_ROLES, "初审")
        self.expect("初审", ApplicationStatus.AWAITING_OPINION)
        if s.programme is not Programme.TEMPORARY and not (
            s.verification is not None and s.verification.complete
        ):
            raise wrong_state("信息核对尚未完成，不能提出初审意见（低保办法第二十八条）")
        previous = [x.on for x in s.investigations] + [x.on for x in s.appraisals]
        not_before = max([*previous, s.accepted_on]) if s.accepted_on else None
        on = act_date("opinion_on", inp.opinion_on, self.today, not_before, "调查或评议日期")
        self.publicity_posted(inp, on)
        if s.programme is Programme.TEMPORARY:
            if inp.recommendation is Recommendation.APPROVE and not inp.proposed_amount:
                raise invalid("proposed_amount", "须填写拟救助金额")
            return on
        outcome = outcome_for(s.assessment, s.programme) if s.assessment else None
        eligible = outcome is not None and outcome.eligible
        if (inp.recommendation is Recommendation.APPROVE) != eligible and not inp.reason_zh:
            raise invalid("reason_zh", "初审意见与家庭经济状况核对结果不一致，须说明理由")
        return on

    def publicity_posted(self, inp: OpinionInput, opinion_on: date) -> date:
        """The first day of the publicity (低保办法 Art. 19): the posting date on paper when
        given, never before the opinion nor after today; else today. Only a proposed approval
        is published."""
        if inp.posted_on is None:
            return self.today
        if inp.recommendation is not Recommendation.APPROVE:
            raise invalid("posted_on", "初审不同意的，不予公示，不应填写公示张贴日期")
        return act_date("posted_on", inp.posted_on, self.today, opinion_on, "初审日期")

    def publicity_objection(self, inp: PublicityObjectionInput) -> date:
        self.require(inp.actor, TOWNSHIP_OR_VILLAGE, "公示异议")
        self.expect("公示异议", ApplicationStatus.PUBLICITY)
        start = self.state.publicity[-1].start_on
        return act_date("received_on", inp.received_on, self.today, start, "公示开始日期")

    def county_visit(self, inp: CountyVisitInput) -> date:
        self.require(inp.actor, COUNTY_ROLES, "县级入户核查")
        self.expect("县级入户核查", *ACCEPTED_OPEN)
        return act_date(
            "visited_on", inp.visited_on, self.today, self.state.accepted_on, "受理日期"
        )

    def extend(self, inp: SpecialDeadlineInput) -> None:
        s = self.state
        self.require(inp.actor, TOWNSHIP_OR_COUNTY, "延长办理时限")
        self.expect("延长办理时限", *ACCEPTED_OPEN)
        overall = self.open_deadline(OVERALL)
        if overall is None:
            raise wrong_state("本案没有进行中的办理总时限")
        if s.special_reason is not None:
            raise wrong_state("办理时限已因特殊情况延长")

    def decide(self, inp: DecisionInput) -> date:
        s = self.state
        policy = self.policy
        if policy is None:
            raise wrong_state("案件尚未受理")
        approve = inp.outcome is DecisionOutcome.APPROVE
        amount = inp.amount if approve else s.requested_amount
        self.require(inp.actor, decider_roles(policy, s.programme, amount), "审核确认")
        self.expect("审核确认", ApplicationStatus.AWAITING_DECISION)
        if s.relatives_matches and not s.county_visits:
            raise wrong_state("申请人或家庭成员属近亲属备案对象，须先由县级民政部门入户核查")
        temporary = s.programme is Programme.TEMPORARY
        if not temporary and not (s.verification is not None and s.verification.complete):
            raise wrong_state("信息核对尚未完成，不能审核确认（低保办法第二十八条）")
        on = act_date(
            "decided_on", inp.decided_on, self.today, s.file_received_on, "材料报送审核确认日期"
        )
        if temporary:
            if approve and not inp.amount:
                raise invalid("amount", "须填写救助金额")
            if not approve and not inp.reasons_zh:
                raise invalid("reasons_zh", "不予救助须说明理由")
            return on
        outcome = outcome_for(s.assessment, s.programme) if s.assessment else None
        eligible = outcome is not None and outcome.eligible
        if approve:
            if not eligible:
                why = "；".join(
                    r.text_zh
                    for r in (outcome.reasons if outcome else [])
                    if r.code in ADVERSE_CODES
                )
                raise invalid("outcome", f"家庭经济状况核对结果不符合条件，不能确认：{why}")
            if (
                inp.amount is not None
                and outcome is not None
                and inp.amount != outcome.monthly_amount
                and not inp.amount_reason_zh
            ):
                raise invalid("amount_reason_zh", "确认金额与核算金额不一致，须说明理由")
            if s.programme in PAYING_PROGRAMMES and inp.card_account is None and not s.card_account:
                raise invalid("card_account", "须登记社会保障卡（一卡通）账户")
            if inp.centralised and s.programme is not Programme.TEKUN:
                raise invalid("centralised", "集中供养仅适用于特困人员")
            if inp.centralised and not inp.institution_name:
                raise invalid("institution_name", "集中供养须填写供养机构")
        elif eligible and not inp.reasons:
            raise invalid("reasons", "核对结果符合条件，不予确认须说明理由")
        return on

    def filing(self, inp: FilingInput) -> date:
        self.require(inp.actor, COUNTY_ROLES, "县级备案")
        self.expect("县级备案", ApplicationStatus.AWAITING_FILING)
        decision = self.state.decision
        return act_date(
            "filed_on", inp.filed_on, self.today, decision.on if decision else None, "审批日期"
        )

    def delivery(self, inp: DeliveryInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_ROLES, "送达通知书")
        notice = s.notice(inp.notice_id)
        if notice is None:
            raise invalid("notice_id", f"本案没有编号为{inp.notice_id}的通知书")
        if notice.delivered_on is not None:
            raise wrong_state("该通知书已送达")
        issued = beijing_date(notice.issued_at)
        not_before = s.decision.on if s.decision is not None else min(issued, self.today)
        return act_date("delivered_on", inp.delivered_on, self.today, not_before, "决定日期")

    def edge_consent(self, inp: EdgeConsentInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_OR_VILLAGE, "认定意愿")
        if s.edge_offer is None or not s.edge_offer.open:
            raise wrong_state("本案没有待答复的低保边缘/刚性支出困难认定告知")
        if inp.single_person_consent is not None and not s.edge_offer.single_persons:
            raise invalid("single_person_consent", "本案没有单人保告知")
        if inp.single_person_consent and not inp.consent:
            raise invalid("single_person_consent", "单人保以本户认定为低保边缘家庭为前提")
        return act_date(
            "answered_on",
            inp.answered_on,
            self.today,
            s.decision.on if s.decision else None,
            "决定日期",
        )

    def withdraw(self, inp: WithdrawInput) -> date:
        s = self.state
        self.require(inp.actor, TOWNSHIP_OR_VILLAGE, "撤回申请")
        if s.status in CLOSED_STATUSES or s.status is ApplicationStatus.AWAITING_FILING:
            raise wrong_state(f"案件已{STATUS_ZH[s.status]}，不能撤回")
        return act_date("withdrawn_on", inp.withdrawn_on, self.today, s.applied_on, "申请日期")

    def end_review(self, inp: EndReviewInput) -> date:
        self.require(inp.actor, TOWNSHIP_OR_COUNTY, "终止审核确认")
        self.expect("终止审核确认", *ACCEPTED_OPEN)
        return act_date("ended_on", inp.ended_on, self.today, self.state.accepted_on, "受理日期")
