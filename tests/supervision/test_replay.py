"""Saved histories of ``SpotCheckRoundWorkflow`` (a one-case round whose approval is reversed and
the entitlement stopped) and ``ComplaintWorkflow`` (a named complaint answered by the township,
re-examined by the county after an unsatisfied follow-up, closed satisfied; an anonymous one
reminded, escalated and answered on the record), replayed with the worker's workflows and
sandbox: a change that breaks determinism fails here, in CI. Regenerate with
``JIUZHU_WRITE_HISTORY=1 pytest tests/supervision/test_spot_checks.py
tests/supervision/test_complaints.py`` only when a change is deliberately incompatible (and then
patch the workflow with ``workflow.patched``)."""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.sandbox import workflow_runner
from workflows.supervision.complaint import ComplaintWorkflow
from workflows.supervision.contract import COMPLAINT_WORKFLOW_TYPE, SPOT_CHECK_WORKFLOW_TYPE
from workflows.supervision.spot_check import SpotCheckRoundWorkflow

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = {
    "spot_check_reversed_approval": SPOT_CHECK_WORKFLOW_TYPE,
    "complaint_follow_up": COMPLAINT_WORKFLOW_TYPE,
    "complaint_anonymous_escalated": COMPLAINT_WORKFLOW_TYPE,
}


def test_required_histories_are_recorded() -> None:
    assert {p.stem for p in HISTORIES.glob("*.json")} >= set(REQUIRED)


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path) -> None:
    history = load(path)
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == REQUIRED.get(path.stem, started.workflow_type.name)
    replayer = Replayer(
        workflows=[SpotCheckRoundWorkflow, ComplaintWorkflow],
        data_converter=TEST_CONVERTER,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
