"""A restart during the justification period loses nothing: the worker and the Temporal server
(SIGKILL) die after the reminder; on restart from the same SQLite file the escalation fires once,
the reminder is not repeated, the case shows overdue, and the late justification is accepted."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine

from jiuzhu.settings import Settings
from tests.conftest import PersistentServer, auth
from tests.restart import skip_to, stack
from tests.temporary.helpers import (
    COUNTY,
    TOWNSHIP,
    case_body,
    justification_body,
    ledger,
    outbox,
    payments,
    replenish,
)
from workflows.temporary.workflow import TemporaryCaseWorkflow

REMINDER = ("reminder", "township_officer", TOWNSHIP)
ESCALATION = ("escalation", "county_officer", COUNTY)


async def test_restart_during_justification_period_loses_nothing(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"temp-restart-{uuid.uuid4().hex[:6]}"})
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        await replenish(api, TOWNSHIP, "1000.00")
        r = await api.post("/temporary-cases", json=case_body(), headers=auth("township"))
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        wf_id = f"temporary-{case_id}"
        for _ in range(100):
            r = await api.post(
                f"/temporary-cases/{case_id}/prepayment",
                json={"amount": "700.00", "reason_zh": "交通事故，急需生活费"},
                headers=auth("township"),
            )
            if r.status_code != 404:  # read model row not yet written
                break
        assert r.status_code == 200, r.text
        (d,) = r.json()["deadlines"]
        handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, wf_id)
        remind_at = datetime.fromisoformat(d["remind_at"])
        due_at = datetime.fromisoformat(d["due_at"])
        await skip_to(client, handle, remind_at + timedelta(minutes=1))
        assert outbox(engine, wf_id) == [REMINDER]
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, wf_id)
        await skip_to(client, handle, due_at + timedelta(hours=1))
        assert outbox(engine, wf_id) == [ESCALATION, REMINDER]
        desc = await handle.describe()
        sa = {k.name: v for k, v in desc.typed_search_attributes}
        assert sa["Overdue"] is True and sa["ProgrammeStatus"] == "prepaid"

        r = await api.post(
            f"/temporary-cases/{case_id}/justification",
            json=justification_body("700.00"),
            headers=auth("township"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["prepayment"]["justification"]["late"] is True
        r = await api.post(
            f"/temporary-cases/{case_id}/justification-review",
            json={"decision": "accept", "reason_zh": "补充说明虽逾期，手续齐全"},
            headers=auth("county"),
        )
        assert r.status_code == 200, r.text
        final = await handle.result()
        assert final.outcome == "aided"
        assert final.prepayment is not None
        assert final.prepayment.justification is not None
        assert final.deadlines[0].escalated_at is not None
        assert outbox(engine, wf_id) == [ESCALATION, REMINDER]  # each exactly once
        assert len(payments(engine, [case_id])) == 1 and len(ledger(engine, [case_id])) == 1
