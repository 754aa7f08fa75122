"""审核确认 (低保办法 Art. 20–22; 特困办法 Art. 16–17; DOMAIN §6): the county's home visit for
relatives of staff, the overall deadline extended for a recorded special reason, the decision —
an approval hands the case to its entitlement (a child workflow that outlives the application);
a refusal is in ``closing`` — and the county's record of a township's temporary-aid approval."""

from datetime import date
from decimal import Decimal
from typing import Literal

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from workflows.applications.case import StepsOf

with workflow.unsafe.imports_passed_through():
    from activities.applications.checks import AssessResult
    from jiuzhu.console import applicant_name, case_static
    from jiuzhu.contract import Actor, CaseKind, Role
    from jiuzhu.refusals import invalid
    from rules.policy import Policy
    from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
    from workflows.applications import notices
    from workflows.applications.checks import PAYING_PROGRAMMES, members_can_work
    from workflows.applications.contract import ApplicationStatus
    from workflows.applications.models import (
        CountyVisitInput,
        CountyVisitRecord,
        DecisionInput,
        DecisionOutcome,
        DecisionRecord,
        FilingInput,
        FilingRecord,
        SpecialDeadlineInput,
        SpecialReasonRecord,
        StepResult,
    )
    from workflows.applications.rules import (
        DECISION,
        EDGE_RECOGNITION,
        OVERALL,
        first_of_next_month,
        measures,
        outcome_for,
    )
    from workflows.entitlements.contract import (
        ENTITLEMENT_WORKFLOW_TYPE,
        ApprovedCase,
        entitlement_workflow_id,
    )
    from workflows.recognitions.contract import (
        RECOGNITION_PROGRAMMES,
        RECOGNITION_WORKFLOW_TYPE,
        RecognisedCase,
        recognition_workflow_id,
    )

# 2026-11 (issue 14 item 6): an approved 低保边缘/刚性支出困难 recognition starts its yearly
# review (``workflows.recognitions``); recognitions approved before replay without it.
RECOGNITION_REVIEW = "recognition-review"


def decided_by(actor: Actor) -> Literal["county", "township"]:
    return "township" if actor.role is Role.TOWNSHIP_OFFICER else "county"


