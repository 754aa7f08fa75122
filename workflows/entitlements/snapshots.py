"""The entitlement's rows in the read models (pure): the payroll's ``entitlement_account`` row
with the members' shares, and the case-list row (``case_record``)."""

from datetime import datetime

from activities.entitlements.models import AccountSnapshot, month_index
from jiuzhu.contract import CaseKind
from jiuzhu.records import CaseSnapshot
from workflows.entitlements.contract import ShareStatus
from workflows.entitlements.models import EntitlementState, MemberShare


def applicant(state: EntitlementState) -> MemberShare:
    return next((m for m in state.members if m.relation == "applicant"), state.members[0])


def payee_name(state: EntitlementState) -> str:
    """Who is paid: the institution of a centralised 特困 case, else the card holder."""
    if state.centralised and state.institution_name:
        return state.institution_name
    return state.card_account.holder_name


def account_snapshot(state: EntitlementState, workflow_id: str) -> AccountSnapshot:
    s = state
    card = s.card_account
    payee = payee_name(s)
    return AccountSnapshot(
        case_id=s.entitlement_id,
        workflow_id=workflow_id,
        household_id=s.household_id,
        programme=s.programme.value,
        area_code=s.area.code,
        county_code=s.area.county,
        township_code=s.area.township,
        status=s.status.value,
        centralised=s.centralised,
        monthly_amount=s.monthly_amount,
        payable_amount=s.payable_amount,
        next_amount=s.next_amount,
        next_amount_from=month_index(s.next_amount_from) if s.next_amount_from else None,
        members_total=len(s.members),
        members_paid=sum(1 for m in s.members if m.status is ShareStatus.ACTIVE),
        start_month=month_index(s.start_month),
        end_month=month_index(s.end_month) if s.end_month else None,
        payee_name=payee,
        payee_id_number=card.holder_id_number,
        card_account=card.account_number,
        bank_code=card.bank_code,
        next_review=s.next_review,
        policy_version_id=s.policy_version_id,
        revision=s.revision,
        members=[m.model_copy() for m in s.members],
    )


def case_snapshot(
    state: EntitlementState, workflow_id: str, next_due: datetime | None, overdue: bool
) -> CaseSnapshot:
    s = state
    head = applicant(s)
    return CaseSnapshot(
        case_id=s.entitlement_id,
        workflow_id=workflow_id,
        case_kind=CaseKind.ENTITLEMENT.value,
        programme=s.programme.value,
        status=s.status.value,
        area_code=s.area.code,
        household_id=s.household_id,
        applicant_name=head.name,
        applicant_id_number=head.id_number,
        household_size=len(s.members),
        policy_version_id=s.policy_version_id,
        next_deadline=next_due,
        overdue=overdue,
        revision=s.revision,
        linked_case_id=s.application_id,
        detail={
            "monthly_amount": str(s.monthly_amount),
            "payable_amount": str(s.payable_amount),
            "next_review": s.next_review.isoformat(),
            "end_month": s.end_month.isoformat() if s.end_month else None,
            "review_open": s.review is not None,
        },
    )
