"""Deadlines driven by the time-skipping server: a reminder to the township before a missed
investigation start, an escalation to the county after it (each once), the case marked overdue
in the read model and in the search attributes, and the messages listed per officer."""

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.application.helpers import (
    case_record,
    create,
    deadline,
    household,
    investigation,
    outbox,
    parse_dt,
    state,
    step,
    wait_outbox,
)
from tests.conftest import auth

REMINDER = ("reminder", "township_officer", "419901001", "investigation_start")
ESCALATION = ("escalation", "county_officer", "419901", "investigation_start")


async def messages(api: httpx.AsyncClient, who: str, case_id: str) -> list[dict[str, object]]:
    r = await api.get("/me/messages", params={"case_id": case_id}, headers=auth(who))
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


async def sa(client: Client, app_id: str) -> dict[str, Any]:
    desc = await client.get_workflow_handle(f"application-{app_id}").describe()
    return {k.name: v for k, v in desc.typed_search_attributes}


async def test_missed_investigation_start_reminds_then_escalates(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    app_id, body = await create(api)
    s = await step(api, app_id, "accept", {})
    d = deadline(s, "investigation_start")
    assert d["spec"]["period"] == {"value": 3, "unit": "working_days"}
    handle = client.get_workflow_handle(f"application-{app_id}")
    attrs = await sa(client, app_id)
    assert attrs["ProgrammeStatus"] == "accepted"
    assert attrs["NextDeadline"] == parse_dt(d["due_at"])

    before = (parse_dt(d["due_at"]) + timedelta(seconds=1)).isoformat()
    r = await api.get("/applications", params={"deadline_before": before}, headers=auth("township"))
    assert app_id in [i["application_id"] for i in r.json()["items"]]
    r = await api.get(
        "/applications", params={"deadline_before": d["due_at"]}, headers=auth("township")
    )
    assert app_id not in [i["application_id"] for i in r.json()["items"]]

    now = await env.get_current_time(handle)
    remind_at = parse_dt(d["remind_at"])
    due_at = parse_dt(d["due_at"])
    await env.fast_forward(handle, remind_at - now - timedelta(minutes=1))
    assert outbox(engine, app_id) == []
    await env.fast_forward(handle, timedelta(minutes=2))
    await wait_outbox(engine, app_id, [REMINDER])

    township = await messages(api, "township", app_id)
    assert [m["kind"] for m in township] == ["reminder"]
    assert "入户调查启动" in str(township[0]["message_zh"])
    assert await messages(api, "township2", app_id) == []
    assert await messages(api, "county", app_id) == []

    await env.fast_forward(handle, due_at - remind_at)
    await wait_outbox(engine, app_id, [ESCALATION, REMINDER])
    county = await messages(api, "county", app_id)
    assert [m["kind"] for m in county] == ["escalation"]
    assert "逾期" in str(county[0]["message_zh"])
    await env.fast_forward(handle, timedelta(days=3))
    assert outbox(engine, app_id) == [ESCALATION, REMINDER]  # each once

    s = await state(api, app_id)
    assert deadline(s, "investigation_start")["escalated_at"] is not None
    assert case_record(engine, app_id).overdue is True
    assert (await sa(client, app_id))["Overdue"] is True
    r = await api.get("/applications", params={"overdue": "true"}, headers=auth("county"))
    assert app_id in [i["application_id"] for i in r.json()["items"]]

    # Late, but done: the deadline is met and the case is no longer overdue.
    s = await step(api, app_id, "investigation", investigation(household(body)))
    assert deadline(s, "investigation_start")["met_at"] is not None
    assert (await sa(client, app_id))["Overdue"] is False

    # Messages are acknowledged by their recipient only.
    message_id = county[0]["id"]
    r = await api.post(f"/me/messages/{message_id}/acknowledge", headers=auth("township"))
    assert r.status_code == 404
    r = await api.post(f"/me/messages/{message_id}/acknowledge", headers=auth("county"))
    assert r.status_code == 200 and r.json()["acknowledged_at"] is not None
    r = await api.get(
        "/me/messages", params={"case_id": app_id, "unacknowledged": "true"}, headers=auth("county")
    )
    assert r.json()["total"] == 0
    assert (await api.get("/me/messages")).status_code == 401
    r = await api.get("/me/messages", params={"kind": "spam"}, headers=auth("county"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"

    # A calendar change is a signal: provisional deadlines are recomputed, nothing breaks.
    await handle.signal("calendar_changed")
    s = await state(api, app_id)
    assert (await sa(client, app_id))["HasProvisionalDeadline"] == any(
        dl["provisional"] for dl in s["deadlines"] if not dl["met_at"] and not dl["cancelled_at"]
    )
    await step(api, app_id, "withdraw", {"reason_zh": "测试结束"})
