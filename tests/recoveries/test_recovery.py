"""Overpayment recovery on the real server (issue 11 item 3): a death dated before months
already paid opens one receivable per household and death with the deceased's share of each
paid line; its deadline reminds before and escalates after (time moved with
``env.fast_forward``); repayments close it at 0, or the county's write-off does; bad input is
refused naming the field. ``JIUZHU_WRITE_HISTORY=1`` also saves the histories replayed by
``tests/test_replay_all.py``."""

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.recoveries.activities import overpaid_lines, person_key
from jiuzhu.clock import beijing_today
from jiuzhu.db.models import CaseRecord, OutboxMessage
from jiuzhu.settings import Settings
from tests.conftest import auth
from tests.entitlements.helpers import approved_case, start_entitlement, wait_for, wait_published
from workflows.entitlements.contract import DeathNotification
from workflows.entitlements.models import EntitlementInput
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.recoveries.contract import RecoveryStatus, recovery_workflow_id
from workflows.recoveries.models import RecoveryState
from workflows.recoveries.workflow import OverpaymentRecoveryWorkflow

HISTORIES = Path(__file__).parent / "histories"
AREA = "419901001001"  # the demo county: the API's county officer works here


def seed_paid(
    engine: Engine,
    inp: EntitlementInput,
    periods: dict[str, str],
    area: str = AREA,
    status: str = "paid",
) -> None:
    """Paid payroll lines of the entitlement in ``area`` (as a payroll would have left them;
    ``status="sent"``: in a bank file the bank has not answered yet)."""
    case_id = f"{inp.household_id}-{inp.programme.value}"
    with Session(engine) as s:
        for period, amount in periods.items():
            s.execute(
                text(
                    "INSERT INTO payment_instruction (idempotency_key, kind, case_id, "
                    "household_id, programme, area_code, county_code, period, amount, "
                    "payee_name, payee_id_number, card_account, funding_source, payroll_id, "
                    "status, attempts) VALUES (:k, 'payroll', :c, :h, 'dibao', :a, :county, :p, "
                    ":amt, '王大山', :id, :card, 'county', :b, :status, 1)"
                ),
                {
                    "k": f"payroll:{inp.household_id}:dibao:{period}",
                    "c": case_id,
                    "h": inp.household_id,
                    "a": area,
                    "county": area[:6],
                    "p": period,
                    "amt": amount,
                    "id": inp.card_account.holder_id_number,
                    "card": inp.card_account.account_number,
                    "b": f"payroll-{area[:6]}-{period}",
                    "status": status,
                },
            )
        s.commit()


async def died(
    client: Client, settings: Settings, engine: Engine, inp: EntitlementInput, on: date
) -> WorkflowHandle[Any, Any]:
    """Record the applicant's death (the death check's Update) and wait for the receivable."""
    handle = client.get_workflow_handle_for(
        EntitlementWorkflow.run, f"entitlement-{inp.household_id}-dibao"
    )
    person = inp.household.members[0]
    await handle.execute_update(
        EntitlementWorkflow.record_death,
        DeathNotification(
            id_number=person.id_number,
            date_of_death=on,
            source="死亡比对（测试）",
            record_ref=f"death_record:{person.id_number}",
        ),
    )
    rid = recovery_workflow_id(inp.household_id, person_key(person.id_number))
    recovery = client.get_workflow_handle_for(OverpaymentRecoveryWorkflow.run, rid)

    def listed() -> bool:
        with Session(engine) as s:
            return s.get(CaseRecord, rid) is not None

    await wait_for(listed, what=f"recovery {rid}")
    return recovery


def outbox(engine: Engine, workflow_id: str) -> list[str]:
    with Session(engine) as s:
        got = s.exec(select(OutboxMessage).where(OutboxMessage.workflow_id == workflow_id)).all()
    return sorted(f"{r.kind}:{r.recipient_role}:{r.recipient_area}" for r in got)


async def keep(client: Client, workflow_id: str, name: str) -> None:
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())


