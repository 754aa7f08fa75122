"""Saved histories of ``MonitoringWarningWorkflow`` (``histories/*.json``: a paid household's
warning escalated and sent to a change investigation, a refused applicant offered an application,
and one closed with a reason), replayed with the worker's registry and sandbox by
``tests/test_replay_all.py``: a change that breaks determinism fails here, in CI. Regenerate with
``JIUZHU_WRITE_HISTORY=1 pytest tests/monitoring/test_warnings.py`` only when a change is
deliberately incompatible (and then patch the workflow with ``workflow.patched``)."""

from pathlib import Path

from workflows.monitoring.contract import WARNING_WORKFLOW_TYPE

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {
    "warning_change_investigation": WARNING_WORKFLOW_TYPE,
    "warning_application_offered": WARNING_WORKFLOW_TYPE,
    "warning_closed": WARNING_WORKFLOW_TYPE,
}  # checked by test_replay_all
