"""The suite's last test: every execution of a registered workflow type that the suite ran on
its shared dev server replays, from its real history, with the worker's registry and sandbox.

Saved histories (``test_replay_all``) pin the paths someone chose to record; this catches the
rest, and catches nondeterminism that appears only on some runs. (It found one: a query that
split a workflow task after a local activity left a timer in history that a replay dropped —
``jiuzhu/timers.py``, patch ``alarm-keeps-timers``.) ``conftest.py`` moves this test to the end
of the run, whatever the selection. An execution that has not completed a workflow task yet (a
month's payroll started ahead with a start delay) has nothing to replay and is skipped."""

from collections.abc import AsyncIterator

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from tests.conftest import TEST_CONVERTER
from workflows.registry import WORKFLOWS
from workflows.sandbox import workflow_runner

REGISTERED = {defn.__temporal_workflow_definition.name for defn in WORKFLOWS}


async def _replayable(client: Client, query: str) -> AsyncIterator[WorkflowHistory]:
    async for history in client.list_workflows(query).map_histories():
        if any(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in history.events
        ):
            yield history


async def test_every_execution_of_the_session_replays(client: Client, worker: Worker) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=TEST_CONVERTER
    )
    query = " OR ".join(f"WorkflowType = '{name}'" for name in sorted(REGISTERED))
    failures: list[str] = []
    replayed = 0
    async with replayer.workflow_replay_iterator(_replayable(client, query)) as results:
        async for result in results:
            replayed += 1
            if result.replay_failure is not None:
                failures.append(f"{result.history.workflow_id}: {result.replay_failure}")
    assert replayed > 0
    assert not failures, f"{len(failures)} of {replayed} executions fail to replay:\n" + "\n".join(
        failures[:20]
    )
