"""Saved histories of the payment workflows recorded in this folder (the payroll's and the
campaign's are in tests/entitlements/histories), replayed with the worker's workflows: a change
that breaks determinism fails here, in CI, before it reaches running batches.

- ``daily_batch``: a daily bank batch of temporary assistance (one prepayment paid), recorded by
  ``test_daily_batch.py::test_prepayment_paid_by_the_daily_batch``.
- ``payroll_recheck``: a payroll re-checked in the funding Update and again before the bank file
  (a death loaded after funding held), recorded by
  ``test_recheck.py::test_death_loaded_after_funding_is_held_before_the_bank_file``.
- ``payroll_resubmit``: a payroll stopped at ``bank_error`` and re-sent by finance (10 racing
  re-sends, one recorded), recorded by
  ``test_bank_lines.py::test_malformed_bank_answer_escalates_once_and_finance_resubmits``.
- ``payroll_nothing_to_pay``: a month with nothing to pay under a stream of queries, on the
  ``alarm-keeps-timers`` path, recorded by ``test_timers_under_queries.py``.

The scenario replays its fresh history at once; with ``JIUZHU_WRITE_HISTORY=1`` it also saves
it (only when a change is deliberately incompatible, and then patch the workflow with
``workflow.patched``)."""

import json
import os
from datetime import date
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.payments.contract import daily_batch_id, payroll_workflow_id
from workflows.registry import WORKFLOWS
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
# The batch recorded (its workflow reads its own id: a run under another id is a launcher).
RECORDED = {
    "daily_batch": daily_batch_id("419961", date(2036, 3, 3)),
    # A payroll whose deceased's line was held by the re-check just before the bank file.
    "payroll_recheck": payroll_workflow_id("419971", 2027, 3),
    # A payroll stopped by an unreadable bank answer and re-sent by finance.
    "payroll_resubmit": payroll_workflow_id("419933", 2035, 3),
    # A month with nothing to pay, queried while it ran (the alarm keeps its timers).
    "payroll_nothing_to_pay": payroll_workflow_id("419976", 2029, 1),
}


def workflow_id_of(name: str) -> str:
    return RECORDED.get(name, f"replay-{name}")


def replayer() -> Replayer:
    return Replayer(
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        data_converter=TEST_CONVERTER,
    )


def test_required_histories_are_recorded() -> None:
    assert {p.stem for p in HISTORIES.glob("*.json")} >= set(RECORDED)


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(workflow_id_of(path.stem), json.loads(path.read_text()))


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path) -> None:
    history = load(path)
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def keep_history(client: Client, workflow_id: str, name: str) -> None:
    """Replay a fresh history at once; save it with ``JIUZHU_WRITE_HISTORY=1``."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())
