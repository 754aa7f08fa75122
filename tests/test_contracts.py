"""Each domain's contract names what API, worker and activities address by string: the workflow
type and its update, query and signal names. They must be the names the workflow classes
register, or a caller would address nothing."""

from typing import Any

import pytest
from temporalio.workflow import _Definition

from workflows.applications import contract as applications
from workflows.applications.workflow import ApplicationWorkflow
from workflows.deadlines.contract import CALENDAR_CHANGED
from workflows.entitlements import contract as entitlements
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.monitoring import contract as monitoring
from workflows.monitoring.workflow import MonitoringWarningWorkflow
from workflows.payments import contract as payments
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.daily_batch import DailyBankBatchWorkflow
from workflows.payments.payroll import PayrollWorkflow
from workflows.recoveries import contract as recoveries
from workflows.recoveries.workflow import OverpaymentRecoveryWorkflow
from workflows.referrals import contract as referrals
from workflows.referrals.workflow import ReferralWorkflow
from workflows.supervision import contract as supervision
from workflows.supervision.complaint import ComplaintWorkflow
from workflows.supervision.spot_check import SpotCheckRoundWorkflow
from workflows.temporary import contract as temporary
from workflows.temporary.workflow import TemporaryCaseWorkflow

A, E, T = applications, entitlements, temporary
CASES: list[tuple[type[Any], str, set[str], set[str], set[str]]] = [
    (
        ApplicationWorkflow,
        A.WORKFLOW_TYPE,
        {
            A.ACCEPT, A.REQUEST_DOCUMENTS, A.SUPPLEMENT, A.RECORD_INVESTIGATION,
            A.OBJECT_TO_VERIFICATION, A.RECORD_APPRAISAL, A.INITIAL_OPINION,
            A.PUBLICITY_OBJECTION, A.COUNTY_VISIT, A.EXTEND_DEADLINE, A.DECIDE, A.RECORD_FILING,
            A.DELIVER_NOTICE, A.EDGE_CONSENT, A.WITHDRAW, A.END_REVIEW,
        },
        {A.GET_STATE, A.GET_STATUS},
        {CALENDAR_CHANGED},
    ),
    (
        EntitlementWorkflow,
        E.ENTITLEMENT_WORKFLOW_TYPE,
        {
            E.REPORT_CHANGE, E.CLOSE_INVESTIGATION, E.RECORD_DEATH, E.RECORD_WORK_REFUSAL,
            E.RECORD_MOVE_OUT, E.RECORD_SELF_CARE_ASSESSMENT,
            E.CHANGE_CARD_ACCOUNT, E.RECORD_REVIEW_OUTCOME,
        },
        {E.GET_STATE},
        {CALENDAR_CHANGED},
    ),
    (
        PayrollWorkflow,
        payments.PAYROLL_WORKFLOW_TYPE,
        {payments.CONFIRM_FUNDING},
        {payments.GET_STATE},
        {CALENDAR_CHANGED},
    ),
    (
        CampaignWorkflow,
        payments.CAMPAIGN_WORKFLOW_TYPE,
        {payments.CONFIRM_FUNDING, payments.RESUBMIT},
        {payments.GET_STATE},
        set(),
    ),
    (DailyBankBatchWorkflow, payments.DAILY_BATCH_WORKFLOW_TYPE, set(), {payments.GET_STATE},
     set()),
    (
        TemporaryCaseWorkflow,
        T.WORKFLOW_TYPE,
        {
            T.GRANT_PREPAYMENT, T.SUBMIT_JUSTIFICATION, T.REVIEW_JUSTIFICATION,
            T.RECORD_RECOVERY, T.REFER_TO_COUNTY, T.DECIDE_SPECIAL, T.CLOSE_CASE,
        },
        {T.GET_STATE},
        {CALENDAR_CHANGED},
    ),
    (
        OverpaymentRecoveryWorkflow,
        recoveries.RECOVERY_WORKFLOW_TYPE,
        {recoveries.RECORD_REPAYMENT, recoveries.WRITE_OFF},
        {recoveries.GET_STATE},
        {CALENDAR_CHANGED},
    ),
    (
        ReferralWorkflow,
        referrals.REFERRAL_WORKFLOW_TYPE,
        {referrals.RECORD_ANSWER, referrals.WITHDRAW},
        {referrals.GET_STATE},
        {CALENDAR_CHANGED},
    ),
    (
        MonitoringWarningWorkflow,
        monitoring.WARNING_WORKFLOW_TYPE,
        {monitoring.RECORD_VISIT},
        {monitoring.GET_STATE},
        {CALENDAR_CHANGED},
    ),
    (
        SpotCheckRoundWorkflow,
        supervision.SPOT_CHECK_WORKFLOW_TYPE,
        {supervision.RECORD_SPOT_CHECK},
        {supervision.GET_STATE},
        {CALENDAR_CHANGED},
    ),
    (
        ComplaintWorkflow,
        supervision.COMPLAINT_WORKFLOW_TYPE,
        {supervision.RECORD_FINDINGS, supervision.RECORD_REPLY, supervision.RECORD_FOLLOW_UP},
        {supervision.GET_STATE},
        {CALENDAR_CHANGED},
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[1])
def test_contract_names_are_the_registered_ones(
    case: tuple[type[Any], str, set[str], set[str], set[str]],
) -> None:
    cls, type_name, updates, queries, signals = case
    defn = _Definition.must_from_class(cls)
    assert defn.name == type_name
    assert updates <= set(defn.updates), updates - set(defn.updates)
    assert queries <= set(defn.queries), queries - set(defn.queries)
    assert signals <= set(defn.signals), signals - set(defn.signals)
