"""Saved histories of ``OverpaymentRecoveryWorkflow`` (``histories/*.json``: a receivable repaid in
full after its reminder and escalation, and one written off by a county decision, both after a
death; and one opened when an entitlement ended after a month paid ahead), replayed with the
worker's registry and sandbox by ``tests/test_replay_all.py``: a change that breaks determinism
fails here, in CI. Regenerate with ``JIUZHU_WRITE_HISTORY=1 pytest
tests/recoveries/test_recovery.py`` (``recovery_ended``: ``test_ending_recovery.py``) only when a
change is deliberately incompatible (and then patch the workflow with ``workflow.patched``)."""

from pathlib import Path

from workflows.recoveries.contract import RECOVERY_WORKFLOW_TYPE

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {
    "recovery_repaid": RECOVERY_WORKFLOW_TYPE,
    "recovery_written_off": RECOVERY_WORKFLOW_TYPE,
    "recovery_ended": RECOVERY_WORKFLOW_TYPE,
}  # checked by test_replay_all
