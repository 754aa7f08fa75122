"""The deadline mechanism on the real server: a reminder before, an escalation after, each once;
a met deadline stays silent; both survive killing the worker and the server."""

import uuid
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.testing import TimeSkipper, TimeSkippingConfig, WorkflowEnvironment

from jiuzhu.db.models import OutboxMessage
from jiuzhu.settings import Settings
from tests.conftest import PersistentServer
from tests.deadline_probe import DeadlineProbeWorkflow
from worker import make_worker


def outbox(engine: Engine, workflow_id: str) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.workflow_id == workflow_id)).all()
    return sorted((r.kind, r.recipient_role, r.recipient_area) for r in rows)


REMINDER = ("reminder", "township_officer", "419901001")
ESCALATION = ("escalation", "county_officer", "419901")


async def test_reminder_then_escalation_each_once(
    env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    queue = f"probe-{uuid.uuid4().hex[:6]}"
    async with make_worker(env.client, settings, engine, queue, [DeadlineProbeWorkflow]):
        handle = await env.client.start_workflow(
            DeadlineProbeWorkflow.run, 3, id=f"probe-{uuid.uuid4().hex}", task_queue=queue
        )
        state = await handle.query(DeadlineProbeWorkflow.get_state)
        while not state.deadlines:
            state = await handle.query(DeadlineProbeWorkflow.get_state)
        d = state.deadlines[0]
        started = await env.get_current_time(handle)
        assert outbox(engine, handle.id) == []
        # Just before the reminder: silent. Just after: one reminder to the township.
        await env.fast_forward(handle, d.remind_at - started - timedelta(minutes=1))
        assert outbox(engine, handle.id) == []
        await env.fast_forward(handle, timedelta(minutes=2))
        assert outbox(engine, handle.id) == [REMINDER]
        # Past the due instant: one escalation to the county, marked overdue.
        await env.fast_forward(handle, d.due_at - d.remind_at)
        assert outbox(engine, handle.id) == [ESCALATION, REMINDER]
        await env.fast_forward(handle, timedelta(days=30))
        assert outbox(engine, handle.id) == [ESCALATION, REMINDER]
        state = await handle.query(DeadlineProbeWorkflow.get_state)
        assert state.deadlines[0].escalated_at is not None
        await handle.signal(DeadlineProbeWorkflow.finish)


async def test_met_deadline_is_silent(
    env: WorkflowEnvironment, settings: Settings, engine: Engine
) -> None:
    queue = f"probe-{uuid.uuid4().hex[:6]}"
    async with make_worker(env.client, settings, engine, queue, [DeadlineProbeWorkflow]):
        handle = await env.client.start_workflow(
            DeadlineProbeWorkflow.run, 3, id=f"probe-{uuid.uuid4().hex}", task_queue=queue
        )
        await handle.execute_update(DeadlineProbeWorkflow.meet)
        await env.fast_forward(handle, timedelta(days=20))
        assert outbox(engine, handle.id) == []
        state = await handle.query(DeadlineProbeWorkflow.get_state)
        assert state.deadlines[0].met_at is not None
        await handle.signal(DeadlineProbeWorkflow.finish)


async def test_deadline_survives_worker_and_server_kill(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    """Kill the worker and the server (SIGKILL) between reminder and due date; restart both on
    the same SQLite file; the escalation still fires, once, and the reminder is not repeated."""
    queue = f"probe-{uuid.uuid4().hex[:6]}"
    client = await persistent_server.connect()
    wf_id = f"probe-{uuid.uuid4().hex}"
    worker = make_worker(client, settings, engine, queue, [DeadlineProbeWorkflow])
    async with worker:
        handle = await client.start_workflow(
            DeadlineProbeWorkflow.run, 3, id=wf_id, task_queue=queue
        )
        state = await handle.query(DeadlineProbeWorkflow.get_state)
        while not state.deadlines:
            state = await handle.query(DeadlineProbeWorkflow.get_state)
        d = state.deadlines[0]
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        started = await skipper.get_current_time(handle)
        await skipper.fast_forward(handle, d.remind_at - started + timedelta(minutes=1))
        assert outbox(engine, wf_id) == [REMINDER]
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with make_worker(client, settings, engine, queue, [DeadlineProbeWorkflow]):
        handle = client.get_workflow_handle_for(DeadlineProbeWorkflow.run, wf_id)
        skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
        await skipper.fast_forward(handle, d.due_at - d.remind_at + timedelta(hours=1))
        assert outbox(engine, wf_id) == [ESCALATION, REMINDER]
        await handle.signal(DeadlineProbeWorkflow.finish)
        final = await handle.result()
        assert final.deadlines[0].reminded_at is not None
        assert final.deadlines[0].escalated_at is not None
