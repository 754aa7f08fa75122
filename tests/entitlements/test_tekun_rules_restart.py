"""The 特困 self-care re-assessment deadline (特困办法 Art. 23: within 10 working days of a
reported change) survives a restart: the worker and the Temporal server (SIGKILL) die after the
reminder; on restart from the same SQLite file the escalation reaches the county once, the
reminder is not repeated, and the late re-assessment is recorded."""

import uuid
from datetime import date, timedelta

from sqlalchemy import Engine

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from rules.calendar import add_months
from rules.household import CareTier
from tests.conftest import PersistentServer, auth
from tests.entitlements.helpers import start_entitlement, wait_for, wait_published
from tests.entitlements.test_tekun_rules import COUNTY, TOWNSHIP, outbox, tekun_case
from tests.restart import skip_to, stack
from workflows.entitlements.workflow import EntitlementWorkflow

REMINDER = f"reminder:township_officer:{TOWNSHIP}"
ESCALATION = f"escalation:county_officer:{COUNTY}"


async def test_self_care_reassessment_deadline_survives_killing_worker_and_server(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"selfcare-{uuid.uuid4().hex[:6]}"})
    start = add_months(beijing_today().replace(day=1), 1)
    inp = tekun_case(date(1948, 2, 9), start, "1200.00", CareTier.SELF_CARE.value)
    case_id = f"{inp.household_id}-tekun"
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        handle = await start_entitlement(client, local.task_queue, inp)
        await wait_published(engine, case_id)
        r = await api.post(
            f"/entitlements/{case_id}/changes",
            json={"kind": "self_care", "description_zh": "中风后不能自主行走和洗澡"},
            headers=auth("village"),
        )
        assert r.status_code == 201, r.text
        name = f"investigation:{r.json()['investigation_id']}"
        inv_id = r.json()["investigation_id"]
        state = await handle.query(EntitlementWorkflow.get_state)
        d = next(x for x in state.deadlines if x.spec.name == name)
        await skip_to(client, handle, d.remind_at + timedelta(minutes=1))
        await wait_for(lambda: outbox(engine, case_id, name) == [REMINDER], what="reminder")
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        handle = client.get_workflow_handle_for(EntitlementWorkflow.run, handle.id)
        await skip_to(client, handle, d.due_at + timedelta(hours=1))
        await wait_for(
            lambda: outbox(engine, case_id, name) == [ESCALATION, REMINDER], what="escalation"
        )
        six = {
            "eating": True,
            "dressing": False,
            "getting_out_of_bed": False,
            "toileting": False,
            "walking_indoors": False,
            "bathing": False,
        }
        r = await api.post(
            f"/entitlements/{case_id}/self-care-assessments",
            json={"investigation_id": inv_id, "assessment": six},
            headers=auth("township"),
        )
        assert r.status_code in (200, 201), r.text
        state = await handle.query(EntitlementWorkflow.get_state)
        late = next(x for x in state.deadlines if x.spec.name == name)
        assert late.escalated_at is not None and late.met_at is not None
        assert outbox(engine, case_id, name) == [ESCALATION, REMINDER]  # each exactly once
