"""Saved histories of ``ReferralWorkflow`` (``histories/*.json``: a medical-aid referral answered
before its deadline, and a housing referral answered after its reminder and escalation), replayed
with the worker's registry and sandbox by ``tests/test_replay_all.py``: a change that breaks
determinism fails here, in CI. Regenerate with ``JIUZHU_WRITE_HISTORY=1 pytest
tests/referrals/test_referrals.py`` only when a change is deliberately incompatible (and then patch
the workflow with ``workflow.patched``)."""

from pathlib import Path

from workflows.referrals.contract import REFERRAL_WORKFLOW_TYPE

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {
    "referral_answered": REFERRAL_WORKFLOW_TYPE,
    "referral_escalated": REFERRAL_WORKFLOW_TYPE,
}  # checked by test_replay_all
