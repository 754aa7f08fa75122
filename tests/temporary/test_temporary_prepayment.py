"""急难型 on the real server through the API: a prepayment from the reserve fund, its
justification deadline (reminder to the township, escalation to the county), the overdue flag in
search attributes and lists, the county's acceptance or rejection, and recovery into the fund."""

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.db.models_temporary import TemporaryRecovery
from tests.conftest import auth
from tests.temporary.helpers import (
    COUNTY,
    TOWNSHIP,
    assert_replays,
    audit_actions,
    balance_is_ledger_sum,
    create_case,
    fund_balance,
    justification_body,
    ledger,
    outbox,
    payments,
    registered,
    replenish,
)
from workflows.temporary.workflow import TemporaryCaseWorkflow

REMINDER = ("reminder", "township_officer", TOWNSHIP)
ESCALATION = ("escalation", "county_officer", COUNTY)


async def search_attributes(client: Client, workflow_id: str) -> dict[str, object]:
    desc = await client.get_workflow_handle(workflow_id).describe()
    return {k.name: v for k, v in desc.typed_search_attributes}


async def test_prepayment_justified_in_time(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, engine: Engine
) -> None:
    await replenish(api, TOWNSHIP, "5000.00")
    case = await create_case(api)
    case_id = case["case_id"]
    wf_id = f"temporary-{case_id}"
    await registered(api, case_id)
    before = fund_balance(engine, TOWNSHIP)

    r = await api.post(
        f"/temporary-cases/{case_id}/prepayment",
        json={"amount": "800", "reason_zh": "火灾后无处安身，急需生活费"},
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "prepaid"
    assert state["prepayment"]["amount"] == "800.00"
    assert fund_balance(engine, TOWNSHIP) == before - Decimal("800.00")
    (entry,) = ledger(engine, [case_id])
    assert (entry.direction, entry.purpose, entry.amount_fen) == ("debit", "prepayment", 80000)
    (pay,) = payments(engine, [case_id])
    assert (pay.kind, pay.funding_source, pay.amount) == (
        "prepayment",
        "reserve_fund",
        Decimal("800.00"),
    )
    assert pay.idempotency_key == f"temporary:{case_id}:prepayment"
    assert balance_is_ledger_sum(engine, TOWNSHIP)

    (deadline,) = state["deadlines"]
    assert deadline["spec"]["name"] == "prepayment_justification"
    sa = await search_attributes(client, wf_id)
    assert sa["CaseKind"] == "temporary" and sa["ProgrammeStatus"] == "prepaid"
    assert sa["Overdue"] is False and sa["NextDeadline"] is not None

    r = await api.get("/temporary-cases?open_prepayments=true", headers=auth("township"))
    mine = [i for i in r.json()["items"] if i["case_id"] == case_id]
    assert mine and mine[0]["prepayment"]["status"] == "awaiting_justification"
    assert mine[0]["prepayment"]["justification_due"] is not None
    assert mine[0]["overdue"] is False

    handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, wf_id)
    await handle.signal("calendar_changed")  # nothing provisional: nothing moves
    await env.fast_forward(handle, timedelta(days=3))
    r = await api.post(
        f"/temporary-cases/{case_id}/justification",
        json=justification_body("800.00"),
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "justified"
    assert state["deadlines"][0]["met_at"] is not None
    assert state["prepayment"]["justification"]["late"] is False
    signature = state["prepayment"]["justification"]["township_signature"]
    assert signature["officer"]["role"] == "township_officer"

    r = await api.post(
        f"/temporary-cases/{case_id}/justification-review",
        json={"decision": "accept", "reason_zh": "手续齐全"},
        headers=auth("county"),
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "closed" and state["outcome"] == "aided"
    assert state["prepayment"]["review"]["county_signature"]["officer"]["role"] == "county_officer"
    final = await handle.result()
    assert final.status == "closed"
    assert final.deadlines[0].due_at.isoformat() == deadline["due_at"].replace("Z", "+00:00")
    await assert_replays(handle, save_as="prepayment_justified")
    assert outbox(engine, wf_id) == []  # met in time: no reminder, no escalation
    r = await api.get("/temporary-cases?open_prepayments=true", headers=auth("township"))
    assert case_id not in [i["case_id"] for i in r.json()["items"]]
    assert audit_actions(engine, case_id) == [
        "register",
        "prepayment",
        "justification",
        "justification_accepted",
        "close",
    ]


async def test_prepayment_never_justified_escalates_and_is_recovered(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, engine: Engine
) -> None:
    await replenish(api, TOWNSHIP, "2000.00")
    case = await create_case(api)
    case_id = case["case_id"]
    wf_id = f"temporary-{case_id}"
    await registered(api, case_id)
    r = await api.post(
        f"/temporary-cases/{case_id}/prepayment",
        json={"amount": "600.00", "reason_zh": "突发事故，急需医疗和生活费"},
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    after_grant = fund_balance(engine, TOWNSHIP)
    (d,) = r.json()["deadlines"]
    handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, wf_id)

    # Not before the deadline: the county may not reject for want of a justification yet.
    r = await api.post(
        f"/temporary-cases/{case_id}/justification-review",
        json={"decision": "reject", "reason_zh": "未补充说明"},
        headers=auth("county"),
    )
    assert r.status_code == 409, r.text

    remind_at = datetime.fromisoformat(d["remind_at"])
    due_at = datetime.fromisoformat(d["due_at"])
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, remind_at - now + timedelta(minutes=1))
    assert outbox(engine, wf_id) == [REMINDER]
    sa = await search_attributes(client, wf_id)
    assert sa["Overdue"] is False
    await env.fast_forward(handle, due_at - remind_at + timedelta(hours=1))
    assert outbox(engine, wf_id) == [ESCALATION, REMINDER]
    sa = await search_attributes(client, wf_id)
    assert sa["Overdue"] is True
    assert sa["ProgrammeStatus"] == "prepaid"

    r = await api.get("/temporary-cases?open_prepayments=true", headers=auth("county"))
    mine = [i for i in r.json()["items"] if i["case_id"] == case_id]
    assert mine and mine[0]["overdue"] is True and mine[0]["prepayment"]["overdue"] is True
    r = await api.get("/temporary-cases?overdue=true", headers=auth("township"))
    assert case_id in [i["case_id"] for i in r.json()["items"]]

    r = await api.post(
        f"/temporary-cases/{case_id}/justification-review",
        json={"decision": "reject", "reason_zh": "逾期未补充说明，手续不全"},
        headers=auth("county"),
    )
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "recovery"
    assert state["prepayment"]["recovery"]["amount_due"] == "600.00"
    with Session(engine) as s:
        rec = s.get(TemporaryRecovery, case_id)
        assert rec is not None and rec.status == "open" and rec.amount_fen == 60000
    assert ("notice", "township_officer", TOWNSHIP) in outbox(engine, wf_id)
    assert outbox(engine, wf_id).count(ESCALATION) == 1

    # Part, then the rest: the fund is credited each time; the case closes when recovered.
    r = await api.post(
        f"/temporary-cases/{case_id}/recoveries",
        json={"amount": "700.00", "recovered_on": state["registered_at"][:10], "method_zh": "退回"},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount"
    for amount in ("200.00", "400.00"):
        r = await api.post(
            f"/temporary-cases/{case_id}/recoveries",
            json={
                "amount": amount,
                "recovered_on": state["registered_at"][:10],
                "method_zh": "受助人退回现金，已缴回备用金账户",
            },
            headers=auth("township"),
        )
        assert r.status_code == 200, r.text
    state = r.json()
    assert state["status"] == "closed" and state["outcome"] == "recovered"
    assert fund_balance(engine, TOWNSHIP) == after_grant + Decimal("600.00")
    entries = ledger(engine, [case_id])
    assert [(e.direction, e.purpose, e.amount_fen) for e in entries] == [
        ("debit", "prepayment", 60000),
        ("credit", "recovery", 20000),
        ("credit", "recovery", 40000),
    ]
    with Session(engine) as s:
        rec = s.get(TemporaryRecovery, case_id)
        assert rec is not None and rec.status == "recovered" and rec.recovered_fen == 60000
    assert balance_is_ledger_sum(engine, TOWNSHIP)
    final = await handle.result()
    assert final.outcome == "recovered"
    await assert_replays(handle, save_as="prepayment_recovered")