class DecisionSteps(StepsOf):
    # --- 近亲属备案: county home visit ---------------------------------------------------------
    @workflow.update
    async def county_visit(self, inp: CountyVisitInput) -> StepResult:
        """A relative of a case worker or village cadre gets a county home visit before any
        decision (DOMAIN §2, §7; seed 002)."""
        async with self._step():
            on = self._checks().county_visit(inp)
            self.state.county_visits.append(
                CountyVisitRecord(
                    at=workflow.now(),
                    actor=inp.actor,
                    on=on,
                    visitors=inp.visitors,
                    findings_zh=inp.findings_zh,
                )
            )
            await self._record(
                "county_visit",
                inp.actor,
                f"县级入户核查（{'、'.join(inp.visitors)}）：{inp.findings_zh}",
                on=on,
                visitors=inp.visitors,
            )
        return self._result()

    @county_visit.validator
    def _validate_county_visit(self, inp: CountyVisitInput) -> None:
        self._checks().county_visit(inp)

    # --- 办理总时限: special reason (低保办法 Art. 22) -----------------------------------------
    @workflow.update
    async def extend_deadline(self, inp: SpecialDeadlineInput) -> StepResult:
        """In special cases the overall deadline is 45 working days from acceptance, with the
        reason recorded (低保办法 Art. 22)."""
        async with self._step():
            self._checks().extend(inp)
            s = self.state
            today = self._today()
            s.special_reason = SpecialReasonRecord(
                at=workflow.now(), actor=inp.actor, on=today, reason=inp.reason, note_zh=inp.note_zh
            )
            await self._deadline(
                OVERALL,
                "审核确认办理总时限（特殊情况）",
                s.accepted_on or today,
                self._policy().overall_deadline(special=True),
                self._decider_level(),
                f"{measures(s.programme)}第二十二条",
            )
            await self._record(
                "special_deadline",
                inp.actor,
                f"特殊情况延长办理时限：{inp.note_zh}",
                on=today,
                reason=inp.reason.value,
            )
        return self._result()

    @extend_deadline.validator
    def _validate_extend(self, inp: SpecialDeadlineInput) -> None:
        self._checks().extend(inp)

    # --- 审核确认 (低保办法 Art. 20–21; 特困办法 Art. 16–17) -------------------------------------
    @workflow.update
    async def decide(self, inp: DecisionInput) -> StepResult:
        """Approve (amount from the means test on the decision date, payment from the next month,
        the entitlement started) or refuse (written notice with reasons, delivered through the
        township within 3 working days of the decision; an offer of 低保边缘/刚性支出 recognition
        where the household fits)."""
        async with self._step():
            decided_on = self._checks().decide(inp)
            s = self.state
            policy = self._policy()
            assessed: AssessResult | None = None
            if s.programme is not Programme.TEMPORARY and s.household and s.verification:
                assessed = await self._assess(s.household, s.verification.results, decided_on)
            if inp.outcome is DecisionOutcome.APPROVE:
                await self._approve(inp, decided_on, policy, assessed)
            else:
                await self._refuse(inp, decided_on, policy, assessed)
        return self._result()

    @decide.validator
    def _validate_decide(self, inp: DecisionInput) -> None:
        self._checks().decide(inp)

    async def _approve(
        self, inp: DecisionInput, on: date, policy: Policy, assessed: AssessResult | None
    ) -> None:
        s = self.state
        temporary = s.programme is Programme.TEMPORARY
        assessed_amount: Decimal | None = None
        care_tier: str | None = None
        if assessed is not None:
            outcome = outcome_for(assessed.assessment, s.programme)
            if outcome is None or not outcome.eligible:
                raise invalid("outcome", "按审核确认日期重新核算，家庭不符合条件")
            assessed_amount = outcome.monthly_amount
            care_tier = outcome.care_tier.value if outcome.care_tier else None
            s.assessment = assessed.assessment
            s.verified_household = assessed.verified_household
        amount = inp.amount if inp.amount is not None else (assessed_amount or Decimal("0.00"))
        paying = s.programme in PAYING_PROGRAMMES
        decision = DecisionRecord(
            at=workflow.now(),
            actor=inp.actor,
            on=on,
            outcome=DecisionOutcome.APPROVE,
            decided_by_level=decided_by(inp.actor),
            file_received_on=s.file_received_on or on,
            amount=amount,
            assessed_amount=assessed_amount,
            amount_reason_zh=inp.amount_reason_zh,
            start_month=first_of_next_month(on) if paying else None,
            care_tier=care_tier if s.programme is Programme.TEKUN else None,
            centralised=inp.centralised,
            institution_name=inp.institution_name,
            note_zh=inp.note_zh,
        )
        s.decision = decision
        s.approved_amount = amount
        s.start_month = decision.start_month
        if inp.card_account is not None:
            s.card_account = inp.card_account
        for name in (DECISION, OVERALL, EDGE_RECOGNITION):
            await self.book.meet(name, on=on)
        if temporary and inp.actor.role is Role.TOWNSHIP_OFFICER:
            s.status = ApplicationStatus.AWAITING_FILING
        else:
            s.status = ApplicationStatus.APPROVED
        if paying and s.verified_household is not None:
            size = 1 if s.programme is Programme.TEKUN else len(s.verified_household.members)
            can_work = members_can_work(s.verified_household, on, policy)
            await self._issue(notices.approval(s, policy, decision, can_work, size), inp.actor)
            entitlement = self._approved_case(decision, policy, can_work)
        else:
            entitlement = None
        if s.status is ApplicationStatus.APPROVED:
            await self._hand_household_to(
                f"{s.household_id}-{s.programme.value}" if entitlement is not None else None
            )
        if entitlement is not None and not self._light:
            # Legacy path: the child first, then the record (as recorded before light-history).
            await self._start_entitlement(entitlement)
        text = f"审核确认：同意，月救助金额{amount}元"
        if temporary:
            text = f"审批：同意临时救助{amount}元" + (
                "（乡镇审批，报县级备案）" if s.status is ApplicationStatus.AWAITING_FILING else ""
            )
        elif not paying:
            text = f"审核确认：认定为{PROGRAMME_SHORT_NAMES_ZH[s.programme]}家庭"
        if decision.start_month:
            text += f"，自{decision.start_month.year}年{decision.start_month.month}月起发放"
        await self._record(
            "decision",
            inp.actor,
            text,
            on=on,
            evidence=self._decision_evidence(),
            outcome="approve",
            amount=str(amount),
            assessed_amount=str(assessed_amount) if assessed_amount is not None else None,
            amount_reason=inp.amount_reason_zh,
            start_month=decision.start_month.isoformat() if decision.start_month else None,
            entitlement_workflow_id=s.entitlement_workflow_id,
        )
        if entitlement is not None and self._light:
            # Light path: the decision is recorded first and the child started last, so the
            # update and the run end in the workflow task that sees the child started (a child
            # that ends at once cannot then reject the application's completion).
            await self._start_entitlement(entitlement)
        if (
            s.programme in RECOGNITION_PROGRAMMES
            and s.status is ApplicationStatus.APPROVED
            and self.versions.patched(RECOGNITION_REVIEW)
        ):
            await self._start_recognition_review(decision)

    async def _start_recognition_review(self, decision: DecisionRecord) -> None:
        """Seed 000 (豫政办〔2022〕103号 二(二)): 低保边缘/支出型困难 households are reviewed
        yearly from the recognition date — a child workflow that outlives the application
        (parent-close policy ABANDON), one per household and programme."""
        s = self.state
        head = next((m for m in s.members if m.relation == "applicant"), s.members[0])
        size = len(s.verified_household.members) if s.verified_household else len(s.members)
        child_id = recognition_workflow_id(s.household_id, s.programme.value)
        text = case_static(
            CaseKind.RECOGNITION,
            area_code=s.area_code,
            programme=s.programme.value,
            applicant_name=head.name,
        )
        try:
            await workflow.start_child_workflow(
                RECOGNITION_WORKFLOW_TYPE,
                RecognisedCase(
                    application_id=s.application_id,
                    household_id=s.household_id,
                    programme=s.programme,
                    area_code=s.area_code,
                    recognised_on=decision.on,
                    recognised_at=decision.at,
                    recognised_by=decision.actor,
                    applicant_name=head.name,
                    applicant_id_number=head.id_number,
                    household_size=size,
                    policy_version_id=s.policy_version_id or "",
                ),
                id=child_id,
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning(
                "recognition review already running", extra={"recognition_workflow_id": child_id}
            )

    def _approved_case(
        self, decision: DecisionRecord, policy: Policy, can_work: bool
    ) -> ApprovedCase | None:
        """What the entitlement is started with; ``None`` when nothing is paid (no card, no
        verified household or no start month). Names the entitlement in the case at once."""
        s = self.state
        card = s.card_account
        household = s.verified_household
        if card is None or household is None or decision.start_month is None:
            return None
        s.entitlement_workflow_id = entitlement_workflow_id(s.household_id, s.programme.value)
        return ApprovedCase(
            application_id=s.application_id,
            household_id=s.household_id,
            programme=s.programme,
            single_person=s.single_person,
            area_code=s.area_code,
            household=household,
            monthly_amount=decision.amount or Decimal("0.00"),
            start_month=decision.start_month,
            approved_at=workflow.now(),
            approved_by=decision.actor,
            policy_version_id=policy.version_id,
            card_account=card,
            members_can_work=can_work,
            centralised=decision.centralised,
            institution_name=decision.institution_name,
            care_tier=decision.care_tier,
        )

    async def _start_entitlement(self, approved: ApprovedCase) -> None:
        """Hand the approved case to its entitlement (``workflows.entitlements.contract``): a
        child workflow that outlives the application (parent-close policy ABANDON)."""
        child_id = entitlement_workflow_id(approved.household_id, approved.programme.value)
        text = case_static(
            CaseKind.ENTITLEMENT,
            area_code=self.state.area_code,
            programme=approved.programme.value,
            applicant_name=applicant_name(self.state.members),
        )
        try:
            await workflow.start_child_workflow(
                ENTITLEMENT_WORKFLOW_TYPE,
                approved,
                id=child_id,
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning(
                "entitlement already running", extra={"entitlement_workflow_id": child_id}
            )

    # --- 临时救助: county record of a township approval (DOMAIN §6) -----------------------------
    @workflow.update
    async def record_filing(self, inp: FilingInput) -> StepResult:
        async with self._step():
            on = self._checks().filing(inp)
            s = self.state
            s.filing = FilingRecord(at=workflow.now(), actor=inp.actor, on=on, note_zh=inp.note_zh)
            s.status = ApplicationStatus.APPROVED
            await self._record("filing", inp.actor, "乡镇审批临时救助已报县级备案", on=on)
        return self._result()

    @record_filing.validator
    def _validate_filing(self, inp: FilingInput) -> None:
        self._checks().filing(inp)
