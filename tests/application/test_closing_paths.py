"""The other ways a case ends or is decided: the decision delegated to the township (20 working
days overall), withdrawal by the applicant, refusal to cooperate (a notice), the one-time
missing-documents notice then supplement then acceptance, and a lapse when nothing comes."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.contract import Role
from jiuzhu.officers import create_officer
from tests.application.helpers import (
    card,
    case_record,
    create,
    deadline,
    fast_forward,
    household,
    investigation,
    money,
    state,
    step,
    through_publicity,
    wait_status,
)
from tests.conftest import auth
from tests.factories import application_body
from workflows.applications.workflow import ApplicationWorkflow

QINYANG = {"Authorization": "Bearer app-test-qinyang-township"}


@pytest.fixture(scope="module")
def qinyang_township(engine: Engine) -> dict[str, str]:
    """A township officer of 柏香镇 (沁阳市, 焦作市: confirmation delegated to townships)."""
    create_officer(
        engine,
        "officer-app-qinyang-township",
        "测试柏香镇",
        Role.TOWNSHIP_OFFICER,
        "410882100",
        "app-test-qinyang-township",
    )
    return QINYANG


async def test_decision_delegated_to_the_township(
    api: httpx.AsyncClient,
    client: Client,
    env: WorkflowEnvironment,
    qinyang_township: dict[str, str],
) -> None:
    body = application_body(area_code="410882100201")
    r = await api.post("/applications", json=body, headers=qinyang_township)
    assert r.status_code == 201, r.text
    app_id = r.json()["application_id"]

    async def post(path: str, payload: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return await api.post(f"/applications/{app_id}/{path}", json=payload, headers=headers)

    r = await post("accept", {}, qinyang_township)
    s = r.json()
    assert s["policy_version_id"].split("+")[-1] == "4108@2025-01-01"
    overall = deadline(s, "overall")
    assert overall["spec"]["period"] == {"value": 20, "unit": "working_days"}
    assert overall["spec"]["responsible_role"] == "township_officer"
    hh = household(body, incomes={0: [("wage", "600.00")]})
    assert (await post("investigation", investigation(hh), qinyang_township)).status_code == 200
    await wait_status(api, app_id, "awaiting_opinion", who="other_county")
    r = await post("initial-opinion", {"recommendation": "approve"}, qinyang_township)
    assert r.status_code == 200
    await fast_forward(env, client, app_id, timedelta(days=8))
    await wait_status(api, app_id, "awaiting_decision", who="other_county")

    decision = {"outcome": "approve", "card_account": card(body)}
    r = await post("decision", decision, auth("other_county"))  # the county of 沁阳市
    assert r.status_code == 403, r.text
    r = await post("decision", decision, qinyang_township)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["status"] == "approved" and s["decision"]["decided_by_level"] == "township"
    assert money(s["approved_amount"]) == money("440.00")  # 2 × 520 − 600


async def test_withdrawal_closes_the_case_and_its_deadlines(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    app_id, body = await create(api)
    await step(api, app_id, "accept", {})
    await step(api, app_id, "investigation", investigation(household(body)))
    s = await step(api, app_id, "withdraw", {"reason_zh": "申请人书面申请撤回"}, who="village")
    assert s["status"] == "withdrawn" and s["closing"]["kind"] == "withdrawal"
    assert all(d["met_at"] or d["cancelled_at"] for d in s["deadlines"])
    handle = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    assert (await handle.result()).status.value == "withdrawn"
    await step(api, app_id, "withdraw", {"reason_zh": "再次撤回"}, expect=409)
    assert case_record(engine, app_id).status == "withdrawn"
    assert case_record(engine, app_id).next_deadline is None


async def test_refusal_to_cooperate_ends_the_review_with_a_notice(
    api: httpx.AsyncClient, client: Client
) -> None:
    app_id, _ = await create(api)
    await step(api, app_id, "accept", {})
    await step(
        api, app_id, "end-review", {"grounds_zh": "申请人拒绝入户调查"}, who="village", expect=403
    )
    s = await step(
        api, app_id, "end-review", {"grounds_zh": "申请人两次拒绝入户调查"}, who="township"
    )
    assert s["status"] == "terminated" and s["closing"]["kind"] == "non_cooperation"
    notice = s["notices"][0]
    assert notice["kind"] == "review_terminated"
    r = await api.get(
        f"/applications/{app_id}/notices/{notice['notice_id']}", headers=auth("township")
    )
    assert "终止审核确认" in r.text and "申请人两次拒绝入户调查" in r.text
    assert "第二十九条" in r.text and "行政复议" in r.text
    pdf = await api.get(
        f"/applications/{app_id}/notices/{notice['notice_id']}",
        headers={**auth("township"), "Accept": "application/pdf"},
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    handle = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    assert (await handle.result()).status.value == "terminated"


async def test_missing_documents_notice_then_supplement_then_acceptance(
    api: httpx.AsyncClient,
) -> None:
    app_id, _ = await create(api)
    missing = ["户口簿复印件", "残疾人证复印件"]
    s = await step(api, app_id, "missing-documents", {"missing": missing, "contact": "0391-1234"})
    assert s["status"] == "documents_requested"
    notice = s["notices"][0]
    assert notice["kind"] == "missing_documents"
    html = (
        await api.get(
            f"/applications/{app_id}/notices/{notice['notice_id']}", headers=auth("village")
        )
    ).text
    assert all(doc in html for doc in missing) and "一次性告知" in html
    # One notice listing everything: never a second one; no acceptance before the supplement.
    await step(api, app_id, "missing-documents", {"missing": ["结婚证"]}, expect=409)
    await step(api, app_id, "accept", {}, expect=409)
    r = await api.post(
        f"/applications/{app_id}/missing-documents",
        json={"missing": []},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "missing"
    s = await step(api, app_id, "supplement", {"documents": missing}, who="village")
    assert s["status"] == "submitted" and s["deadlines"] == []  # no clock before acceptance
    s = await step(api, app_id, "accept", {})
    assert s["status"] == "accepted" and deadline(s, "investigation_start")
    await step(api, app_id, "withdraw", {"reason_zh": "测试结束"})


async def test_unanswered_missing_documents_notice_lapses(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment
) -> None:
    app_id, _ = await create(api)
    s = await step(api, app_id, "missing-documents", {"missing": ["收入证明"]})
    submit_by = s["missing_documents"]["submit_by"]
    await fast_forward(env, client, app_id, timedelta(days=31))
    s = await wait_status(api, app_id, "lapsed")
    assert s["closing"]["kind"] == "lapsed" and s["closing"]["on"] == submit_by
    assert (await state(api, app_id))["timeline"][-1]["action"] == "lapsed"


async def test_approval_needs_a_card_account(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment
) -> None:
    app_id, body = await create(api)
    await step(api, app_id, "accept", {})
    hh = household(body, incomes={0: [("wage", "600.00")]})
    await step(api, app_id, "investigation", {**investigation(hh), "card_account": card(body)})
    await wait_status(api, app_id, "awaiting_opinion")
    await through_publicity(api, env, client, app_id)
    r = await api.post(
        f"/applications/{app_id}/decision",
        json={"outcome": "approve", "amount": "450.00"},
        headers=auth("county"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount_reason_zh"
    s = await step(
        api,
        app_id,
        "decision",
        {"outcome": "approve", "amount": "450.00", "amount_reason_zh": "按分档标准核定"},
        who="county",
    )
    assert money(s["approved_amount"]) == money("450.00")
    assert money(s["decision"]["assessed_amount"]) == money("500.00")
