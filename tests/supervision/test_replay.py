"""Saved histories of ``SpotCheckRoundWorkflow`` (a one-case round whose approval is reversed and
the entitlement stopped) and ``ComplaintWorkflow`` (a named complaint answered by the township,
re-examined by the county after an unsatisfied follow-up, closed satisfied; an anonymous one
reminded, escalated and answered on the record), replayed with the worker's workflows and
sandbox: a change that breaks determinism fails here, in CI. Regenerate with
``JIUZHU_WRITE_HISTORY=1 pytest tests/supervision/test_spot_checks.py
tests/supervision/test_complaints.py`` only when a change is deliberately incompatible (and then
patch the workflow with ``workflow.patched``)."""

from pathlib import Path

from workflows.supervision.contract import COMPLAINT_WORKFLOW_TYPE, SPOT_CHECK_WORKFLOW_TYPE

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {  # checked by test_replay_all
    "spot_check_reversed_approval": SPOT_CHECK_WORKFLOW_TYPE,
    "complaint_follow_up": COMPLAINT_WORKFLOW_TYPE,
    "complaint_anonymous_escalated": COMPLAINT_WORKFLOW_TYPE,
}
