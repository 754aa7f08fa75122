"""单人保 on the real server (issue 14 item 6; 低保办法 Art. 8; seed 002 焦民〔2022〕154号 二:
对低保边缘家庭中的重度残疾人、重病患者采取"单人户"方式纳入低保保障范围): a 低保 application
refused for a household found 低保边缘, with a seriously ill member who has no income of their
own, is offered the recognition and 单人保 for that member together. With consent the member's
own 低保 case starts accepted (investigated once), owed by the county within the 低保 decision
period — reminded, then escalated — and its approval starts a one-person entitlement."""

from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.household_ids import household_id_for
from tests.application.helpers import (
    CARD,
    case_record,
    create,
    deadline,
    household,
    investigation,
    outbox,
    parse_dt,
    save_history,
    step,
    wait_status,
)
from tests.conftest import auth
from tests.entitlements.helpers import wait_for
from workflows.entitlements.workflow import EntitlementWorkflow


def _row_exists(engine: Engine, case_id: str) -> bool:
    try:
        case_record(engine, case_id)
    except AssertionError:
        return False
    return True


async def test_edge_household_with_ill_member_offered_single_person_dibao(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    app_id, body = await create(api)
    # 1,400 yuan for 2 → 700 per person: above the 低保 standard, below 1.5 × (边缘); the
    # second member is seriously ill with no income of their own.
    hh = household(body, incomes={0: [("wage", "1400.00")]})
    hh["members"][1]["serious_illness"] = True
    ill = hh["members"][1]
    await step(api, app_id, "accept", {})
    await step(api, app_id, "investigation", investigation(hh))
    s = await wait_status(api, app_id, "awaiting_opinion")
    single = next(p for p in s["assessment"]["programmes"] if p["single_person"])
    assert single["eligible"] and single["member_id_number"] == ill["id_number"]
    await step(api, app_id, "initial-opinion", {"recommendation": "refuse"})
    s = await step(api, app_id, "decision", {"outcome": "refuse"}, who="county")
    offer = s["edge_offer"]
    assert offer["programme"] == "dibao_edge"
    assert [(p["id_number"], p["consent"]) for p in offer["single_persons"]] == [
        (ill["id_number"], None)
    ]
    assert Decimal(offer["single_persons"][0]["monthly_amount"]) == Decimal(
        single["monthly_amount"]
    )
    html = (
        await api.get(
            f"/applications/{app_id}/notices/{s['notices'][1]['notice_id']}",
            headers=auth("township"),
        )
    ).text
    assert "单人保" in html and ill["name"] in html

    # Bad input: 单人保 needs the household's recognition.
    r = await api.post(
        f"/applications/{app_id}/edge-consent",
        json={"consent": False, "single_person_consent": True},
        headers=auth("village"),
    )
    assert r.status_code == 422 and "single_person_consent" in r.text, r.text

    s = await step(api, app_id, "edge-consent", {"consent": True}, who="village")
    person = s["edge_offer"]["single_persons"][0]
    single_id = f"{app_id}-S1"
    assert person["consent"] is True and person["follow_on_case_id"] == single_id
    await wait_for(lambda: _row_exists(engine, single_id), what="单人保 case read model")
    f = await wait_status(api, single_id, "awaiting_decision")
    assert f["programme"] == "dibao" and f["single_person"] is True
    assert f["linked_case_id"] == app_id
    assert f["household_id"] == household_id_for(ill["id_number"], body["area_code"])
    assert [m["id_number"] for m in f["household"]["members"]] == [ill["id_number"]]
    d = deadline(f, "decision")
    assert d["spec"]["period"] == {"value": 10, "unit": "working_days"}
    assert d["spec"]["responsible_role"] == "county_officer"

    # The county's decision period: reminder, then escalation.
    handle = client.get_workflow_handle(f"application-{single_id}")
    remind_at, due_at = parse_dt(d["remind_at"]), parse_dt(d["due_at"])
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, remind_at - now + timedelta(minutes=1))
    await wait_for(
        lambda: [o[0] for o in outbox(engine, single_id) if o[3] == "decision"] == ["reminder"],
        what="reminder",
    )
    await env.fast_forward(handle, due_at - remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: (
            sorted(o[0] for o in outbox(engine, single_id) if o[3] == "decision")
            == ["escalation", "reminder"]
        ),
        what="escalation",
    )

    # Approved: a one-person 低保 entitlement paid to the member's own card.
    account = {"holder_name": ill["name"], "holder_id_number": ill["id_number"], **CARD}
    f = await step(
        api,
        single_id,
        "decision",
        {"outcome": "approve", "card_account": account},
        who="county",
    )
    assert f["status"] == "approved"
    assert Decimal(f["approved_amount"]) == Decimal(single["monthly_amount"])
    ent = client.get_workflow_handle_for(EntitlementWorkflow.run, f["entitlement_workflow_id"])

    async def started() -> bool:
        try:
            st = await ent.query(EntitlementWorkflow.get_state)
        except Exception:
            return False
        return st.single_person and len(st.members) == 1

    await wait_for(started, what="single-person entitlement")
    await save_history(client, app_id, "refusal_single_person_v2")
    await save_history(client, single_id, "single_person_case_v2")
