"""The full 低保 approve path end to end through the API on the real server: acceptance under
the policy in force, investigation, verification by every source, the means test, the initial
opinion, 7 days' publicity, the county's decision with the amount from the means test, payment
from the next month, the entitlement started as a child, notices, read model, audit and search
attributes all kept current."""

from datetime import date

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.application.helpers import (
    audit,
    card,
    case_record,
    create,
    deadline,
    household,
    money,
    outbox,
    save_history,
    step,
    through_publicity,
    to_opinion,
)
from tests.conftest import auth
from workflows.applications.rules import first_of_next_month
from workflows.applications.workflow import ApplicationWorkflow


async def test_dibao_approve_path(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    app_id, body = await create(api)
    hh = household(body, incomes={0: [("wage", "600.00")]})
    s = await to_opinion(api, app_id, hh)

    assert s["policy_version_id"].endswith("419901@2026-01-01")
    assert deadline(s, "investigation_start")["met_at"] is not None
    assert deadline(s, "verification_start")["met_at"] is not None
    assert deadline(s, "overall")["spec"]["period"] == {"value": 30, "unit": "working_days"}
    assert len(s["verification"]["results"]) == 11
    assert all(r["status"] == "ok" for r in s["verification"]["results"])
    dibao = s["assessment"]["programmes"][0]
    assert dibao["programme"] == "dibao" and dibao["eligible"]
    assert money(dibao["monthly_amount"]) == money("500.00")  # 2 × 550 − 600

    s = await through_publicity(api, env, client, app_id)
    assert s["publicity"][0]["outcome"] == "no_objection"
    assert s["file_received_on"] == s["publicity"][0]["end_on"]
    decision_deadline = deadline(s, "decision")
    assert decision_deadline["spec"]["period"] == {"value": 10, "unit": "working_days"}
    assert decision_deadline["spec"]["responsible_role"] == "county_officer"

    # The township cannot confirm where the policy does not delegate it.
    await step(api, app_id, "decision", {"outcome": "approve"}, who="township", expect=403)
    s = await step(
        api, app_id, "decision", {"outcome": "approve", "card_account": card(body)}, who="county"
    )
    assert s["status"] == "approved"
    assert money(s["approved_amount"]) == money("500.00")
    decided_on = date.fromisoformat(s["decision"]["on"])
    assert s["start_month"] == first_of_next_month(decided_on).isoformat()
    assert s["entitlement_workflow_id"] == f"entitlement-{s['household_id']}-dibao"
    assert all(d["met_at"] or d["cancelled_at"] for d in s["deadlines"])

    handle = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    result = await handle.result()
    assert result.status.value == "approved"
    desc = await handle.describe()
    sa = {k.name: v for k, v in desc.typed_search_attributes}
    assert sa["ProgrammeStatus"] == "approved" and sa["Overdue"] is False
    child = await client.get_workflow_handle(s["entitlement_workflow_id"]).describe()
    assert child.workflow_type == "EntitlementWorkflow"

    row = case_record(engine, app_id)
    assert row.status == "approved" and row.policy_version_id == s["policy_version_id"]
    assert row.detail["approved_amount"] == "500.00"
    assert row.detail["start_month"] == s["start_month"]
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
    lines = audit(engine, app_id)
    assert all(a.policy_version_id == s["policy_version_id"] for a in lines[1:])
    assert (
        lines[-1].actor_officer_id == "officer-county" and lines[-1].actor_role == "county_officer"
    )
    kinds = [e["kind"] for e in lines[-1].evidence]
    assert kinds == ["investigation", "verification", "means_test"]
    assert lines[-1].detail["on"] == s["decision"]["on"]
    # Only the publicity reminder (1 working day before its end) was sent; nothing escalated.
    assert outbox(engine, app_id) == [("reminder", "township_officer", "419901001", "publicity")]

    r = await api.get(f"/applications/{app_id}/notices", headers=auth("township"))
    kinds = [n["kind"] for n in r.json()["items"]]
    assert kinds == ["publicity", "approval"]
    publicity_href = r.json()["items"][0]["href"]
    html = (await api.get(publicity_href, headers=auth("village"))).text
    assert "张*明" in html and body["household"][0]["id_number"] not in html  # masked
    approval_href = r.json()["items"][1]["href"]
    pdf = await api.get(approval_href + "?format=pdf", headers=auth("township"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert (await api.get(approval_href, headers=auth("township2"))).status_code == 403

    r = await api.get(
        "/applications",
        params={"status": "approved", "programme": "dibao", "area_code": "419901001"},
        headers=auth("township"),
    )
    assert app_id in [i["application_id"] for i in r.json()["items"]]
    await save_history(client, app_id, "approve_v2")
