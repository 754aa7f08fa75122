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
    domain = domain_module(path.parent.parent.name)
    workflow_id_of = getattr(domain, "workflow_id_of", None)
    return str(workflow_id_of(path.stem)) if workflow_id_of else f"replay-{path.stem}"


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(workflow_id_for(path), json.loads(path.read_text()))


def domain_module(name: str) -> object:
    return importlib.import_module(f"tests.{name}.test_replay")


@pytest.mark.parametrize("domain", sorted({p.parent.parent.name for p in HISTORIES}))
def test_each_domain_keeps_its_required_histories(domain: str) -> None:
    """A domain's ``REQUIRED`` histories (name → workflow type), where it names them, are saved
    and of that type: a regeneration that loses a path fails here."""
    required: dict[str, str] = getattr(domain_module(domain), "REQUIRED", {})
    saved = {p.stem: p for p in HISTORIES if p.parent.parent.name == domain}
    missing = sorted(set(required) - set(saved))
    assert not missing, f"{domain}: no saved history {missing}"
    wrong = {
        n: workflow_type(saved[n]) for n, t in required.items() if workflow_type(saved[n]) != t
    }
    assert not wrong, f"{domain}: histories of another type {wrong}"


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
