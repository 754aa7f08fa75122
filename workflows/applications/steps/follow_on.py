"""低保边缘 / 刚性支出困难 after a refusal (DOMAIN §3 step 9; 豫政办〔2022〕103号 二(二)3): the
applicant's answer to the offer of recognition (or its expiry at the end of the reply day) and,
with consent, a linked follow-on case — a child application that starts accepted with the
refused case's investigation and verification and must be decided within 3 working days."""

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from jiuzhu.clock import end_of_day
from workflows.applications.case import StepsOf

with workflow.unsafe.imports_passed_through():
    from activities.applications.membership import HouseholdKey, MembershipActivities

with workflow.unsafe.imports_passed_through():
    from jiuzhu.console import applicant_name, case_static
    from jiuzhu.contract import Actor, CaseKind, legacy_household_id
    from rules.household import Household, Relation
    from rules.programmes import PROGRAMME_SHORT_NAMES_ZH, Programme
    from workflows.applications.contract import (
        WORKFLOW_TYPE,
        ApplicantMember,
        ApplicationStatus,
        application_workflow_id,
        initial_search_attributes,
    )
    from workflows.applications.models import (
        ApplicationInput,
        EdgeConsentInput,
        EdgeOffer,
        PriorCase,
        SinglePersonOffer,
        StepResult,
    )
    from workflows.applications.rules import DECISION, EDGE_RECOGNITION

# A 单人保 case's household id comes from an activity (keyed: ``jiuzhu.household_ids``) instead of
# the unkeyed digest computed in workflow code. Asked at the start of the consent step, before
# any activity, so replay meets the marker where it was recorded.
KEYED_HOUSEHOLD_ID = "keyed-household-id"


