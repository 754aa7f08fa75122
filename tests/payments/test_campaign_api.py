"""Campaigns through the API on the real server: a campaign started by the API waits for county
finance's funding confirmation (``POST /campaigns/{id}/funding``, once: another reference is a
409 naming the recorded one) before its list goes to the bank; after an unreadable bank answer
(``bank_error``) finance re-sends it (``POST /campaigns/{id}/resubmit``, only from
``bank_error``, audited), and the bank credits each line once."""

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from jiuzhu.clock import beijing_today
from jiuzhu.contract import Role
from jiuzhu.db.engine import unit_of_work
from jiuzhu.db.models_payments import Campaign
from jiuzhu.officers import create_officer
from jiuzhu.settings import Settings
from tests.entitlements.helpers import actor, seed_accounts, wait_for
from tests.payments.support import CorrectedBank, scalar
from tests.payments.test_daily_batch import worker_with_bank
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.contract import CampaignStatus, campaign_workflow_id
from workflows.payments.models import CampaignInput

COUNTY = "410882"  # 沁阳市: no other test pays entitlements there


def officers(engine: Engine) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """An admin of 焦作市, finance and a county officer of 沁阳市 (fresh tokens per test)."""
    tag = uuid.uuid4().hex[:8]
    made = []
    for role, area in ((Role.ADMIN, "4108"), (Role.FINANCE, COUNTY), (Role.COUNTY_OFFICER, COUNTY)):
        token = f"camp-{role.value}-{tag}"
        create_officer(engine, f"officer-{token}", f"测试{role.value}", role, area, token)
        made.append({"Authorization": f"Bearer {token}"})
    return made[0], made[1], made[2]


async def test_campaign_started_by_the_api_waits_for_funding_once(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    admin, finance, county = officers(engine)
    seed_accounts(engine, COUNTY, 2, amount="500.00", start_index=2026 * 12, prefix="CF")
    r = await api.post(
        "/campaigns",
        json={
            "name": "一次性生活补贴",
            "county_code": COUNTY,
            "programmes": ["dibao"],
            "amount_per_person": "300.00",
            "provincial_share": "0.6",
            "pay_by": (beijing_today() + timedelta(days=20)).isoformat(),
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    campaign_id = r.json()["campaign_id"]

    async def awaiting() -> Any:
        r = await api.get(f"/campaigns/{campaign_id}/state", headers=finance)
        return r.json() if r.json()["status"] == "awaiting_funding" else None

    state = await wait_for(awaiting, seconds=60, what="campaign awaiting funding")
    total = state["compiled"]["total"]
    assert Decimal(total) >= Decimal("1200.00")  # 2 households × 2 persons × 300 (at least)
    url = f"/campaigns/{campaign_id}/funding"
    r = await api.post(url, json={"amount": total, "reference": "CZ-1"}, headers=county)
    assert r.status_code == 403  # finance confirms
    r = await api.post(url, json={"amount": "1.00", "reference": "CZ-1"}, headers=finance)
    assert r.status_code == 422, r.text
    r = await api.post(url, json={"amount": total, "reference": "CZ-1"}, headers=finance)
    assert r.status_code == 200, r.text
    assert r.json()["reference"] == "CZ-1" and not r.json()["already_recorded"]
    r = await api.post(url, json={"amount": total, "reference": "CZ-2"}, headers=finance)
    assert r.status_code == 409, r.text
    assert "CZ-1" in r.text

    async def reconciled() -> bool:
        r = await api.get(f"/campaigns/{campaign_id}", headers=finance)
        return bool(r.json()["status"] == "reconciled")

    await wait_for(reconciled, seconds=60, what="campaign reconciled")
    r = await api.post(url, json={"amount": total, "reference": "CZ-2"}, headers=finance)
    assert r.status_code == 409, r.text  # another reference, after the end too
    r = await api.post(
        f"/campaigns/{campaign_id}/resubmit", json={"reason_zh": "重新报送"}, headers=finance
    )
    assert r.status_code == 409, r.text  # nothing to re-send


async def test_campaign_resubmitted_after_bank_error_pays_each_line_once(
    api: httpx.AsyncClient, client: Client, settings: Settings, engine: Engine
) -> None:
    _, _, county = officers(engine)
    county_code = "419967"  # the workflow started directly: a county of its own
    seed_accounts(engine, county_code, 3, amount="500.00", start_index=2026 * 12, prefix="CR")
    campaign_id = f"CRESUB{uuid.uuid4().hex[:8].upper()}"
    pay_by = beijing_today() + timedelta(days=20)
    with unit_of_work(engine) as s:
        s.add(
            Campaign(
                campaign_id=campaign_id,
                name="一次性生活补贴",
                county_code=county_code,
                programmes=["dibao"],
                amount_per_person=Decimal("300.00"),
                provincial_ratio=Decimal("0.6"),
                pay_by=pay_by,
                status="started",
                created_by="test",
            )
        )
    create_officer(
        engine, f"officer-fin-{campaign_id}", "测试财政", Role.FINANCE, county_code, campaign_id
    )
    finance = {"Authorization": f"Bearer {campaign_id}"}
    async with worker_with_bank(client, settings, engine, CorrectedBank(engine)) as queue:
        handle = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                campaign_id=campaign_id,
                name="一次性生活补贴",
                county_code=county_code,
                programmes=["dibao"],
                amount_per_person=Decimal("300.00"),
                provincial_ratio=Decimal("0.6"),
                pay_by=pay_by,
                created_by=actor(Role.ADMIN, county_code),
            ),
            id=campaign_workflow_id(campaign_id),
            task_queue=queue,
        )

        async def failed() -> Any:
            st = await handle.query(CampaignWorkflow.get_state)
            return st if st.status is CampaignStatus.BANK_ERROR else None

        state = await wait_for(failed, seconds=60, what="campaign bank_error")
        assert state.bank_error
        credited = scalar(
            engine, "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :b", b=campaign_id
        )
        assert credited == 3  # the bank credited; its answer could not be read
        url = f"/campaigns/{campaign_id}/resubmit"
        r = await api.post(url, json={"reason_zh": "银行已重新回盘"}, headers=county)
        assert r.status_code == 403  # another county's officer, and not finance
        r = await api.post(url, json={"reason_zh": "已与银行核对，重新报送"}, headers=finance)
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "sending", "resubmission": 1}
        final = await handle.result()
    assert final.status is CampaignStatus.RECONCILED and final.bank_error is None
    assert final.reconciled is not None and final.reconciled.paid_count == 3
    (done,) = final.resubmissions
    assert done.actor.role is Role.FINANCE and done.after_error and done.reason_zh
    assert (
        scalar(engine, "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :b", b=campaign_id) == 3
    )
    audit = scalar(
        engine,
        "SELECT actor_officer_id FROM audit_entry WHERE case_id = :c AND action = 'bank_resubmit'",
        c=campaign_id,
    )
    assert audit == f"officer-fin-{campaign_id}"
    assert (
        scalar(
            engine,
            "SELECT COUNT(*) FROM outbox_message WHERE dedupe_key = :k",
            k=f"{campaign_id}:bank_error",
        )
        == 1
    )
