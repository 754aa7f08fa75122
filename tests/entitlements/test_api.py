"""The payroll, campaign and entitlement endpoints end to end on the real server: a month
backfilled through the county's schedule, funded by finance, paid, with totals per programme,
the bank file and the reconciliation report; a one-off campaign with provincial and local
shares, paid once; roles and areas enforced; bad input 422 naming the field."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from jiuzhu.clock import beijing_today
from jiuzhu.settings import Settings
from tests.conftest import auth
from tests.entitlements.helpers import (
    approved_case,
    payments,
    start_entitlement,
    wait_for,
    wait_published,
)
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.payroll import PayrollWorkflow

AREA = "419901001001"


async def _state(client: Client, workflow_id: str, status: PayrollStatus):  # type: ignore[no-untyped-def]
    try:
        state = await client.get_workflow_handle_for(PayrollWorkflow.run, workflow_id).query(
            PayrollWorkflow.get_state
        )
    except Exception:
        return None
    return state if state.status is status else None


async def test_backfill_fund_pay_and_download(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2033, 3, 1), amount="650.00")
    await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)

    r = await api.post(
        "/payroll/419901/backfill", json={"period": "2033-03"}, headers=auth("county")
    )
    assert r.status_code == 403
    for bad in ({"period": "2033-3"}, {"period": "2033-13"}, {"period": "2033-03", "x": 1}):
        r = await api.post("/payroll/419901/backfill", json=bad, headers=auth("admin"))
        assert r.status_code == 422, r.text
    r = await api.post(
        "/payroll/999999/backfill", json={"period": "2033-03"}, headers=auth("admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "county_code"
    r = await api.post(
        "/payroll/419901/backfill", json={"period": "2033-03"}, headers=auth("admin")
    )
    assert r.status_code == 202, r.text
    pid = payroll_workflow_id("419901", 2033, 3)
    assert r.json() == {"workflow_ids": [pid], "started": [pid], "already": []}

    state = await wait_for(
        lambda: _state(client, pid, PayrollStatus.AWAITING_FUNDING), seconds=60, what="compiled"
    )
    total = str(state.compiled.pending_total)
    url = "/payroll/419901/2033-03/funding"
    r = await api.post(url, json={"amount": total, "reference": "BOF-1"}, headers=auth("county"))
    assert r.status_code == 403
    r = await api.post(url, json={"amount": "-5", "reference": "x"}, headers=auth("finance"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    wrong = str(Decimal(total) + 1)
    r = await api.post(url, json={"amount": wrong, "reference": "x"}, headers=auth("finance"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount", r.text
    r = await api.post(url, json={"amount": total, "reference": "BOF-1"}, headers=auth("finance"))
    assert r.status_code == 200, r.text
    await wait_for(lambda: _state(client, pid, PayrollStatus.RECONCILED), seconds=60)
    await client.get_workflow_handle(pid).result()
    # After the month has ended: the same confirmation is a repeat, another is 409 naming it.
    r = await api.post(url, json={"amount": total, "reference": "BOF-1"}, headers=auth("finance"))
    assert r.status_code == 200 and r.json()["funding_reference"] == "BOF-1", r.text
    r = await api.post(url, json={"amount": total, "reference": "BOF-2"}, headers=auth("finance"))
    assert r.status_code == 409 and "BOF-1" in r.text, r.text

    r = await api.get("/payroll/419901/2033-03", headers=auth("county"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["run"]["status"] == "reconciled" and body["run"]["credit_date"] == "2033-03-10"
    dibao_paid = [t for t in body["totals"] if t["programme"] == "dibao" and t["status"] == "paid"]
    assert dibao_paid and dibao_paid[0]["count"] >= 1
    assert [p.period for p in payments(engine, case_id)] == ["2033-03"]

    r = await api.get("/payroll/419901/2033-03/bank-file", headers=auth("finance"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert lines[0].startswith(f"H|JZPAY1|{pid}|419901|20330310|")
    assert any(f"payroll:{inp.household_id}:dibao:2033-03" in line for line in lines)
    assert lines[-1].startswith("T|")
    r = await api.get("/payroll/419901/2033-03/reconciliation", headers=auth("auditor"))
    assert r.status_code == 200 and case_id in r.text and ",paid," in r.text

    assert (await api.get("/payroll/419901/2033-03", headers=auth("village"))).status_code == 403
    r = await api.get("/payroll/419901/2033-03", headers=auth("other_county"))
    assert r.status_code == 403
    assert (await api.get("/payroll/419901/2033-03")).status_code == 401
    r = await api.get("/payroll/419901/2033-13", headers=auth("county"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "period"
    assert (await api.get("/payroll/419901/2034-01", headers=auth("county"))).status_code == 404
    r = await api.get("/payroll/419901", headers=auth("county"))
    assert pid in [run["payroll_id"] for run in r.json()]

    # Backfilling the same month again starts nothing: the month has its one workflow.
    r = await api.post(
        "/payroll/419901/backfill", json={"period": "2033-03"}, headers=auth("admin")
    )
    assert r.status_code == 202
    assert r.json() == {"workflow_ids": [pid], "started": [], "already": [pid]}
    assert len([w async for w in client.list_workflows(f'WorkflowId = "{pid}"')]) == 1
    assert [p.period for p in payments(engine, case_id)] == ["2033-03"]


async def test_trigger_starts_the_current_month(
    api: httpx.AsyncClient, client: Client, worker: Worker
) -> None:
    r = await api.post("/payroll/419901/trigger", headers=auth("finance"))
    assert r.status_code == 403
    r = await api.post("/payroll/419901/trigger", headers=auth("admin"))
    assert r.status_code == 202, r.text
    today = beijing_today()
    pid = payroll_workflow_id("419901", today.year, today.month)
    assert r.json()["workflow_ids"] == [pid]

    async def started() -> bool:
        try:
            await client.get_workflow_handle(pid).describe()
            return True
        except Exception:
            return False

    await wait_for(started, seconds=30, what="the month's payroll")


async def test_campaign_pays_once_with_provincial_and_local_shares(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2026, 12, 1), amount="600.00", members=2)
    await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    pay_by = (beijing_today() + timedelta(days=40)).isoformat()
    if pay_by < "2026-12-01":  # pragma: no cover - the start month must be paid by then
        pay_by = "2026-12-20"
    body = {
        "name": "2026年一次性生活补贴",
        "county_code": "419901",
        "programmes": ["dibao", "tekun"],
        "amount_per_person": "300.00",
        "provincial_share": "0.6",
        "pay_by": pay_by,
    }
    for field, value in (
        ("programmes", ["temporary"]),
        ("provincial_share", "1.5"),
        ("pay_by", "2020-01-01"),
        ("amount_per_person", "0"),
        ("county_code", "999999"),
    ):
        r = await api.post("/campaigns", json={**body, field: value}, headers=auth("admin"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert (await api.post("/campaigns", json=body, headers=auth("county"))).status_code == 403
    headers = {**auth("admin"), "Idempotency-Key": f"campaign-{inp.household_id}"}
    r = await api.post("/campaigns", json=body, headers=headers)
    assert r.status_code == 201, r.text
    campaign_id = r.json()["campaign_id"]

    async def awaiting_funding() -> dict[str, Any] | None:
        got = await api.get(f"/campaigns/{campaign_id}/state", headers=auth("finance"))
        state: dict[str, Any] = got.json()
        return state if state["status"] == "awaiting_funding" else None

    state = await wait_for(awaiting_funding, seconds=60, what="campaign awaiting funding")
    r = await api.post(
        f"/campaigns/{campaign_id}/funding",
        json={"amount": state["compiled"]["total"], "reference": f"CZ-{campaign_id}"},
        headers=auth("finance"),
    )
    assert r.status_code == 200, r.text

    async def reconciled() -> bool:
        got = await api.get(f"/campaigns/{campaign_id}", headers=auth("finance"))
        return bool(got.json()["status"] == "reconciled")

    await wait_for(reconciled, seconds=60, what="campaign paid")
    r = await api.post("/campaigns", json=body, headers=headers)
    assert r.status_code == 200 and r.json()["campaign_id"] == campaign_id
    mine = [p for p in payments(engine, case_id) if p.kind == "campaign"]
    assert len(mine) == 1
    line = mine[0]
    assert (line.amount, line.provincial_share, line.local_share) == (
        Decimal("600.00"),
        Decimal("360.00"),
        Decimal("240.00"),
    )
    assert line.status == "paid" and line.idempotency_key == (
        f"campaign:{campaign_id}:{inp.household_id}:dibao"
    )
    r = await api.get(f"/campaigns/{campaign_id}", headers=auth("finance"))
    got = r.json()
    assert Decimal(got["provincial_total"]) + Decimal(got["local_total"]) == Decimal(got["total"])


async def test_entitlement_list_and_review_input_errors(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2027, 1, 1))
    await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    r = await api.get("/entitlements?status=active&programme=dibao", headers=auth("township"))
    assert r.status_code == 200 and case_id in [i["entitlement_id"] for i in r.json()["items"]]
    r = await api.get("/entitlements", headers=auth("township2"))
    assert case_id not in [i["entitlement_id"] for i in r.json()["items"]]
    assert (await api.get(f"/entitlements/{case_id}", headers=auth("township2"))).status_code == 403
    assert (await api.get("/entitlements/nope", headers=auth("county"))).status_code == 404
    url = f"/entitlements/{case_id}/review-outcome"
    for bad, field in (
        ({"outcome": "pause", "reasons_zh": "x"}, "outcome"),
        ({"outcome": "adjust", "reasons_zh": "x", "new_amount": "abc"}, "new_amount"),
        ({"outcome": "adjust", "reasons_zh": ""}, "reasons_zh"),
    ):
        r = await api.post(url, json=bad, headers=auth("county"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    r = await api.post(
        url, json={"outcome": "continue", "reasons_zh": "x"}, headers=auth("township")
    )
    assert r.status_code == 403
    r = await api.put(
        f"/entitlements/{case_id}/card-account",
        json={"holder_name": "王大山", "holder_id_number": "1", "account_number": "12"},
        headers=auth("county"),
    )
    assert r.status_code == 422
