"""Every workflow type the worker runs (one line per capability)."""

from typing import Any

from workflows.applications.workflow import ApplicationWorkflow
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.listings.workflow import ListingPostingWorkflow
from workflows.monitoring.workflow import MonitoringWarningWorkflow
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.daily_batch import DailyBankBatchWorkflow
from workflows.payments.payroll import PayrollWorkflow
from workflows.recognitions.workflow import RecognitionReviewWorkflow
from workflows.recoveries.workflow import OverpaymentRecoveryWorkflow
from workflows.referrals.workflow import ReferralWorkflow
from workflows.supervision.complaint import ComplaintWorkflow
from workflows.supervision.spot_check import SpotCheckRoundWorkflow
from workflows.temporary.workflow import TemporaryCaseWorkflow

WORKFLOWS: list[type[Any]] = [
    ApplicationWorkflow,
    EntitlementWorkflow,
    PayrollWorkflow,
    CampaignWorkflow,
    DailyBankBatchWorkflow,
    TemporaryCaseWorkflow,
    OverpaymentRecoveryWorkflow,
    SpotCheckRoundWorkflow,
    ComplaintWorkflow,
    MonitoringWarningWorkflow,
    ReferralWorkflow,
    RecognitionReviewWorkflow,
    ListingPostingWorkflow,
]
