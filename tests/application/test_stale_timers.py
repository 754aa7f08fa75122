"""A deadline met early leaves no timer to fire for nothing (``Alarm.drop_stale``,
``alarm-drops-stale-timers``): the investigation recorded the day the case was accepted meets
its deadline, and the next Update cancels the timer aimed at that deadline's reminder.

Cancelling a timer is the change that once broke replay (a query splitting a workflow task
after a local activity, ``alarm-keeps-timers``); so the cases here step under a stream of
queries and every history is replayed; the first one is kept as
``histories/stale_timer_dropped_v4.json`` for ``test_replay.py``."""

import asyncio
import json
from datetime import timedelta

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.application.helpers import (
    create,
    events_of,
    fast_forward,
    household,
    investigation,
    save_history,
    step,
    wait_status,
)
from tests.payments.test_replay import replayer
from workflows.applications.workflow import ApplicationWorkflow


async def _to_opinion_under_queries(api: httpx.AsyncClient, client: Client) -> str:
    app_id, body = await create(api)
    handle = client.get_workflow_handle(f"application-{app_id}")
    stepping = True

    async def ask() -> None:
        while stepping:
            await handle.query(ApplicationWorkflow.get_status)
            await asyncio.sleep(0.01)

    asker = asyncio.ensure_future(ask())
    try:
        await step(api, app_id, "accept", {})
        await step(api, app_id, "investigation", investigation(household(body)))
        await wait_status(api, app_id, "awaiting_opinion")
        await step(api, app_id, "initial-opinion", {"recommendation": "approve"})
    finally:
        stepping = False
        await asker
    return app_id


async def test_the_investigation_reminder_timer_is_cancelled_not_fired(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment
) -> None:
    app_id = await _to_opinion_under_queries(api, client)
    await fast_forward(env, client, app_id, timedelta(days=8))
    await wait_status(api, app_id, "awaiting_decision")

    history = await client.get_workflow_handle(f"application-{app_id}").fetch_history()
    raw = json.loads(history.to_json())
    first = events_of(raw, "TIMER_STARTED")[0]  # started in accept: the investigation's reminder
    cancelled = {
        e["timerCanceledEventAttributes"]["startedEventId"]
        for e in events_of(raw, "TIMER_CANCELED")
    }
    fired = {
        e["timerFiredEventAttributes"]["startedEventId"] for e in events_of(raw, "TIMER_FIRED")
    }
    assert first["eventId"] in cancelled
    assert first["eventId"] not in fired
    assert fired  # the publicity's own wake-ups still fired
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
    await save_history(client, app_id, "stale_timer_dropped_v4")


async def test_cases_stepped_under_queries_replay(api: httpx.AsyncClient, client: Client) -> None:
    ids = await asyncio.gather(*(_to_opinion_under_queries(api, client) for _ in range(8)))
    for app_id in ids:
        history = await client.get_workflow_handle(f"application-{app_id}").fetch_history()
        assert events_of(json.loads(history.to_json()), "TIMER_CANCELED"), app_id
        result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, f"{app_id}: {result.replay_failure}"
