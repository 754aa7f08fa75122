"""Replay a recorded history of the approve path with the current workflow code: a change that
breaks determinism fails here, in CI, before it reaches running cases. Regenerate the history
with ``JIUZHU_WRITE_HISTORY=1 pytest tests/application/test_approve.py`` only when a change is
deliberately incompatible (and then patch the workflow with ``workflow.patched``)."""

import json
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.application import ApplicationWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def test_recorded_histories_replay() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no recorded histories"
    replayer = Replayer(workflows=[ApplicationWorkflow], data_converter=pydantic_data_converter)
    for path in files:
        history = WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))
        result = await replayer.replay_workflow(history)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
