"""Replay recorded histories with the current workflow code: a change that breaks determinism
fails here, in CI, before it reaches running cases.

- ``*_v1.json`` were recorded before ``light-history`` (regular activities, per-deadline
  watchers, the kicked main loop): they must replay on the legacy path for ever.
- ``*_v2.json`` were recorded on the light path (local activities, one alarm timer, small
  update results).
- ``continued_run{1,2}_v3.json``: both runs of a case that continued as new
  (``test_continue_as_new.py`` records them with ``JIUZHU_WRITE_HISTORY=1``).
- ``stale_timer_dropped_v4.json``: a case whose investigation reminder's timer was cancelled by
  the next Update (``alarm-drops-stale-timers``; ``test_stale_timers.py`` records it), through
  publicity to the county's decision.
- ``paper_publicity_ended_v5.json``: a publicity posted on paper that had already ended, recorded
  with the ``opinion-recorded-before-publicity-close`` marker asked inside the step (before
  ``…-asked-first``, by ``test_paper_dates.py``'s ended-publicity case; kept as it is).
- ``baseline_approved_v6.json``: an approved case started with the application baseline (one
  patch marker standing for all the others; ``test_baseline.py`` records it).

Record new ones with ``JIUZHU_WRITE_HISTORY=1 pytest tests/application/test_approve.py
tests/application/test_refusal.py tests/application/test_tekun_and_objection.py`` only when a
change is deliberately incompatible (and then gate it with ``workflow.patched``)."""

import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.conftest import TEST_CONVERTER
from workflows.applications.workflow import ApplicationWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).parent / "histories"
NAMES = ("approve", "refusal_edge", "objection_loop")


def _replayer() -> Replayer:
    return Replayer(
        workflows=[ApplicationWorkflow],
        workflow_runner=workflow_runner(),
        data_converter=TEST_CONVERTER,
    )


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_recorded_histories_replay(version: str) -> None:
    files = [HISTORIES / f"{name}_{version}.json" for name in NAMES]
    assert all(path.exists() for path in files), [p.name for p in files if not p.exists()]
    replayer = _replayer()
    for path in files:
        history = WorkflowHistory.from_json(f"replay-{path.stem}", json.loads(path.read_text()))
        result = await replayer.replay_workflow(history)
        assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def _replays(name: str) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((HISTORIES / f"{name}.json").read_text())
    result = await _replayer().replay_workflow(WorkflowHistory.from_json(name, raw))
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"
    return raw


async def test_case_with_a_dropped_stale_timer_replays() -> None:
    raw = await _replays("stale_timer_dropped_v4")
    assert any(e["eventType"] == "EVENT_TYPE_TIMER_CANCELED" for e in raw["events"])


async def test_case_started_with_the_baseline_replays() -> None:
    raw = await _replays("baseline_approved_v6")
    patches = [
        e
        for e in raw["events"]
        if e.get("markerRecordedEventAttributes", {}).get("markerName") == "core_patch"
    ]
    assert len(patches) == 1


async def test_paper_publicity_recorded_with_the_patch_asked_inside_the_step_replays() -> None:
    await _replays("paper_publicity_ended_v5")


async def test_continued_case_replays_across_continue_as_new() -> None:
    """Both runs of a case that continued as new (``test_continue_as_new.py``): the first ends in
    continue-as-new, the second starts from the carried state and is decided."""
    replayer = _replayer()
    for name in ("continued_run1_v3", "continued_run2_v3"):
        raw = json.loads((HISTORIES / f"{name}.json").read_text())
        result = await replayer.replay_workflow(WorkflowHistory.from_json(name, raw))
        assert result.replay_failure is None, f"{name}: {result.replay_failure}"
