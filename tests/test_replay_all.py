"""Every saved history of every workflow type replays with the worker's own registry and
sandbox (``workflows/registry.py``, ``workflows/sandbox.py``): the CI gate against
non-determinism for running cases. Each domain's own replay test says how its histories were
recorded; this one makes sure none is forgotten and that all five types are covered."""

import importlib
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.registry import WORKFLOWS
from workflows.sandbox import workflow_runner

ROOT = Path(__file__).parent
HISTORIES = sorted(ROOT.glob("*/histories/*.json"))


def workflow_type(path: Path) -> str:
    first = json.loads(path.read_text())["events"][0]
    return str(first["workflowExecutionStartedEventAttributes"]["workflowType"]["name"])


def workflow_id_for(path: Path) -> str:
    """The id the history was recorded under, where a workflow reads its own id (a domain's
    ``test_replay.workflow_id_of``), else any."""
    domain = importlib.import_module(f"tests.{path.parent.parent.name}.test_replay")
    workflow_id_of = getattr(domain, "workflow_id_of", None)
    return str(workflow_id_of(path.stem)) if workflow_id_of else f"replay-{path.stem}"


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(workflow_id_for(path), json.loads(path.read_text()))


def test_every_workflow_type_has_saved_histories() -> None:
    registered = {defn.__temporal_workflow_definition.name for defn in WORKFLOWS}
    saved = {workflow_type(p) for p in HISTORIES}
    assert registered <= saved, f"no saved history for {sorted(registered - saved)}"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
async def test_saved_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        data_converter=TEST_CONVERTER,
    )
    history = load(path)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
