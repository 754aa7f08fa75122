"""Every workflow type the worker runs (one line per capability)."""

from typing import Any

from workflows.application import ApplicationWorkflow
from workflows.campaign import CampaignWorkflow
from workflows.entitlement import EntitlementWorkflow
from workflows.payroll import PayrollWorkflow
from workflows.temporary import TemporaryCaseWorkflow

WORKFLOWS: list[type[Any]] = [
    ApplicationWorkflow,
    EntitlementWorkflow,
    PayrollWorkflow,
    CampaignWorkflow,
    TemporaryCaseWorkflow,
]
