"""Saved histories of ``RecognitionReviewWorkflow`` (``histories/*.json``: a 低保边缘 recognition
reviewed yearly — continued after its reminder and escalation, then ended), replayed with the
worker's registry and sandbox by ``tests/test_replay_all.py``: a change that breaks determinism
fails here, in CI. Regenerate with ``JIUZHU_WRITE_HISTORY=1 pytest
tests/recognitions/test_recognition.py`` only when a change is deliberately incompatible (and then
patch the workflow with ``workflow.patched``)."""

from pathlib import Path

from workflows.recognitions.contract import RECOGNITION_WORKFLOW_TYPE

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {
    "recognition_reviewed": RECOGNITION_WORKFLOW_TYPE,
    "recognition_ended": RECOGNITION_WORKFLOW_TYPE,
}  # checked by test_replay_all
