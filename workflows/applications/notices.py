"""The written notices of an application, built from the case state (pure): the models of
``rules.notices`` where they fit, and the two local kinds of ``activities.applications.notices``
(the notice ending a review for refusal to cooperate, 低保办法 Art. 29; the refusal of temporary
assistance with free-text reasons, 民发〔2018〕23号), where they are rendered and stored."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from activities.applications.notices import ReviewTerminatedNotice, TemporaryRefusalNotice
from rules.household import CareTier
from rules.notices import (
    ApprovalNotice,
    EdgeRecognitionNotice,
    MissingDocumentsNotice,
    PublicityList,
    PublicityRow,
    RefusalNotice,
)
from rules.policy import Policy
from rules.programmes import Programme
from rules.reasons import Reason
from workflows.applications.models import ApplicationState, DecisionRecord
from workflows.applications.rules import (
    DIBAO_MEASURES,
    county_bureau,
    court,
    measures,
    review_authority,
    township_government,
    village_name,
)


def _applied_on(state: ApplicationState) -> date:
    return state.applied_on or state.submitted_at.date()


def _appeal(state: ApplicationState, policy: Policy) -> dict[str, Any]:
    return {
        "review_authority": review_authority(state.area),
        "court": court(state.area),
        "review_period": policy.administrative_review_period,
        "lawsuit_period": policy.lawsuit_period,
    }


def missing_documents(
    state: ApplicationState,
    issued_on: date,
    missing: list[str],
    submit_by: date,
    contact: str,
) -> MissingDocumentsNotice:
    return MissingDocumentsNotice(
        case_id=state.application_id,
        authority=township_government(state.area),
        issued_on=issued_on,
        applicant_name=state.applicant.name,
        programme=state.programme,
        township=township_government(state.area),
        received_on=_applied_on(state),
        missing_documents=missing,
        submit_by=submit_by,
        contact=contact,
    )


def publicity_list(
    state: ApplicationState,
    policy: Policy,
    start: date,
    end: date,
    amount: Decimal,
) -> PublicityList:
    """公示 of the initial opinion in the village (低保办法 Art. 19): masked on rendering."""
    size = 1 if state.programme is Programme.TEKUN else len(state.members)
    return PublicityList(
        case_id=state.application_id,
        authority=township_government(state.area),
        issued_on=start,
        programme=state.programme,
        village=village_name(state.area),
        period_start=start,
        period_end=end,
        rows=[
            PublicityRow(
                name=state.applicant.name,
                id_number=state.applicant.id_number,
                household_size=size,
                monthly_amount=amount,
            )
        ],
        objection_channel=f"{township_government(state.area)}社会救助经办窗口",
        complaints_hotline=policy.complaints_hotline,
    )


def approval(
    state: ApplicationState, policy: Policy, decision: DecisionRecord, can_work: bool, size: int
) -> ApprovalNotice:
    return ApprovalNotice(
        case_id=state.application_id,
        authority=county_bureau(state.area)
        if decision.decided_by_level == "county"
        else township_government(state.area),
        issued_on=decision.on,
        applicant_name=state.applicant.name,
        programme=state.programme,
        single_person=state.single_person,
        monthly_amount=decision.amount or Decimal("0.00"),
        members_covered=size,
        start_month=decision.start_month or decision.on,
        decided_on=decision.on,
        policy_basis="；".join([measures(state.programme), *policy.legal_basis]),
        policy_version_id=policy.version_id,
        township=township_government(state.area),
        payment_day=policy.payment_credit_day,
        care_tier=CareTier(decision.care_tier) if decision.care_tier else None,
        review_period=policy.review_period(can_work=can_work),
    )


def refusal(
    state: ApplicationState, policy: Policy, decision: DecisionRecord
) -> RefusalNotice | TemporaryRefusalNotice:
    """不予确认 with reasons and legal basis, and appeal rights (低保办法 Art. 21, 38)."""
    authority = (
        county_bureau(state.area)
        if decision.decided_by_level == "county"
        else township_government(state.area)
    )
    if state.programme is Programme.TEMPORARY:
        return TemporaryRefusalNotice(
            case_id=state.application_id,
            authority=authority,
            issued_on=decision.on,
            applicant_name=state.applicant.name,
            applied_on=_applied_on(state),
            decided_on=decision.on,
            requested_amount=state.requested_amount,
            reasons_zh=decision.reasons_zh,
            **_appeal(state, policy),
        )
    return RefusalNotice(
        case_id=state.application_id,
        authority=authority,
        issued_on=decision.on,
        applicant_name=state.applicant.name,
        programme=state.programme,
        applied_on=_applied_on(state),
        decided_on=decision.on,
        reasons=[Reason(code=r.code, text_zh=r.text_zh, basis=r.basis) for r in decision.reasons],
        **_appeal(state, policy),
    )


def edge_recognition(
    state: ApplicationState, policy: Policy, offered: Programme, issued_on: date, reply_by: date
) -> EdgeRecognitionNotice:
    return EdgeRecognitionNotice(
        case_id=state.application_id,
        authority=county_bureau(state.area),
        issued_on=issued_on,
        applicant_name=state.applicant.name,
        refused_programme=state.programme,
        offered_programme=offered,
        recognition_period=policy.edge_recognition,
        reply_by=reply_by,
        township=township_government(state.area),
    )


def review_terminated(
    state: ApplicationState, policy: Policy, ended_on: date, grounds: str, by_county: bool
) -> ReviewTerminatedNotice:
    return ReviewTerminatedNotice(
        case_id=state.application_id,
        authority=county_bureau(state.area) if by_county else township_government(state.area),
        issued_on=ended_on,
        applicant_name=state.applicant.name,
        programme=state.programme,
        applied_on=_applied_on(state),
        ended_on=ended_on,
        grounds_zh=[grounds],
        basis=f"{DIBAO_MEASURES}第二十九条",
        **_appeal(state, policy),
    )


def reply_by(decided_on: date, days: int) -> date:
    return decided_on + timedelta(days=days)
