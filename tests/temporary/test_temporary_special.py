"""一事一议 on the real server: a need above the township cap is referred to the county, which
approves an amount paid in three stages over three months (一次审批、分阶段救助); durable timers pay
each stage on its date, once (idempotency key case + stage), from county funds."""

from datetime import datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.clock import BEIJING
from tests.conftest import auth
from tests.temporary.helpers import (
    assert_replays,
    audit_actions,
    create_case,
    ledger,
    outbox,
    payments,
    registered,
)
from workflows.temporary.workflow import TemporaryCaseWorkflow


async def test_special_decision_staged_plan_paid_over_three_months(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, engine: Engine
) -> None:
    case_id = (await create_case(api, event_type="serious_illness"))["case_id"]
    wf_id = f"temporary-{case_id}"
    handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, wf_id)
    await registered(api, case_id)

    r = await api.post(
        f"/temporary-cases/{case_id}/referral",
        json={"need_amount": "900.00", "situation_zh": "需求不大"},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "need_amount"
    r = await api.post(
        f"/temporary-cases/{case_id}/referral",
        json={"need_amount": "6000.00", "situation_zh": "患白血病，后续化疗费用高"},
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "referred"
    assert ("notice", "county_officer", "419901") in outbox(engine, wf_id)

    today = (await env.get_current_time(handle)).astimezone(BEIJING).date()
    plan = [
        {"pay_on": today.isoformat(), "amount": "2000.00"},
        {"pay_on": (today + timedelta(days=30)).isoformat(), "amount": "2000.00"},
        {"pay_on": (today + timedelta(days=61)).isoformat(), "amount": "2000.00"},
    ]
    decision = {
        "decision": "approve",
        "amount": "6000.00",
        "stages": plan,
        "meeting_ref": "演示县协调机制〔2026〕12号",
        "reason_zh": "经县级协调机制一事一议，同意分三个月救助",
    }
    r = await api.post(
        f"/temporary-cases/{case_id}/special-decision", json=decision, headers=auth("township")
    )
    assert r.status_code == 403  # the county decides
    bad = dict(decision, amount="5000.00")
    r = await api.post(
        f"/temporary-cases/{case_id}/special-decision", json=bad, headers=auth("county")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "stages"
    r = await api.post(
        f"/temporary-cases/{case_id}/special-decision", json=decision, headers=auth("county")
    )
    assert r.status_code == 200, r.text

    async def paid() -> list[tuple[str, str, Decimal]]:
        return [(p.idempotency_key, p.period, p.amount) for p in payments(engine, [case_id])]

    state = await handle.query(TemporaryCaseWorkflow.get_state)
    for _ in range(50):
        if len(await paid()) == 1:
            break
        await env.fast_forward(handle, timedelta(seconds=1))
    assert await paid() == [(f"temporary:{case_id}:stage:1", plan[0]["pay_on"], Decimal(2000))]
    state = await handle.query(TemporaryCaseWorkflow.get_state)
    assert state.status == "paying"

    await env.fast_forward(handle, timedelta(days=31))
    assert [k for k, _, _ in await paid()] == [
        f"temporary:{case_id}:stage:1",
        f"temporary:{case_id}:stage:2",
    ]
    await env.fast_forward(handle, timedelta(days=31))
    final = await handle.result()
    got = await paid()
    assert [(k[-7:], period) for k, period, _ in got] == [
        ("stage:1", plan[0]["pay_on"]),
        ("stage:2", plan[1]["pay_on"]),
        ("stage:3", plan[2]["pay_on"]),
    ]
    assert sum(a for _, _, a in got) == Decimal("6000.00")
    assert {p.kind for p in payments(engine, [case_id])} == {"staged"}
    assert {p.funding_source for p in payments(engine, [case_id])} == {"county"}
    assert ledger(engine, [case_id]) == []  # not from the reserve fund
    assert final.status == "closed" and final.outcome == "aided"
    assert all(s.paid_at is not None for s in final.special_decision.stages)  # type: ignore[union-attr]
    paid_dates = [
        s.paid_at.astimezone(BEIJING).date()  # type: ignore[union-attr]
        for s in final.special_decision.stages  # type: ignore[union-attr]
    ]
    assert paid_dates == [datetime.fromisoformat(p["pay_on"]).date() for p in plan]
    assert audit_actions(engine, case_id).count("stage_paid") == 3
    await assert_replays(handle, save_as="special_staged")
