"""The read-model row of an application (lists and searches in the API come from it)."""

from datetime import datetime
from typing import Any

from jiuzhu.contract import CaseKind
from jiuzhu.records import CaseSnapshot
from rules.policy import Policy
from workflows.applications.contract import STATUS_ZH
from workflows.applications.models import ApplicationState


def case_snapshot(
    state: ApplicationState,
    policy: Policy | None,
    workflow_id: str,
    next_deadline: datetime | None,
    overdue: bool,
) -> CaseSnapshot:
    """The read-model row of a case (lists and searches come from it)."""
    s = state
    detail: dict[str, Any] = {
        "timeline_length": len(s.timeline),
        "status_zh": STATUS_ZH[s.status],
        "applied_on": s.applied_on.isoformat() if s.applied_on else None,
        "accepted_on": s.accepted_on.isoformat() if s.accepted_on else None,
        "file_received_on": s.file_received_on.isoformat() if s.file_received_on else None,
        "relatives_flag": bool(s.relatives_matches),
        "county_visit_done": bool(s.county_visits),
        "special_reason": s.special_reason.reason.value if s.special_reason else None,
        "publicity_rounds": len(s.publicity),
        "notices": [n.notice_id for n in s.notices],
        "requested_amount": str(s.requested_amount) if s.requested_amount else None,
        "approved_amount": str(s.approved_amount) if s.approved_amount is not None else None,
        "start_month": s.start_month.isoformat() if s.start_month else None,
        "entitlement_workflow_id": s.entitlement_workflow_id,
        "decision": s.decision.outcome.value if s.decision else None,
        "decided_on": s.decision.on.isoformat() if s.decision else None,
        "care_tier": s.decision.care_tier if s.decision else None,
        "centralised": s.decision.centralised if s.decision else None,
        "institution_name": s.decision.institution_name if s.decision else None,
        "edge_offer": s.edge_offer.programme.value if s.edge_offer else None,
        "edge_consent": s.edge_offer.consent if s.edge_offer else None,
    }
    if policy is not None:
        detail["spot_check_rate"] = str(
            policy.spot_check_share(relative_of_staff=bool(s.relatives_matches))
        )
    applicant = s.applicant
    return CaseSnapshot(
        case_id=s.application_id,
        workflow_id=workflow_id,
        case_kind=CaseKind.APPLICATION.value,
        programme=s.programme.value,
        status=s.status.value,
        area_code=s.area_code,
        household_id=s.household_id,
        applicant_name=applicant.name,
        applicant_id_number=applicant.id_number,
        household_size=len(s.members),
        policy_version_id=s.policy_version_id,
        next_deadline=next_deadline,
        overdue=overdue,
        revision=s.revision,
        linked_case_id=s.linked_case_id,
        detail=detail,
    )