class FollowOnSteps(StepsOf):
    # --- 低保边缘 / 刚性支出困难 after a refusal (DOMAIN §3 step 9; seed 000) --------------------
    @workflow.update
    async def edge_consent(self, inp: EdgeConsentInput) -> StepResult:
        """With the applicant's consent a follow-on case recognises the household within 3
        working days (its own deadline); the two cases are linked both ways."""
        async with self._step():
            on = self._checks().edge_consent(inp)
            s = self.state
            offer = s.edge_offer
            assert offer is not None
            offer.consent = inp.consent
            offer.answered_on = on
            keyed_ids = bool(offer.single_persons) and self.versions.patched(KEYED_HOUSEHOLD_ID)
            if inp.consent:
                await self._start_follow_on(offer, on, inp.actor)
            singles = (
                inp.consent if inp.single_person_consent is None else inp.single_person_consent
            )
            for i, person in enumerate(offer.single_persons, start=1):
                person.consent = singles
                if singles:
                    await self._start_single_person(person, i, on, inp.actor, keyed_ids)
            self._rearm()
            name = PROGRAMME_SHORT_NAMES_ZH[offer.programme]
            text = (
                f"申请人同意认定为{name}家庭，转入认定案件{offer.follow_on_case_id}"
                if inp.consent
                else f"申请人不同意认定为{name}家庭"
            )
            for person in offer.single_persons:
                text += (
                    f"；同意{person.name}按单人户申请低保，转入案件{person.follow_on_case_id}"
                    if person.consent
                    else f"；不同意{person.name}按单人户申请低保"
                )
            await self._record(
                "edge_consent",
                inp.actor,
                text,
                on=on,
                consent=inp.consent,
                follow_on_case_id=offer.follow_on_case_id,
                single_person_case_ids=[
                    p.follow_on_case_id for p in offer.single_persons if p.follow_on_case_id
                ],
            )
        return self._result()

    @edge_consent.validator
    def _validate_edge_consent(self, inp: EdgeConsentInput) -> None:
        self._checks().edge_consent(inp)

    async def _start_follow_on(self, offer: EdgeOffer, on: date, actor: Actor) -> None:
        s = self.state
        assert s.household and s.verified_household and s.assessment and s.verification
        suffix = "E" if offer.programme is Programme.DIBAO_EDGE else "R"
        follow_id = f"{s.application_id}-{suffix}"
        child = ApplicationInput(
            application_id=follow_id,
            programme=offer.programme,
            area_code=s.area_code,
            household_id=s.household_id,
            members=s.members,
            submitted_by=actor,
            submitted_at=workflow.now(),
            applied_on=on,
            linked_case_id=s.application_id,
            prior=PriorCase(
                household=s.household,
                verified_household=s.verified_household,
                assessment=s.assessment,
                verification=s.verification,
                relatives_matches=s.relatives_matches,
                county_visits=s.county_visits,
                card_account=s.card_account,
                consent_on=on,
                consented_by=actor,
            ),
        )
        text = case_static(
            CaseKind.APPLICATION,
            area_code=child.area_code,
            programme=child.programme.value,
            applicant_name=applicant_name(child.members),
        )
        try:
            await workflow.start_child_workflow(
                WORKFLOW_TYPE,
                child,
                id=application_workflow_id(follow_id),
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=initial_search_attributes(
                    child, ApplicationStatus.AWAITING_DECISION.value
                ),
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning("follow-on case already started", extra={"case": follow_id})
        offer.follow_on_case_id = follow_id
        s.linked_case_id = follow_id

    async def _start_single_person(
        self, person: SinglePersonOffer, index: int, on: date, actor: Actor, keyed_ids: bool
    ) -> None:
        """单人保 (低保办法 Art. 8): a 低保 case for the member alone — a one-person household
        (their own income; the household's assets and rigid spending stay with the household,
        as in the means test's single-person outcome), linked to the refused case, starting
        accepted with its investigation and verification. The card account is the member's,
        given at the decision."""
        s = self.state
        assert s.verified_household and s.assessment and s.verification
        member = next(m for m in s.verified_household.members if m.id_number == person.id_number)
        alone = Household(members=[member.model_copy(update={"relation": Relation.APPLICANT})])
        follow_id = f"{s.application_id}-S{index}"
        if keyed_ids:
            household_id = await workflow.execute_activity_method(
                MembershipActivities.household_id,
                HouseholdKey(applicant_id_number=member.id_number, area_code=s.area_code),
                start_to_close_timeout=timedelta(seconds=30),
            )
        else:
            household_id = legacy_household_id(member.id_number, s.area_code)
        child = ApplicationInput(
            application_id=follow_id,
            programme=Programme.DIBAO,
            area_code=s.area_code,
            household_id=household_id,
            members=[
                ApplicantMember(
                    name=member.name, id_number=member.id_number, relation=Relation.APPLICANT
                )
            ],
            submitted_by=actor,
            submitted_at=workflow.now(),
            applied_on=on,
            linked_case_id=s.application_id,
            prior=PriorCase(
                household=alone,
                verified_household=alone,
                assessment=s.assessment,
                verification=s.verification,
                relatives_matches=s.relatives_matches,
                county_visits=s.county_visits,
                card_account=None,
                consent_on=on,
                consented_by=actor,
                single_person=True,
            ),
        )
        text = case_static(
            CaseKind.APPLICATION,
            area_code=child.area_code,
            programme=child.programme.value,
            applicant_name=member.name,
        )
        try:
            await workflow.start_child_workflow(
                WORKFLOW_TYPE,
                child,
                id=application_workflow_id(follow_id),
                task_queue=workflow.info().task_queue,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=initial_search_attributes(
                    child, ApplicationStatus.AWAITING_DECISION.value
                ),
                static_summary=text.summary,
                static_details=text.details,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.warning("单人保 case already started", extra={"case": follow_id})
        person.follow_on_case_id = follow_id

    async def _open_follow_on(self, inp: ApplicationInput, prior: PriorCase) -> None:
        """A follow-on recognition case starts accepted, with the refused case's investigation
        and verification, and must be decided within 3 working days of the consent."""
        s = self.state
        policy = await self._fetch_policy(prior.consent_on, "consent_on")
        s.accepted_on, s.accepted_by = prior.consent_on, prior.consented_by
        s.household = prior.household
        s.verified_household = prior.verified_household
        s.assessment = prior.assessment
        s.verification = prior.verification
        s.relatives_matches = prior.relatives_matches
        s.county_visits = prior.county_visits
        s.card_account = prior.card_account
        s.file_received_on = prior.consent_on
        s.status = ApplicationStatus.AWAITING_DECISION
        if prior.single_person:
            # 单人保 is a 低保 case for one person on their own income: its means test is the
            # one-person household's (the data verified once), and the county decides within
            # the 低保 decision period.
            s.single_person = True
            assessed = await self._assess(
                prior.household, prior.verification.results, prior.consent_on
            )
            s.assessment = assessed.assessment
            s.verified_household = assessed.verified_household
            await self._deadline(
                DECISION,
                "单人保审核确认",
                prior.consent_on,
                policy.decision_period(Programme.DIBAO),
                self._decider_level(),
                "低保办法 第八条、第二十条",
            )
            await self._record(
                "accept",
                prior.consented_by,
                f"经申请人同意，由案件{inp.linked_case_id}转入单人保审核确认"
                f"（政策版本{policy.version_id}）",
                on=prior.consent_on,
                linked_case_id=inp.linked_case_id,
            )
            return
        name = PROGRAMME_SHORT_NAMES_ZH[s.programme]
        await self._deadline(
            EDGE_RECOGNITION,
            f"{name}家庭认定",
            prior.consent_on,
            policy.edge_recognition,
            self._decider_level(),
            "豫政办〔2022〕103号 二(二)3",
        )
        await self._record(
            "accept",
            prior.consented_by,
            f"经申请人同意，由案件{inp.linked_case_id}转入{name}家庭认定（政策版本{policy.version_id}）",
            on=prior.consent_on,
            linked_case_id=inp.linked_case_id,
        )

    async def _expire_edge_offer_if_due(self) -> None:
        """No answer by the end of ``reply_by``: the offer lapses (the refused case may end)."""
        offer = self.state.edge_offer
        if offer is None or not offer.open or workflow.now() < end_of_day(offer.reply_by):
            return
        offer.expired = True
        await self._record(
            "edge_offer_expired",
            None,
            f"申请人至{offer.reply_by.isoformat()}未答复是否同意认定",
            on=None,
        )
