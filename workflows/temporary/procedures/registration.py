"""Registration of a temporary-assistance case (DOMAIN §6, §9): the policy in force on the day
the case is registered, the link to a 低保/特困 application of the household still waiting on
its decision (temporary assistance may be given first), and the registration record."""

from activities.policy import PolicyActivities, PolicyRequest
from activities.temporary.cases import TemporaryActivities
from activities.temporary.payloads import PendingLookup
from jiuzhu.calls import call
from jiuzhu.clock import workflow_today
from jiuzhu.records import AuditRecord
from workflows.temporary.case import TemporaryCase
from workflows.temporary.contract import TemporaryProcedure


async def register(case: TemporaryCase) -> None:
    s = case.state
    s.policy = await call(
        PolicyActivities.policy_in_force, PolicyRequest(area_code=s.area.code, on=workflow_today())
    )
    s.policy_version_id = s.policy.version_id
    pending = await call(
        TemporaryActivities.find_pending_application,
        PendingLookup(
            household_id=s.household_id, member_id_numbers=[m.id_number for m in s.members]
        ),
    )
    linked: list[AuditRecord] = []
    if pending is not None:
        s.linked_case_id = pending.case_id
        # An audit line on the linked application, so its file shows the temporary aid.
        linked.append(
            case.publisher.audit(
                case_id=pending.case_id,
                seq=f"linked:{pending.case_id}",
                action="temporary_assistance_linked",
                actor=s.registered_by,
                detail={"temporary_case_id": s.case_id},
            )
        )
    note = (
        "登记临时救助（急难型）"
        if s.procedure is TemporaryProcedure.EMERGENCY
        else "申请临时救助（支出型）"
    )
    if pending is not None:
        note += f"；关联待审核的{pending.programme}申请{pending.case_id}"
    await case.record(
        "register",
        s.registered_by,
        note,
        extra_audit=linked,
        procedure=s.procedure.value,
        event_type=s.event.event_type.value,
        event_date=s.event.event_date.isoformat(),
        linked_case_id=s.linked_case_id,
        repeat_reason=s.repeat_reason,
    )
