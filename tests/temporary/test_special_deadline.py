"""一事一议's deadline on the real server: a referral to the county coordination mechanism starts
the county's decision deadline (policy ``special_decision``, 10 working days from the referral,
the referral day not counted); the county is reminded the working day before, the county's
supervisors (auditor) are told once it passes, and the decision meets it."""

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.calendar_store import working_calendar
from jiuzhu.clock import BEIJING
from tests.conftest import auth
from tests.temporary.helpers import COUNTY, create_case, outbox, registered
from workflows.temporary.workflow import TemporaryCaseWorkflow

NOTICE = ("notice", "county_officer", COUNTY)
REMINDER = ("reminder", "county_officer", COUNTY)
ESCALATION = ("escalation", "auditor", COUNTY)
REFUSAL = {
    "decision": "refuse",
    "meeting_ref": "演示县协调机制〔2026〕15号",
    "reason_zh": "经协调机制研究，已由医疗救助解决",
}


async def _referred(api: httpx.AsyncClient) -> tuple[str, str, dict[str, Any]]:
    case_id = (await create_case(api, event_type="serious_illness"))["case_id"]
    await registered(api, case_id)
    r = await api.post(
        f"/temporary-cases/{case_id}/referral",
        json={"need_amount": "8000.00", "situation_zh": "重病住院，自付费用高"},
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    (deadline,) = [d for d in r.json()["deadlines"] if d["spec"]["name"] == "special_decision"]
    return case_id, f"temporary-{case_id}", deadline


def _met(state: Any) -> Any:
    (d,) = [d for d in state.deadlines if d.spec.name == "special_decision"]
    return d


async def test_special_decision_deadline_is_ten_working_days_and_met_by_the_decision(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, engine: Engine
) -> None:
    case_id, wf_id, deadline = await _referred(api)
    handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, wf_id)
    referred_on = (await env.get_current_time(handle)).astimezone(BEIJING).date()
    expected = working_calendar(engine).add_working_days(referred_on, 10).date
    assert deadline["due_date"] == expected.isoformat()
    assert deadline["spec"]["period"] == {"value": 10, "unit": "working_days"}
    assert deadline["spec"]["responsible_role"] == "county_officer"

    await env.fast_forward(handle, timedelta(days=1))
    r = await api.post(
        f"/temporary-cases/{case_id}/special-decision", json=REFUSAL, headers=auth("county")
    )
    assert r.status_code == 200, r.text
    state = await handle.query(TemporaryCaseWorkflow.get_state)
    d = _met(state)
    assert d.met_at is not None and d.reminded_at is None and d.escalated_at is None
    assert outbox(engine, wf_id) == [NOTICE]  # met in time: no reminder, no escalation
    final = await handle.result()  # the refusal settles the case
    assert _met(final).met_at == d.met_at


async def test_special_decision_deadline_reminds_and_escalates_once(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, engine: Engine
) -> None:
    case_id, wf_id, deadline = await _referred(api)
    handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, wf_id)
    remind_at = datetime.fromisoformat(deadline["remind_at"])
    due_at = datetime.fromisoformat(deadline["due_at"])
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, remind_at - now + timedelta(minutes=1))
    assert outbox(engine, wf_id) == [NOTICE, REMINDER]
    await env.fast_forward(handle, due_at - remind_at + timedelta(hours=1))
    assert outbox(engine, wf_id) == [ESCALATION, NOTICE, REMINDER]
    await env.fast_forward(handle, timedelta(days=5))
    assert outbox(engine, wf_id) == [ESCALATION, NOTICE, REMINDER]  # each once

    r = await api.post(
        f"/temporary-cases/{case_id}/special-decision", json=REFUSAL, headers=auth("county")
    )
    assert r.status_code == 200, r.text
    d = _met(await handle.query(TemporaryCaseWorkflow.get_state))
    assert d.met_at is not None and d.escalated_at is not None and d.met_at > d.due_at
