"""Data verification through the embedded adapter (tables an admin loads): a flaky source is
retried until it answers and the case continues; what the sources find feeds the means test; an
objection with evidence triggers a re-check. The relatives registry flags a case that then needs
a county home visit before any decision. Admin endpoints: roles and bad input."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.application.helpers import (
    card,
    case_record,
    create,
    fast_forward,
    household,
    investigation,
    money,
    step,
    through_publicity,
    wait_status,
)
from tests.conftest import auth
from tests.factories import application_body, id_number

ADMIN = auth("admin")


async def load(
    api: httpx.AsyncClient, source: str, records: list[dict[str, Any]], **extra: Any
) -> httpx.Response:
    return await api.put(
        f"/admin/verification/{source}", json={"records": records, **extra}, headers=ADMIN
    )


@pytest_asyncio.fixture
async def clean_sources(api: httpx.AsyncClient) -> AsyncIterator[None]:
    """The sources are shared by every case: leave them empty and available."""
    yield
    for source in ("tax", "deposits"):
        r = await load(api, source, [])
        assert r.status_code == 200, r.text


async def test_flaky_source_is_retried_and_its_findings_feed_the_means_test(
    api: httpx.AsyncClient,
    client: Client,
    env: WorkflowEnvironment,
    engine: Engine,
    clean_sources: None,
) -> None:
    app_id, body = await create(api)
    applicant = body["household"][0]["id_number"]
    r = await load(
        api,
        "tax",
        [{"id_number": applicant, "category": "income", "kind": "wage", "amount": "800.00"}],
        fail_first_attempts=2,
    )
    assert r.status_code == 200 and r.json()["record_count"] == 1
    await step(api, app_id, "accept", {})
    await step(
        api, app_id, "investigation", investigation(household(body, {0: [("wage", "600.00")]}))
    )
    await fast_forward(env, client, app_id, timedelta(seconds=10))  # the retry backoff
    s = await wait_status(api, app_id, "awaiting_opinion")
    tax = next(r for r in s["verification"]["results"] if r["source"] == "tax")
    assert tax["status"] == "ok" and tax["attempts"] == 3  # two failures, then an answer
    assert [d["found"] for d in s["verification"]["discrepancies"]] == ["800.00"]
    assert money(s["assessment"]["programmes"][0]["monthly_amount"]) == money("300.00")
    verification = next(t for t in s["timeline"] if t["action"] == "verification")
    assert "1处与申报不一致" in verification["note_zh"]
    assert case_record(engine, app_id).status == "awaiting_opinion"
    await step(api, app_id, "withdraw", {"reason_zh": "测试结束"})


async def test_objection_with_evidence_triggers_a_recheck(
    api: httpx.AsyncClient, clean_sources: None
) -> None:
    app_id, body = await create(api)
    applicant = body["household"][0]["id_number"]
    deposit = {"id_number": applicant, "category": "asset", "kind": "deposit"}
    assert (await load(api, "deposits", [{**deposit, "amount": "90000.00"}])).status_code == 200
    await step(api, app_id, "accept", {})
    await step(
        api, app_id, "investigation", investigation(household(body, {0: [("wage", "600.00")]}))
    )
    s = await wait_status(api, app_id, "awaiting_opinion")
    dibao = s["assessment"]["programmes"][0]
    assert not dibao["eligible"]
    assert "ASSETS_OVER_LIMIT" in [r["code"] for r in dibao["reasons"]]

    # The bank's record was wrong (a closed account); corrected, then re-checked on objection.
    assert (await load(api, "deposits", [{**deposit, "amount": "3000.00"}])).status_code == 200
    r = await api.post(
        f"/applications/{app_id}/verification-objection",
        json={"statement_zh": "该账户已销户", "evidence": []},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "evidence"
    s = await step(
        api,
        app_id,
        "verification-objection",
        {
            "statement_zh": "该账户已于2025年销户",
            "evidence": ["银行销户证明"],
            "source": "deposits",
        },
    )
    # The re-check runs in the background and may already be done when the answer is read.
    assert s["status"] in ("verification", "awaiting_opinion")
    assert s["verification"]["round"] == 2
    s = await wait_status(api, app_id, "awaiting_opinion")
    assert s["verification"]["round"] == 2 and s["assessment"]["programmes"][0]["eligible"]
    await step(api, app_id, "withdraw", {"reason_zh": "测试结束"})


async def test_relative_of_staff_needs_a_county_visit_before_any_decision(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    body = application_body()
    spouse = body["household"][1]
    entry = {
        "id_number": spouse["id_number"],
        "name": spouse["name"],
        "staff_name": "李村干",
        "staff_role": "village_cadre",
        "relation_zh": "姐妹",
        "area_code": "419901001001",
    }
    assert (await api.put("/admin/relatives", json={"entries": [entry]})).status_code == 401
    r = await api.put("/admin/relatives", json={"entries": [entry]}, headers=auth("county"))
    assert r.status_code == 403
    bad = {**entry, "id_number": "123"}
    r = await api.put("/admin/relatives", json={"entries": [bad]}, headers=ADMIN)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "entries.0.id_number"
    r = await api.put(
        "/admin/relatives", json={"entries": [{**entry, "area_code": "410882"}]}, headers=ADMIN
    )
    assert r.status_code == 403
    r = await api.put("/admin/relatives", json={"entries": [entry]}, headers=ADMIN)
    assert r.status_code == 200 and r.json()["total"] == 1
    try:
        app_id, body = await create(api, body)
        await step(api, app_id, "accept", {})
        s = await step(
            api,
            app_id,
            "investigation",
            investigation(household(body, {0: [("wage", "600.00")]})),
        )
        assert [m["staff_name"] for m in s["relatives_matches"]] == ["李村干"]
        await wait_status(api, app_id, "awaiting_opinion")
        await through_publicity(api, env, client, app_id)
        decision = {"outcome": "approve", "card_account": card(body)}
        r = await api.post(
            f"/applications/{app_id}/decision", json=decision, headers=auth("county")
        )
        assert r.status_code == 409 and "近亲属" in r.json()["detail"]
        visit = {"visitors": ["陈科长", "周科员"], "findings_zh": "入户核实，情况属实"}
        await step(api, app_id, "county-visit", visit, who="township", expect=403)
        await step(api, app_id, "county-visit", visit, who="county")
        s = await step(api, app_id, "decision", decision, who="county")
        assert s["status"] == "approved"
        row = case_record(engine, app_id)
        assert row.detail["relatives_flag"] is True and row.detail["spot_check_rate"] == "0.60"
    finally:
        r = await api.put("/admin/relatives", json={"entries": []}, headers=ADMIN)
        assert r.status_code == 200


async def test_verification_admin_roles_and_bad_input(api: httpx.AsyncClient) -> None:
    record = {"id_number": "410101197001011234", "category": "income", "kind": "wage"}
    assert (await api.put("/admin/verification/tax", json={"records": []})).status_code == 401
    r = await api.put("/admin/verification/tax", json={"records": []}, headers=auth("county"))
    assert r.status_code == 403
    r = await api.put("/admin/verification/nope", json={"records": []}, headers=ADMIN)
    assert r.status_code == 404
    r = await load(api, "tax", [record])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "records.0.id_number"
    good_id = id_number()
    r = await load(api, "tax", [{**record, "id_number": good_id, "kind": "lottery"}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "records.0.kind"
    r = await load(api, "tax", [{**record, "id_number": good_id}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "records.0.amount"
    r = await load(api, "tax", [], fail_first_attempts=-1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "fail_first_attempts"
    r = await api.get("/admin/verification", headers=auth("county"))
    assert r.status_code == 200 and len(r.json()) == 11
    assert (await api.get("/admin/verification/tax", headers=auth("township"))).status_code == 403
