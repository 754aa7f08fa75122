"""Every workflow type the worker runs (one line per capability)."""

from typing import Any

from workflows.applications.workflow import ApplicationWorkflow
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.payroll import PayrollWorkflow
from workflows.temporary.workflow import TemporaryCaseWorkflow

WORKFLOWS: list[type[Any]] = [
    ApplicationWorkflow,
    EntitlementWorkflow,
    PayrollWorkflow,
    CampaignWorkflow,
    TemporaryCaseWorkflow,
]
