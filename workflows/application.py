"""TRANSITION shim: the application workflow moved to ``workflows/applications/workflow.py``
(import it from there); kept so other domains' imports work until the lead removes it."""

from workflows.applications.contract import initial_search_attributes
from workflows.applications.workflow import ApplicationWorkflow

__all__ = ["ApplicationWorkflow", "initial_search_attributes"]
