"""A long application continues as new and goes on where it stood: with the history bound set low
(``application_history_bound``), a 低保 case walked to approval through the API passes its bound,
continues as new carrying its state and policy, and still closes its publicity on time, decides,
and starts the entitlement — nothing opened or recorded twice."""

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from jiuzhu.settings import Settings
from tests.application.helpers import (
    HISTORIES,
    audit,
    card,
    create,
    fast_forward,
    household,
    step,
    to_opinion,
    wait_status,
)
from workflows.applications.workflow import ApplicationWorkflow
from workflows.deadlines.contract import CalendarChanged

BOUND = 100  # events; an approve path has about 90 before the decision


@pytest_asyncio.fixture
async def short_api(
    settings: Settings, engine: Engine, client: Client, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    local = settings.model_copy(update={"application_history_bound": BOUND})
    app = create_app(settings=local, engine=engine, client=client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as http:
        yield http


async def runs_of(client: Client, workflow_id: str) -> list[WorkflowExecutionStatus | None]:
    """The statuses of every run of ``workflow_id``, oldest first."""
    found = [
        (wf.start_time, wf.status)
        async for wf in client.list_workflows(f"WorkflowId = '{workflow_id}'")
    ]
    return [status for _, status in sorted(found, key=lambda x: x[0])]


async def wait_until_continued(client: Client, wf_id: str, run_id: str) -> None:
    for _ in range(200):
        desc = await client.get_workflow_handle(wf_id, run_id=run_id).describe()
        if desc.status == WorkflowExecutionStatus.CONTINUED_AS_NEW:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{wf_id} did not continue as new")


async def test_application_continues_as_new_and_is_decided(
    short_api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    api = short_api
    app_id, body = await create(api)
    hh = household(body, incomes={0: [("wage", "600.00")]})
    before = await to_opinion(api, app_id, hh)
    await step(api, app_id, "initial-opinion", {"recommendation": "approve"})
    wf_id = f"application-{app_id}"
    handle = client.get_workflow_handle_for(ApplicationWorkflow.run, wf_id)
    first_run = (await handle.describe()).run_id
    # Calendar loads signal the case (each a few events) and push its history past the bound.
    while (await handle.describe()).history_length <= BOUND:
        await handle.signal(ApplicationWorkflow.calendar_changed, CalendarChanged(year=2027))
    await wait_until_continued(client, wf_id, first_run)
    await fast_forward(env, client, app_id, timedelta(days=8))
    s = await wait_status(api, app_id, "awaiting_decision")
    assert s["publicity"][0]["outcome"] == "no_objection"

    s = await step(
        api, app_id, "decision", {"outcome": "approve", "card_account": card(body)}, who="county"
    )
    assert s["status"] == "approved"
    result = await handle.result()
    assert result.status.value == "approved"

    statuses = await runs_of(client, wf_id)
    assert len(statuses) >= 2, statuses
    assert statuses[0] == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert statuses[-1] == WorkflowExecutionStatus.COMPLETED
    first = await client.get_workflow_handle(wf_id, run_id=first_run).describe()
    assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert first.history_length > BOUND

    # The case went on, not over again: one application, one acceptance, one decision, and the
    # policy of the first run kept; every deadline ended.
    actions = [a.action for a in audit(engine, app_id)]
    assert actions.count("apply") == 1 and actions.count("accept") == 1
    assert actions.count("decision") == 1
    assert result.policy_version_id == before["policy_version_id"]
    assert [t.action for t in result.timeline][: len(before["timeline"])] == [
        t["action"] for t in before["timeline"]
    ]
    assert all(d.met_at or d.cancelled_at for d in result.deadlines)
    desc = await handle.describe()
    sa = {k.name: v for k, v in desc.typed_search_attributes}
    assert sa["ProgrammeStatus"] == "approved"

    if os.environ.get("JIUZHU_WRITE_HISTORY"):  # both runs, for the replay test
        for name, run_id in (("continued_run1_v3", first_run), ("continued_run2_v3", None)):
            history = await client.get_workflow_handle(wf_id, run_id=run_id).fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json())
