"""Officers' reads query running cases; a query that arrives while a local activity is running
can split the workflow task. A timer started and cancelled inside one task never reaches
history, so with a split task the history kept a timer that a replay then dropped: the payroll
of a month with nothing to pay failed to replay about once in thirty runs (CI, 2026-11-29:
``UpsertWorkflowSearchAttributesMachine does not handle TimerStarted``). Since
``alarm-keeps-timers`` the alarm never cancels a timer; this runs months side by side under a
stream of queries and replays every one of them."""

import asyncio
import json

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from jiuzhu.settings import Settings
from tests.payments.test_replay import keep_history, replayer
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.models import PayrollInput, PayrollState
from workflows.payments.payroll import PayrollWorkflow

COUNTY = "419976"  # no recipients: every month ends at nothing_to_pay


async def _run_under_queries(client: Client, queue: str, year: int, month: int) -> str:
    workflow_id = payroll_workflow_id(COUNTY, year, month)
    handle: WorkflowHandle[PayrollWorkflow, PayrollState] = await client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(county_code=COUNTY, year=year, month=month),
        id=workflow_id,
        task_queue=queue,
    )
    result = asyncio.ensure_future(handle.result())
    while not result.done():
        await handle.query(PayrollWorkflow.get_state)
        await asyncio.sleep(0.02)
    assert (await result).status is PayrollStatus.NOTHING_TO_PAY
    return workflow_id


async def test_months_queried_while_running_replay_and_never_cancel_a_timer(
    client: Client, worker: Worker, settings: Settings
) -> None:
    months = [(year, month) for year in (2029, 2030) for month in range(1, 13)]
    ids: list[str] = []
    for i in range(0, len(months), 12):
        ids += await asyncio.gather(
            *(_run_under_queries(client, settings.task_queue, y, m) for y, m in months[i : i + 12])
        )
    for workflow_id in ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        events = json.loads(history.to_json())["events"]
        assert not [e for e in events if e["eventType"] == "EVENT_TYPE_TIMER_CANCELED"], workflow_id
        result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{workflow_id}: {result.replay_failure}"
    await keep_history(client, ids[0], "payroll_nothing_to_pay")
