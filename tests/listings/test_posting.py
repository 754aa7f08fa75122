"""The long-term public listing's board on the real server (issue 14 item 5; 低保办法 Art. 23–24,
焦民〔2022〕154号 十一): a household that starts receiving 低保 changes its village's listing, which
opens the posting deadline (policy ``listing_update``, 5 working days): the township is reminded,
then the county told; the village's assistant records the posting (what it shows is kept) and a
later change opens the next deadline. Bad posting dates and the wrong officers are refused
before anything is recorded. ``JIUZHU_WRITE_HISTORY=1`` saves the history replayed by
``tests/test_replay_all.py``."""

import os
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from rules.calendar import add_months
from tests.conftest import auth
from tests.entitlements.helpers import approved_case, start_entitlement, wait_for
from tests.monitoring.support import outbox
from workflows.listings.contract import ChangeKind, ListingStatus, listing_workflow_id
from workflows.listings.models import ListingState
from workflows.listings.workflow import ListingPostingWorkflow

VILLAGE = "419901001011"
HISTORIES = Path(__file__).parent / "histories"
REMINDER = "reminder:township_officer:419901001"
ESCALATION = "escalation:county_officer:419901"


async def listing_state(client: Client, village: str, pending: int) -> ListingState:
    """The village's posting workflow once it holds ``pending`` changes and their deadline."""
    handle = client.get_workflow_handle_for(
        ListingPostingWorkflow.run, listing_workflow_id(village)
    )

    async def ready() -> ListingState | None:
        try:
            s = await handle.query(ListingPostingWorkflow.get_state)
        except RPCError:  # not started yet
            return None
        opened = len(s.pending) == pending and any(d.is_open for d in s.deadlines)
        return s if opened else None

    state: ListingState = await wait_for(ready, what=f"{pending} pending changes in {village}")
    return state


async def test_a_new_household_opens_the_posting_deadline_reminded_then_escalated(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    url = f"/listings/{VILLAGE}"
    r = await api.get(f"{url}/posting", headers=auth("township"))
    assert r.status_code == 404, r.text  # nothing has changed in the village yet

    first = approved_case(VILLAGE, start_month=date(2026, 10, 1), amount="600.00", members=2)
    await start_entitlement(client, settings.task_queue, first)
    s = await listing_state(client, VILLAGE, pending=1)
    assert s.status is ListingStatus.UPDATE_DUE and s.pending[0].kind is ChangeKind.START
    (d,) = [d for d in s.deadlines if d.is_open]
    assert d.spec.period.value == 5 and d.spec.responsible_area == "419901001"
    r = await api.get(f"{url}/posting", headers=auth("county"))
    assert r.status_code == 200 and r.json()["status"] == "update_due", r.text
    # On the officers' worklist, linked to the board.
    rows = (await api.get("/cases?case_kind=listing", headers=auth("township"))).json()["items"]
    (row,) = [i for i in rows if i["area_code"] == VILLAGE]
    assert row["href"] == f"{url}/posting" and row["next_deadline"], row

    wf_id = listing_workflow_id(VILLAGE)
    handle = client.get_workflow_handle_for(ListingPostingWorkflow.run, wf_id)
    now = (await handle.describe()).start_time
    await env.fast_forward(handle, d.remind_at - now + timedelta(minutes=1))
    await wait_for(lambda: outbox(engine, wf_id) == [REMINDER], what="reminder")
    await env.fast_forward(handle, d.due_at - d.remind_at + timedelta(minutes=1))
    await wait_for(lambda: outbox(engine, wf_id) == [ESCALATION, REMINDER], what="escalation")
    desc = await handle.describe()
    sa = {k.name: v for k, v in desc.typed_search_attributes}
    assert sa["Overdue"] is True and sa["CaseKind"] == "listing"

    # Refused before anything is recorded: a county officer (the township posts), another
    # township, another village's assistant, a date in the future, a date before the change.
    before = await handle.query(ListingPostingWorkflow.get_state)
    today = beijing_today()
    body = {"posted_on": today.isoformat()}
    r = await api.post(f"{url}/posted", json=body, headers=auth("county"))
    assert r.status_code == 403, r.text
    for other in ("township2", "village"):
        r = await api.post(f"{url}/posted", json=body, headers=auth(other))
        assert r.status_code == 403, r.text
    for bad in (today + timedelta(days=1), s.pending[0].on - timedelta(days=1)):
        r = await api.post(
            f"{url}/posted", json={"posted_on": bad.isoformat()}, headers=auth("township")
        )
        assert r.status_code == 422 and "posted_on" in r.text, r.text
    r = await api.post(f"{url}/posted", json={"posted_on": "2026-13-01"}, headers=auth("township"))
    assert r.status_code == 422 and "posted_on" in r.text, r.text
    after = await handle.query(ListingPostingWorkflow.get_state)
    assert after.revision == before.revision and after.timeline == before.timeline
    assert after.status is ListingStatus.UPDATE_DUE and after.postings == 0

    r = await api.post(f"{url}/posted", json=body, headers=auth("township"))
    assert r.status_code == 200 and r.json()["status"] == "posted", r.text
    posted = await handle.query(ListingPostingWorkflow.get_state)
    assert posted.pending == [] and posted.last_posting is not None
    assert posted.last_posting.households == 1 and str(posted.last_posting.total) == "600.00"
    (met,) = [x for x in posted.deadlines if x.name == "listing_posting"]
    assert met.met_at is not None and met.escalated_at is not None
    r = await api.post(f"{url}/posted", json=body, headers=auth("township"))
    assert r.status_code == 409, r.text  # nothing waits to be posted
    assert outbox(engine, wf_id) == [ESCALATION, REMINDER]  # each once, nothing more

    # The next two households open the next deadline; the posting shows the one paid now and
    # leaves the one paid from next month pending, owed from its first month.
    second = approved_case(VILLAGE, start_month=date(2026, 10, 1), amount="900.00", members=3)
    next_month = add_months(today.replace(day=1), 1)
    third = approved_case(VILLAGE, start_month=next_month, amount="300.00", members=1)
    await start_entitlement(client, settings.task_queue, second)
    await start_entitlement(client, settings.task_queue, third)
    s = await listing_state(client, VILLAGE, pending=2)
    assert s.postings == 1 and len([x for x in s.deadlines if x.is_open]) == 1
    r = await api.post(f"{url}/posted", json=body, headers=auth("township"))
    assert r.status_code == 200 and r.json()["status"] == "update_due", r.text
    final = await handle.query(ListingPostingWorkflow.get_state)
    assert final.last_posting is not None and final.last_posting.households == 2
    assert str(final.last_posting.total) == "1500.00" and final.last_posting.changes == 1
    (left,) = final.pending
    assert left.kind is ChangeKind.START and left.on == next_month
    (owed,) = [x for x in final.deadlines if x.is_open]
    assert owed.spec.start == next_month
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        HISTORIES.mkdir(exist_ok=True)
        history = await handle.fetch_history()
        (HISTORIES / "listing_posting_v1.json").write_text(history.to_json())
