"""The listing's posting deadline survives a restart: the worker and the Temporal server (SIGKILL)
die after the reminder; on restart from the same SQLite file the escalation fires once, the
reminder is not repeated, and the late posting is recorded."""

import uuid
from datetime import date, timedelta

from sqlalchemy import Engine

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from tests.conftest import PersistentServer, auth
from tests.entitlements.helpers import approved_case, start_entitlement, wait_for
from tests.listings.test_posting import ESCALATION, REMINDER, listing_state
from tests.monitoring.support import outbox
from tests.restart import skip_to, stack
from workflows.listings.contract import ListingStatus, listing_workflow_id
from workflows.listings.workflow import ListingPostingWorkflow

VILLAGE = "419901001012"


async def test_posting_deadline_survives_killing_worker_and_server(
    persistent_server: PersistentServer, settings: Settings, engine: Engine
) -> None:
    local = settings.model_copy(update={"task_queue": f"listing-restart-{uuid.uuid4().hex[:6]}"})
    wf_id = listing_workflow_id(VILLAGE)
    client = await persistent_server.connect()
    async with stack(client, local, engine):
        case = approved_case(VILLAGE, start_month=date(2026, 10, 1), amount="450.00", members=1)
        await start_entitlement(client, local.task_queue, case)
        s = await listing_state(client, VILLAGE, pending=1)
        (d,) = [x for x in s.deadlines if x.is_open]
        handle = client.get_workflow_handle_for(ListingPostingWorkflow.run, wf_id)
        await skip_to(client, handle, d.remind_at + timedelta(minutes=1))
        await wait_for(lambda: outbox(engine, wf_id) == [REMINDER], what="reminder")
    persistent_server.kill()

    persistent_server.start()
    client = await persistent_server.connect()
    async with stack(client, local, engine) as api:
        handle = client.get_workflow_handle_for(ListingPostingWorkflow.run, wf_id)
        await skip_to(client, handle, d.due_at + timedelta(hours=1))
        await wait_for(lambda: outbox(engine, wf_id) == [ESCALATION, REMINDER], what="escalation")
        desc = await handle.describe()
        sa = {k.name: v for k, v in desc.typed_search_attributes}
        assert sa["Overdue"] is True and sa["ProgrammeStatus"] == "update_due"
        r = await api.post(
            f"/listings/{VILLAGE}/posted",
            json={"posted_on": beijing_today().isoformat()},
            headers=auth("township"),
        )
        assert r.status_code == 200, r.text
        final = await handle.query(ListingPostingWorkflow.get_state)
        assert final.status is ListingStatus.POSTED and final.last_posting is not None
        (met,) = [x for x in final.deadlines if x.name == "listing_posting"]
        assert met.escalated_at is not None and met.met_at is not None
        assert outbox(engine, wf_id) == [ESCALATION, REMINDER]  # each exactly once
