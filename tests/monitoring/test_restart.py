"""A warning's home-visit deadline survives a restart: the worker and the Temporal server
(SIGKILL) die after the reminder; on restart from the same SQLite file the escalation fires
once, the reminder is not repeated, the warning shows overdue, and the late visit is recorded."""

import uuid
from datetime import timedelta

from sqlalchemy import Engine

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from tests.conftest import PersistentServer, auth
from tests.entitlements.helpers import wait_for
from tests.monitoring.support import outbox, recorded_row, refused_applicant
from tests.restart import skip_to, stack
from workflows.monitoring.contract import WarningStatus
from workflows.monitoring.workflow import MonitoringWarningWorkflow

REMINDER = "reminder:township_officer:419901001"
ESCALATION = "escalation:county_officer:419901"


async def test_warning_deadline_survives_killing_worker_and_server(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"warn-restart-{uuid.uuid4().hex[:6]}"})
    _, person = refused_applicant(engine, "419901001005", "周小红")
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        r = await api.post(
            "/warnings/imports",
            json={
                "kind": "death",
                "source": "公安户籍注销",
                "records": [
                    {"id_number": person, "observed_on": beijing_today().isoformat()},
                ],
            },
            headers=auth("county"),
        )
        assert r.status_code == 201 and r.json()["warnings_raised"] == 1, r.text
        (wid,) = r.json()["warning_ids"]
        wf_id = f"warning-{wid}"
        await wait_for(lambda: recorded_row(engine, wid), what="warning read model")
        handle = client.get_workflow_handle_for(MonitoringWarningWorkflow.run, wf_id)
        state = await handle.query(MonitoringWarningWorkflow.get_state)
        (d,) = state.deadlines
        await skip_to(client, handle, d.remind_at + timedelta(minutes=1))
        await wait_for(lambda: outbox(engine, wf_id) == [REMINDER], what="reminder")
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        handle = client.get_workflow_handle_for(MonitoringWarningWorkflow.run, wf_id)
        await skip_to(client, handle, d.due_at + timedelta(hours=1))
        await wait_for(lambda: outbox(engine, wf_id) == [ESCALATION, REMINDER], what="escalation")
        desc = await handle.describe()
        sa = {k.name: v for k, v in desc.typed_search_attributes}
        assert sa["Overdue"] is True and sa["ProgrammeStatus"] == "awaiting_visit"
        r = await api.post(
            f"/warnings/{wid}/visit",
            json={
                "visited_on": beijing_today().isoformat(),
                "visitors": ["王调查", "李调查"],
                "finding_zh": "申请人已死亡，家中无其他成员",
                "outcome": "closed",
                "reason_zh": "单人户，申请人已死亡，无需救助",
            },
            headers=auth("township"),
        )
        assert r.status_code == 200, r.text
        final = await handle.result()
        assert final.status is WarningStatus.CLOSED
        assert final.deadlines[0].escalated_at is not None and final.deadlines[0].met_at
        assert outbox(engine, wf_id) == [ESCALATION, REMINDER]  # each exactly once
