"""Kill the worker process and the persistent dev server (SIGKILL) during publicity, restart both
on the same SQLite file: the case completes, and its deadlines fire once (the outbox has one
publicity reminder, no escalation; the audit log has each step once), including after a stale
timer was cancelled before the kill."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from api.main import create_app
from jiuzhu.settings import Settings
from tests.application.helpers import (
    audit,
    card,
    create,
    deadline,
    household,
    outbox,
    parse_dt,
    step,
    to_opinion,
    wait_outbox,
    wait_status,
)
from tests.conftest import PersistentServer
from workflows.applications.workflow import ApplicationWorkflow

ROOT = Path(__file__).resolve().parents[2]
REMINDER = ("reminder", "township_officer", "419901001", "publicity")


def worker_process(server: PersistentServer, settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JIUZHU_ENVIRONMENT": "test",
        "JIUZHU_DATABASE_URL": settings.database_url,
        "JIUZHU_TEMPORAL_ADDRESS": server.address,
        "JIUZHU_TASK_QUEUE": settings.task_queue,
        "JIUZHU_POLICIES_DIR": str(settings.policies_dir),
        "JIUZHU_SEED_DEMO_OFFICERS": "false",
        "JIUZHU_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.application.worker_proc"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@asynccontextmanager
async def stack(
    server: PersistentServer, client: Client, settings: Settings, engine: Engine
) -> AsyncIterator[httpx.AsyncClient]:
    """A worker process (killed with SIGKILL on exit) and the API wired to ``client``."""
    proc = worker_process(server, settings)
    try:
        app = create_app(settings=settings, engine=engine, client=client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as api:
            yield api
    finally:
        proc.kill()
        proc.wait()


async def test_case_survives_killing_worker_and_server_during_publicity(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"app-restart-{uuid.uuid4().hex[:6]}"})
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        app_id, body = await create(api)
        await to_opinion(api, app_id, household(body, {0: [("wage", "600.00")]}))
        s = await step(api, app_id, "initial-opinion", {"recommendation": "approve"})
        assert s["status"] == "publicity"
        publicity = deadline(s, "publicity")
        handle = client.get_workflow_handle(f"application-{app_id}")
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        now = await skipper.get_current_time(handle)
        remind_at, due_at = parse_dt(publicity["remind_at"]), parse_dt(publicity["due_at"])
        await skipper.fast_forward(handle, remind_at - now + timedelta(minutes=1))
        await wait_outbox(engine, app_id, [REMINDER])
    # The worker process was SIGKILLed leaving the block; now the server too.
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(persistent_server, client, local, engine) as api:
        handle = client.get_workflow_handle(f"application-{app_id}")
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        await skipper.fast_forward(handle, due_at - remind_at + timedelta(hours=1))
        s = await wait_status(api, app_id, "awaiting_decision")
        assert s["publicity"][0]["outcome"] == "no_objection"
        s = await step(
            api,
            app_id,
            "decision",
            {"outcome": "approve", "card_account": card(body)},
            who="county",
        )
        typed = client.get_workflow_handle_for(ApplicationWorkflow.run, handle.id)
        assert (await typed.result()).status.value == "approved"
        # The investigation's reminder timer, stale once the investigation was recorded, was
        # cancelled by the opinion's Update (Alarm.drop_stale) before the kill: the deadlines
        # left still fired once across the restart.
        events = json.loads((await handle.fetch_history()).to_json())["events"]
        assert any(e["eventType"] == "EVENT_TYPE_TIMER_CANCELED" for e in events)
    assert outbox(engine, app_id) == [REMINDER]
    actions = [a.action for a in audit(engine, app_id)]
    assert actions == [
        "apply",
        "accept",
        "investigation",
        "verification",
        "initial_opinion",
        "publicity_closed",
        "decision",
    ]
