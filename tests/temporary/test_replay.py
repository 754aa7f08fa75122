"""Replay recorded histories of ``TemporaryCaseWorkflow`` with the current workflow code, without
a server: a change that breaks determinism fails here, in CI, before it reaches running cases.

- ``prepayment_justified``: 先行救助 from the reserve fund, justified in time, accepted, closed.
- ``prepayment_recovered``: never justified, reminded, escalated, rejected, recovered in two parts.
- ``special_staged``: 一事一议 referred and approved in three stages paid on their dates.
- ``normal_child_approved``: 支出型 via the application child, approved and paid.

Regenerate with ``JIUZHU_WRITE_HISTORY=1 pytest tests/temporary/test_temporary_prepayment.py
tests/temporary/test_temporary_special.py tests/temporary/test_temporary_normal.py`` only when a
change is deliberately incompatible (and then patch the workflow with ``workflow.patched``)."""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.applications.workflow import ApplicationWorkflow
from workflows.sandbox import workflow_runner
from workflows.temporary.contract import WORKFLOW_TYPE
from workflows.temporary.workflow import TemporaryCaseWorkflow

HISTORIES = Path(__file__).parent / "histories"
REQUIRED = ("prepayment_justified", "special_staged")


def test_required_histories_are_recorded() -> None:
    assert {p.stem for p in HISTORIES.glob("*.json")} >= set(REQUIRED)


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path) -> None:
    history = load(path)
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == WORKFLOW_TYPE
    replayer = Replayer(
        workflows=[TemporaryCaseWorkflow, ApplicationWorkflow],
        data_converter=TEST_CONVERTER,
        workflow_runner=workflow_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
