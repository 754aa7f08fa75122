"""Refusal: the written notice with reasons, legal basis and appeal rights, its delivery within 3
working days of the decision (the date on the signed decision), and a refused household that
fits 低保边缘 told so and, with its consent, recognised in a linked follow-on case."""

from datetime import date, timedelta

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
    money,
    save_history,
    state,
    step,
    wait_status,
)
from tests.conftest import auth
from tests.factories import application_body
from workflows.applications.workflow import ApplicationWorkflow


async def test_refusal_decided_on_2026_09_30_notice_due_2026_10_10(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    """A refusal signed on 2026-09-30 (entered later): the notice is due 3 working days after
    the decision — 2026-10-10, a make-up Saturday after the National Day holiday."""
    body = {**application_body(), "applied_on": "2026-09-01"}
    app_id, body = await create(api, body)
    await step(api, app_id, "accept", {"accepted_on": "2026-09-01"})
    hh = household(body, incomes={0: [("wage", "3000.00")]})
    await step(api, app_id, "investigation", investigation(hh, visited_on="2026-09-02"))
    await wait_status(api, app_id, "awaiting_opinion")
    s = await step(
        api, app_id, "initial-opinion", {"recommendation": "refuse", "opinion_on": "2026-09-10"}
    )
    assert s["status"] == "awaiting_decision" and s["file_received_on"] == "2026-09-10"
    assert s["publicity"] == []  # a proposed refusal is not published

    r = await api.post(
        f"/applications/{app_id}/decision",
        json={"outcome": "refuse", "decided_on": "2026-09-09"},
        headers=auth("county"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decided_on"
    r = await api.post(
        f"/applications/{app_id}/decision",
        json={"outcome": "refuse", "decided_on": (date.today() + timedelta(days=30)).isoformat()},
        headers=auth("county"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "decided_on"

    s = await step(
        api, app_id, "decision", {"outcome": "refuse", "decided_on": "2026-09-30"}, who="county"
    )
    assert s["status"] == "refused" and s["decision"]["on"] == "2026-09-30"
    notice_deadline = deadline(s, "refusal_notice")
    assert notice_deadline["due_date"] == "2026-10-10"
    assert notice_deadline["spec"]["responsible_role"] == "township_officer"
    assert [r["code"] for r in s["decision"]["reasons"]] == ["INCOME_NOT_BELOW_STANDARD"]
    assert s["edge_offer"] is None

    notices = (await api.get(f"/applications/{app_id}/notices", headers=auth("township"))).json()
    refusal = notices["items"][0]
    assert refusal["kind"] == "refusal"
    html = (await api.get(refusal["href"], headers=auth("township"))).text
    assert "2026年9月30日决定不予确认" in html
    assert "行政复议" in html and "行政诉讼" in html and "第十三条" in html

    s = await step(
        api,
        app_id,
        "deliver-notice",
        {
            "notice_id": refusal["notice_id"],
            "delivered_on": "2026-10-09",
            "recipient_name": "张建明",
        },
    )
    assert deadline(s, "refusal_notice")["met_at"] is not None
    handle = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    assert (await handle.result()).status.value == "refused"
    row = case_record(engine, app_id)
    assert row.status == "refused" and row.detail["decided_on"] == "2026-09-30"
    notices = (await api.get(f"/applications/{app_id}/notices", headers=auth("county"))).json()
    assert notices["items"][0]["delivered_on"] == "2026-10-09"


async def test_refused_but_edge_consents_and_is_recognised(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    app_id, body = await create(api)
    # 1,400 yuan for 2 → 700 per person: above the 低保 standard (550), below 1.5 × (825).
    hh = household(body, incomes={0: [("wage", "1400.00")]})
    await step(api, app_id, "accept", {})
    await step(api, app_id, "investigation", investigation(hh))
    s = await wait_status(api, app_id, "awaiting_opinion")
    edge = next(p for p in s["assessment"]["programmes"] if p["programme"] == "dibao_edge")
    assert edge["eligible"]
    await step(api, app_id, "initial-opinion", {"recommendation": "refuse"})
    s = await step(api, app_id, "decision", {"outcome": "refuse"}, who="county")
    assert s["edge_offer"]["programme"] == "dibao_edge" and s["edge_offer"]["consent"] is None
    kinds = [n["kind"] for n in s["notices"]]
    assert kinds == ["refusal", "edge_recognition"]
    html = (
        await api.get(
            f"/applications/{app_id}/notices/{s['notices'][1]['notice_id']}",
            headers=auth("township"),
        )
    ).text
    assert "最低生活保障边缘家庭" in html and "3个工作日" in html

    await step(api, app_id, "edge-consent", {"consent": True}, who="village")
    s = await step(
        api,
        app_id,
        "deliver-notice",
        {"notice_id": s["notices"][0]["notice_id"], "recipient_name": "张建明"},
    )
    follow_id = s["edge_offer"]["follow_on_case_id"]
    assert follow_id == f"{app_id}-E" and s["linked_case_id"] == follow_id
    original = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    assert (await original.result()).status.value == "refused"
    await save_history(client, app_id, "refusal_edge_v2")
    await step(api, app_id, "edge-consent", {"consent": False}, expect=409)  # closed case

    f = await wait_status(api, follow_id, "awaiting_decision")
    assert f["programme"] == "dibao_edge" and f["linked_case_id"] == app_id
    recognition = deadline(f, "edge_recognition")
    assert recognition["spec"]["period"] == {"value": 3, "unit": "working_days"}
    assert recognition["spec"]["responsible_role"] == "county_officer"
    assert f["household"] == s["household"]  # investigated once, not again
    f = await step(api, follow_id, "decision", {"outcome": "approve"}, who="county")
    assert f["status"] == "approved" and money(f["approved_amount"]) == money("0")
    assert deadline(f, "edge_recognition")["met_at"] is not None
    assert f["entitlement_workflow_id"] is None
    follow_row = case_record(engine, follow_id)
    assert follow_row.programme == "dibao_edge" and follow_row.linked_case_id == app_id
    assert case_record(engine, app_id).linked_case_id == follow_id
    r = await api.get(
        "/applications", params={"household_id": s["household_id"]}, headers=auth("county")
    )
    assert {i["application_id"] for i in r.json()["items"]} == {app_id, follow_id}
    assert (await state(api, follow_id))["status"] == "approved"
