"""Saved histories of ``ListingPostingWorkflow`` (``histories/*.json``: a village's listing
changed twice — the first posting late, after its reminder and escalation, the second in time),
replayed with the worker's registry and sandbox by ``tests/test_replay_all.py``. Regenerate with
``JIUZHU_WRITE_HISTORY=1 pytest tests/listings/test_posting.py`` only when a change is
deliberately incompatible (and then patch the workflow with ``workflow.patched``)."""

from pathlib import Path

from workflows.listings.contract import LISTING_WORKFLOW_TYPE, listing_workflow_id

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {"listing_posting_v1": LISTING_WORKFLOW_TYPE}  # checked by test_replay_all


def workflow_id_of(stem: str) -> str:
    """The id the histories were recorded under (the workflow names its read-model row by it)."""
    return listing_workflow_id("419901001011")
