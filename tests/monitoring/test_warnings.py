"""Monitoring warnings on the real server (issue 14 item 3): the population is fed by the
workflows' own read-model writes; a data-comparison load per area raises warnings by rule
(policy thresholds), refusing people outside the area; each warning is the township's home-visit
task with a deadline (reminder, then escalation — time moved with ``env.fast_forward``); the
visit's outcome starts its path (change investigation on the entitlement, application offered,
temporary aid, or closed with a reason). Nobody's payment changes on a warning alone.
``JIUZHU_WRITE_HISTORY=1`` saves the histories replayed by ``tests/test_replay_all.py``."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from rules.id_number import make_id_number
from tests.conftest import auth
from tests.entitlements.helpers import (
    account_row,
    approved_case,
    payments,
    start_entitlement,
    wait_for,
    wait_published,
)
from tests.monitoring.support import (
    errors,
    keep,
    outbox,
    recorded_row,
    refused_applicant,
    subject,
)
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.monitoring.contract import WarningStatus
from workflows.monitoring.models import WarningState
from workflows.monitoring.workflow import MonitoringWarningWorkflow


async def test_recipient_warning_deadline_then_change_investigation_without_payment_change(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    area = "419901001002"
    inp = approved_case(area, start_month=date(2026, 10, 1), amount="600.00", members=2)
    ent = await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    # Fed by the entitlement's own publishing: no call of ours put it there.
    row = await wait_for(lambda: subject(engine, case_id), what="population row")
    assert (row.category, row.household_size, row.area_code) == ("dibao", 2, area)
    r = await api.get("/monitoring?category=dibao&area_code=419901001", headers=auth("township"))
    assert r.status_code == 200 and case_id in [i["source_case_id"] for i in r.json()["items"]]
    r = await api.get("/monitoring", headers=auth("other_county"))
    assert case_id not in [i["source_case_id"] for i in r.json()["items"]]
    assert (
        await api.get("/monitoring?area_code=419901", headers=auth("other_county"))
    ).status_code == 403
    assert (await api.get("/monitoring", headers=auth("finance"))).status_code == 403

    before = account_row(engine, case_id)
    assert before is not None
    head, child = (m.id_number for m in inp.household.members)
    outsider = make_id_number("410882", date(1975, 1, 1), "321")
    seen = (beijing_today() - timedelta(days=5)).isoformat()
    body: dict[str, Any] = {
        "kind": "income",
        "source": "税务部门个人所得税",
        "records": [
            {"id_number": child, "amount": "2000.00", "observed_on": seen},
            {"id_number": outsider, "amount": "5000.00", "observed_on": seen},
            {"id_number": head, "amount": "100.00", "observed_on": seen},  # no rule met
        ],
    }
    url = "/warnings/imports"
    good: dict[str, Any] = body["records"][0]
    for bad, field in (
        ({**body, "records": [{**good, "amount": None}]}, "records.0.amount"),
        ({**body, "records": [{**good, "id_number": "123"}]}, "records.0.id_number"),
        ({**body, "records": [{**good, "observed_on": "2099-01-01"}]}, "records.0.observed_on"),
        ({**body, "records": [{**good, "amount": "-5"}]}, "records.0.amount"),
        ({**body, "kind": "salary"}, "kind"),
        ({**body, "records": []}, "records"),
        ({**body, "extra": 1}, "extra"),
    ):
        r = await api.post(url, json=bad, headers=auth("county"))
        assert r.status_code == 422 and errors(r) == field, (bad, r.text)
    assert (await api.post(url, json=body, headers=auth("township"))).status_code == 403
    r = await api.post(url, json=body, headers=auth("county"))
    assert r.status_code == 201, r.text
    out = r.json()
    counts = ("warnings_raised", "refused_out_of_area", "not_monitored", "below_threshold")
    assert tuple(out[c] for c in counts) == (1, 1, 0, 1)
    assert out["refused"] == ["records.1.id_number"]
    (wid,) = out["warning_ids"]
    again = (await api.post(url, json=body, headers=auth("county"))).json()
    assert (again["warnings_raised"], again["already_raised"]) == (0, 1)

    handle = client.get_workflow_handle_for(MonitoringWarningWorkflow.run, f"warning-{wid}")
    await wait_for(lambda: recorded_row(engine, wid), what="warning read model")
    r = await api.get("/warnings?status=awaiting_visit&kind=income", headers=auth("county"))
    assert wid in [i["warning_id"] for i in r.json()["items"]]
    r = await api.get("/warnings?kind=death", headers=auth("county"))
    assert wid not in [i["warning_id"] for i in r.json()["items"]]
    r = await api.get(f"/warnings/{wid}", headers=auth("township"))
    assert r.status_code == 200, r.text
    assert r.json()["category"] == "dibao" and "2000.00" in r.json()["rule_zh"]
    assert (await api.get(f"/warnings/{wid}", headers=auth("other_county"))).status_code == 403
    assert (await api.get(f"/warnings/{wid}", headers=auth("village"))).status_code == 403
    assert (await api.get("/warnings/nope", headers=auth("county"))).status_code == 404

    # A warning alone changes no payment: the entitlement is as it was.
    ent_state = await ent.query(EntitlementWorkflow.get_state)
    assert ent_state.status.value == "active" and ent_state.investigations == []

    # The visit's deadline: a reminder to the township, then the escalation to the county.
    state: WarningState = await handle.query(MonitoringWarningWorkflow.get_state)
    d = state.deadlines[0]
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, d.remind_at - now + timedelta(minutes=1))
    await wait_for(lambda: outbox(engine, handle.id) == ["reminder:township_officer:419901001"])
    await env.fast_forward(handle, d.due_at - d.remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: (
            outbox(engine, handle.id)
            == ["escalation:county_officer:419901", "reminder:township_officer:419901001"]
        ),
        what="escalation",
    )
    r = await api.get("/warnings?status=awaiting_visit", headers=auth("county"))
    assert [i["overdue"] for i in r.json()["items"] if i["warning_id"] == wid] == [True]

    visit_url = f"/warnings/{wid}/visit"
    today = beijing_today().isoformat()
    visit: dict[str, Any] = {
        "visited_on": today,
        "visitors": ["王调查", "李调查"],
        "finding_zh": "次子在外务工，月工资约2000元，家庭人均收入可能高于低保标准",
        "outcome": "change_investigation",
    }
    for bad, field in (
        ({**visit, "outcome": "closed"}, "reason_zh"),
        ({**visit, "outcome": "application_offered"}, "programme"),
        ({**visit, "visited_on": "2099-01-01"}, "visited_on"),
        ({**visit, "visitors": []}, "visitors"),
        ({**visit, "visitors": ["王调查"]}, "visitors"),  # a visit is made by two
        ({**visit, "outcome": "paid"}, "outcome"),
    ):
        r = await api.post(visit_url, json=bad, headers=auth("township"))
        assert r.status_code == 422 and errors(r) == field, (bad, r.text)
    assert (await api.post(visit_url, json=visit, headers=auth("county"))).status_code == 403
    assert (await api.post(visit_url, json=visit, headers=auth("township2"))).status_code == 403
    key = {"Idempotency-Key": f"visit-{wid}", **auth("township")}
    r = await api.post(visit_url, json=visit, headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "change_investigation" and r.json()["investigation_id"]
    r2 = await api.post(visit_url, json=visit, headers=key)  # the same request: answered once
    assert r2.status_code == 200 and r2.json() == r.json()
    r3 = await api.post(visit_url, json=visit, headers=auth("township"))
    assert r3.status_code == 409, r3.text

    final: WarningState = await handle.result()
    assert final.status is WarningStatus.CHANGE_INVESTIGATION
    assert final.visit is not None and final.deadlines[0].met_at is not None
    ent_state = await ent.query(EntitlementWorkflow.get_state)
    (inv,) = ent_state.investigations
    assert inv.investigation_id == r.json()["investigation_id"] and inv.kind.value == "data_flag"
    # The investigation is opened; nothing is cut, suspended or paid differently.
    after = account_row(engine, case_id)
    assert after is not None
    assert (after.status, after.payable_amount, after.members_paid) == (
        before.status,
        before.payable_amount,
        before.members_paid,
    )
    assert ent_state.status.value == "active" and ent_state.payable_amount == Decimal("600.00")
    assert all(m.status.value == "active" for m in ent_state.members)
    assert payments(engine, case_id) == []
    await keep(client, handle.id, "warning_change_investigation")


async def test_refused_applicants_warnings_offer_application_temporary_aid_or_close(
    api: httpx.AsyncClient, client: Client, worker: Worker, engine: Engine
) -> None:
    area = "419901001004"
    people = [refused_applicant(engine, area, name) for name in ("赵小兰", "钱大勇", "孙丽")]
    r = await api.get("/monitoring?category=refused&area_code=419901001004", headers=auth("county"))
    listed = {i["source_case_id"]: i for i in r.json()["items"]}
    assert {p[0] for p in people} <= set(listed)
    assert "低保标准" in (listed[people[0][0]]["reason_zh"] or "")

    seen = (beijing_today() - timedelta(days=3)).isoformat()
    r = await api.post(
        "/warnings/imports",
        json={
            "kind": "hospitalisation",
            "source": "医保部门住院结算",
            "records": [
                {"id_number": p[1], "amount": "12000.00", "observed_on": seen} for p in people
            ]
            + [{"id_number": people[0][1], "amount": "800.00", "observed_on": seen}],
        },
        headers=auth("admin"),
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["warnings_raised"], out["not_monitored"], out["below_threshold"]) == (3, 0, 1)
    ids = r.json()["warning_ids"]
    for wid in ids:
        await wait_for(lambda w=wid: recorded_row(engine, w), what="warning read model")
    by_person = {}
    for wid in ids:
        st = (await api.get(f"/warnings/{wid}", headers=auth("county"))).json()
        by_person[st["person_id_number"]] = wid
        assert st["category"] == "refused" and st["entitlement_workflow_id"] is None
    today = beijing_today().isoformat()
    base = {
        "visited_on": today,
        "visitors": ["王调查", "李调查"],
        "finding_zh": "住院花费大，家庭困难",
    }

    offered = by_person[people[0][1]]
    r = await api.post(
        f"/warnings/{offered}/visit",
        json={**base, "outcome": "change_investigation"},
        headers=auth("township"),
    )
    assert r.status_code == 422 and errors(r) == "outcome"  # no entitlement to investigate
    r = await api.post(
        f"/warnings/{offered}/visit",
        json={**base, "outcome": "application_offered", "programme": "rigid_expense"},
        headers=auth("township"),
    )
    assert r.status_code == 200 and r.json()["status"] == "application_offered", r.text
    assert outbox(engine, f"warning-{offered}") == ["notice:township_officer:419901001"]

    aid = by_person[people[1][1]]
    r = await api.post(
        f"/warnings/{aid}/visit",
        json={**base, "outcome": "temporary_aid"},
        headers=auth("township"),
    )
    assert r.status_code == 200 and r.json()["status"] == "temporary_aid", r.text
    assert outbox(engine, f"warning-{aid}") == ["notice:township_officer:419901001"]

    closed = by_person[people[2][1]]
    r = await api.post(
        f"/warnings/{closed}/visit",
        json={**base, "outcome": "closed", "reason_zh": "住院费用已由大病保险报销，生活无困难"},
        headers=auth("township"),
    )
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    final = await client.get_workflow_handle_for(
        MonitoringWarningWorkflow.run, f"warning-{closed}"
    ).result()
    assert final.visit is not None and "大病保险" in final.visit.reason_zh
    assert outbox(engine, f"warning-{closed}") == []
    r = await api.get("/warnings?status=closed&area_code=419901001004", headers=auth("county"))
    assert [i["warning_id"] for i in r.json()["items"]] == [closed]
    await keep(client, f"warning-{offered}", "warning_application_offered")
    await keep(client, f"warning-{closed}", "warning_closed")
