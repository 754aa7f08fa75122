"""Saved histories of ``RecognitionReviewWorkflow`` (``histories/*.json``: a 低保边缘 recognition
reviewed yearly — continued after its reminder and escalation, then ended), replayed
with the worker's workflows and sandbox: a change that breaks determinism fails here, in CI.
Regenerate with ``JIUZHU_WRITE_HISTORY=1 pytest tests/recognitions/test_recognition.py`` only when a
change is deliberately incompatible (and then patch the workflow with ``workflow.patched``)."""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.recognitions.contract import RECOGNITION_WORKFLOW_TYPE
from workflows.recognitions.workflow import RecognitionReviewWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = ("recognition_reviewed", "recognition_ended")


def test_required_histories_are_recorded() -> None:
    assert {p.stem for p in HISTORIES.glob("*.json")} >= set(REQUIRED)


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path) -> None:
    history = load(path)
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == RECOGNITION_WORKFLOW_TYPE
    replayer = Replayer(
        workflows=[RecognitionReviewWorkflow],
        data_converter=TEST_CONVERTER,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
