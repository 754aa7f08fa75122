"""支出型 temporary assistance, the normal procedure (国发〔2014〕47号: 申请、受理、审核、审批):
the application workflow runs the statutory steps as a child (apply → accept → investigate →
publicity → decision, refusal notice within 3 working days), with Programme.TEMPORARY, the
requested amount and this case's id; an approved amount is paid here from county funds and the
case closes. A refused or withdrawn application closes the case unpaid and frees its event."""

from datetime import timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from activities.temporary.cases import TemporaryActivities
from activities.temporary.payloads import PaymentOrder
from jiuzhu.calls import call
from jiuzhu.clock import workflow_today
from jiuzhu.console import applicant_name, case_static
from jiuzhu.contract import CaseKind
from jiuzhu.refusals import refusal_of
from rules.money import format_yuan
from rules.programmes import Programme
from workflows.applications.contract import WORKFLOW_TYPE as APPLICATION_WORKFLOW_TYPE
from workflows.applications.contract import (
    ApplicationStatus,
    application_workflow_id,
    initial_search_attributes,
)
from workflows.applications.models import ApplicationInput, ApplicationState
from workflows.payments.contract import PaymentKind
from workflows.temporary.case import TemporaryCase
from workflows.temporary.contract import (
    EVENT_ALREADY_AIDED,
    TemporaryOutcome,
    application_id_for_case,
    award_key,
)
from workflows.temporary.models import ChildApplication, PaymentRecord
from workflows.temporary.procedures.emergency import MONEY_RETRY
from workflows.temporary.rules import one_off_floor

PAYMENT_TIMEOUT = timedelta(seconds=30)


async def run_application(case: TemporaryCase) -> None:
    """Claim the event, start the application as a child (cancelled if this case is), wait for
    its final state, then pay or close."""
    s = case.state
    try:
        await call(TemporaryActivities.claim_event, case.claim(None), retry_policy=MONEY_RETRY)
    except ActivityError as err:
        refusal = refusal_of(err)
        if refusal is not None and refusal.extra.get("code") == EVENT_ALREADY_AIDED:
            async with case.lock:
                await case.close(TemporaryOutcome.REFUSED, f"不予受理：{refusal.message_zh}", None)
            return
        raise
    app_id = application_id_for_case(s.case_id)
    wf_id = application_workflow_id(app_id)
    child_input = ApplicationInput(
        application_id=app_id,
        programme=Programme.TEMPORARY,
        area_code=s.area.code,
        household_id=s.household_id,
        members=s.members,
        submitted_by=s.registered_by,
        submitted_at=s.registered_at,
        requested_amount=s.requested_amount,
        linked_case_id=s.case_id,
    )
    text = case_static(
        CaseKind.APPLICATION,
        area_code=s.area.code,
        programme=Programme.TEMPORARY.value,
        applicant_name=applicant_name(s.members),
    )
    child = await workflow.start_child_workflow(
        APPLICATION_WORKFLOW_TYPE,
        child_input,
        id=wf_id,
        result_type=ApplicationState,
        search_attributes=initial_search_attributes(child_input, "submitted"),
        parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
        static_summary=text.summary,
        static_details=text.details,
    )
    async with case.lock:
        s.application = ChildApplication(
            application_id=app_id, workflow_id=wf_id, started_at=workflow.now()
        )
        await case.record(
            "application_started",
            s.registered_by,
            f"按审核审批程序办理，申请{app_id}",
            application_id=app_id,
        )
    try:
        result = await child
    except ChildWorkflowError as err:
        raise ApplicationError(
            f"申请{app_id}未正常结束：{err.cause}", type="ApplicationFailed", non_retryable=True
        ) from err
    async with case.lock:
        await _conclude(case, result)


async def _conclude(case: TemporaryCase, result: ApplicationState) -> None:
    s = case.state
    assert s.application is not None
    status = result.status.value
    approved = result.approved_amount
    s.application.status = status
    s.application.approved_amount = approved
    s.application.completed_at = workflow.now()
    if result.status is ApplicationStatus.APPROVED and approved is not None and approved > 0:
        await _pay_award(case, Decimal(approved))
        await case.close(TemporaryOutcome.AIDED, "审批通过，救助金已发放，办结", None)
        return
    await call(TemporaryActivities.release_event, case.claim(None))
    outcome = (
        TemporaryOutcome.WITHDRAWN
        if result.status is ApplicationStatus.WITHDRAWN
        else TemporaryOutcome.REFUSED
    )
    await case.close(outcome, f"申请{s.application.application_id}结果：{status}，办结", None)


async def _pay_award(case: TemporaryCase, amount: Decimal) -> None:
    """The approved amount as a county-funded instruction (kind ``temporary``): a regular
    activity with the default (unlimited) retries, since the money must go out."""
    s = case.state
    key = award_key(s.case_id)
    today = workflow_today()
    await workflow.execute_activity_method(
        TemporaryActivities.issue_payment,
        PaymentOrder(
            idempotency_key=key,
            kind=PaymentKind.TEMPORARY,
            case_id=s.case_id,
            household_id=s.household_id,
            area=s.area,
            period=today.isoformat(),
            amount=amount,
            payee=case.payee(),
        ),
        start_to_close_timeout=PAYMENT_TIMEOUT,
    )
    s.payments.append(
        PaymentRecord(
            idempotency_key=key,
            kind=PaymentKind.TEMPORARY,
            funding_source="county",
            amount=amount,
            period=today.isoformat(),
            issued_at=workflow.now(),
        )
    )
    floor = one_off_floor(s.policy) if s.policy is not None else Decimal("0.00")
    await case.record(
        "award_paid",
        None,
        f"发放临时救助金{format_yuan(amount)}"
        + (f"（低于一次性救助最低标准{format_yuan(floor)}）" if amount < floor else ""),
        amount=str(amount),
        payment_key=key,
        below_floor=amount < floor,
    )