def test_overpaid_share_rule() -> None:
    rows = [
        ("k1", "2026-11", Decimal("600.00")),
        ("k2", "2026-12", Decimal("600.00")),
        ("k3", "2027-Q1", Decimal("1800.00")),
    ]
    one = overpaid_lines(rows, date(2026, 11, 25), 1)
    assert [(x.period, x.overpaid) for x in one] == [
        ("2026-12", Decimal("600.00")),
        ("2027-Q1", Decimal("1800.00")),
    ]
    three = overpaid_lines(rows, date(2027, 1, 3), 3)
    assert [(x.period, x.overpaid) for x in three] == [("2027-Q1", Decimal("400.00"))]


async def test_death_before_paid_months_opens_a_receivable_repaid_in_full(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    inp = approved_case(AREA, start_month=date(2026, 10, 1), amount="500.00", members=1)
    await start_entitlement(client, settings.task_queue, inp)
    await wait_published(engine, f"{inp.household_id}-dibao")
    seed_paid(engine, inp, {"2026-11": "500.00", "2026-12": "500.00", "2027-01": "500.00"})
    handle = await died(client, settings, engine, inp, date(2026, 11, 25))
    state: RecoveryState = await handle.query(OverpaymentRecoveryWorkflow.get_state)
    assert [(x.period, x.overpaid) for x in state.lines] == [
        ("2026-12", Decimal("500.00")),
        ("2027-01", Decimal("500.00")),
    ]
    assert (state.amount, state.balance, state.status) == (
        Decimal("1000.00"),
        Decimal("1000.00"),
        RecoveryStatus.OPEN,
    )
    ent = await client.get_workflow_handle_for(
        EntitlementWorkflow.run, f"entitlement-{inp.household_id}-dibao"
    ).query(EntitlementWorkflow.get_state)
    assert "recovery_opened" in [t.action for t in ent.timeline]

    r = await api.get("/recoveries?county_code=419901&status=open", headers=auth("county"))
    assert r.status_code == 200, r.text
    assert handle.id in [i["recovery_id"] for i in r.json()["items"]]
    r = await api.get("/recoveries", headers=auth("other_county"))
    assert handle.id not in [i["recovery_id"] for i in r.json()["items"]]
    r = await api.get(f"/recoveries/{handle.id}", headers=auth("finance"))
    assert r.status_code == 200 and r.json()["balance"] == "1000.00"
    assert (
        await api.get(f"/recoveries/{handle.id}", headers=auth("other_county"))
    ).status_code == 403
    assert (await api.get("/recoveries/nope", headers=auth("county"))).status_code == 404

    # The deadline: a reminder to the county before it, an escalation to the city after it.
    deadline = state.deadlines[0]
    now = (await handle.describe()).start_time
    await env.fast_forward(handle, deadline.remind_at - now + timedelta(minutes=1))
    await wait_for(lambda: outbox(engine, handle.id) == ["reminder:county_officer:419901"])
    await env.fast_forward(handle, deadline.due_at - deadline.remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: (
            outbox(engine, handle.id)
            == ["escalation:county_officer:4199", "reminder:county_officer:419901"]
        ),
        what="escalation",
    )

    url = f"/recoveries/{handle.id}/repayments"
    today = beijing_today().isoformat()
    good = {"amount": "400.00", "payer_kind": "estate", "reference": "R-1", "paid_on": today}
    for bad, field, status in (
        ({**good, "amount": "1000.01"}, "amount", 422),
        ({**good, "amount": "-1"}, "amount", 422),
        ({**good, "payer_kind": "friend"}, "payer_kind", 422),
        ({k: v for k, v in good.items() if k != "reference"}, "reference", 422),
        ({**good, "paid_on": "2099-01-01"}, "paid_on", 422),
        ({**good, "paid_on": "2026-11-01"}, "paid_on", 422),
        ({**good, "extra": 1}, "extra", 422),
    ):
        r = await api.post(url, json=bad, headers=auth("county"))
        assert r.status_code == status, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, (bad, r.text)
    assert (await api.post(url, json=good, headers=auth("township"))).status_code == 403
    assert (await api.post(url, json=good, headers=auth("other_county"))).status_code == 403

    key = {"Idempotency-Key": "repay-1", **auth("county")}
    r = await api.post(url, json=good, headers=key)
    assert r.status_code == 200, r.text
    assert r.json()["balance"] == "600.00" and r.json()["status"] == "open"
    r = await api.post(url, json=good, headers=key)  # the same request again: answered once
    assert r.status_code == 200 and r.json()["balance"] == "600.00"
    r = await api.post(url, json=good, headers=auth("county"))  # same reference, no key
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "reference", r.text
    rest = {**good, "amount": "600.00", "payer_kind": "next_of_kin", "payer_name": "王小山"}
    r = await api.post(url, json={**rest, "reference": "R-2"}, headers=auth("county"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["balance"]) == ("recovered", "0.00")
    final: RecoveryState = await handle.result()
    assert final.status is RecoveryStatus.RECOVERED and final.recovered == Decimal("1000.00")
    assert final.deadlines[0].met_at is not None
    r = await api.post(url, json={**rest, "reference": "R-3"}, headers=auth("county"))
    assert r.status_code == 409, r.text
    with Session(engine) as s:
        row = s.get(CaseRecord, handle.id)
        assert row is not None and row.status == "recovered" and row.case_kind == "recovery"
    await keep(client, handle.id, "recovery_repaid")


async def test_two_person_household_share_written_off_by_county_decision(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2026, 10, 1), amount="600.00", members=2)
    await start_entitlement(client, settings.task_queue, inp)
    await wait_published(engine, f"{inp.household_id}-dibao")
    seed_paid(engine, inp, {"2026-12": "600.00", "2027-01": "600.00"})
    handle = await died(client, settings, engine, inp, date(2026, 11, 20))
    state: RecoveryState = await handle.query(OverpaymentRecoveryWorkflow.get_state)
    assert state.amount == Decimal("600.00") and state.covered_members == 2  # 300 a month

    url = f"/recoveries/{handle.id}/write-off"
    today = beijing_today().isoformat()
    good = {
        "document_number": "演民〔2026〕12号",
        "decided_on": today,
        "reason_zh": "无遗产可供追回",
    }
    for bad, field in (
        ({k: v for k, v in good.items() if k != "decided_on"}, "decided_on"),
        ({**good, "decided_on": "2026-13-01"}, "decided_on"),
        ({**good, "reason_zh": ""}, "reason_zh"),
        ({**good, "document_number": ""}, "document_number"),
    ):
        r = await api.post(url, json=bad, headers=auth("county"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (bad, r.text)
    assert (await api.post(url, json=good, headers=auth("finance"))).status_code == 403
    r = await api.post(url, json=good, headers=auth("county"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["written_off"]) == ("written_off", "600.00")
    final: RecoveryState = await handle.result()
    assert (
        final.write_off is not None and final.write_off.document_number == good["document_number"]
    )
    r = await api.get("/recoveries?status=written_off", headers=auth("county"))
    assert handle.id in [i["recovery_id"] for i in r.json()["items"]]
    await keep(client, handle.id, "recovery_written_off")


async def test_death_with_nothing_paid_after_it_opens_nothing(
    client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case(AREA, start_month=date(2026, 10, 1), amount="500.00", members=1)
    await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    seed_paid(engine, inp, {"2026-10": "500.00", "2026-11": "500.00"})
    handle = client.get_workflow_handle_for(EntitlementWorkflow.run, f"entitlement-{case_id}")
    person = inp.household.members[0]
    result = await handle.execute_update(
        EntitlementWorkflow.record_death,
        DeathNotification(
            id_number=person.id_number,
            date_of_death=date(2026, 11, 3),
            source="死亡比对（测试）",
            record_ref="death_record:none",
        ),
    )
    assert result.applied
    with Session(engine) as s:
        rid = recovery_workflow_id(inp.household_id, person_key(person.id_number))
        assert s.get(CaseRecord, rid) is None
