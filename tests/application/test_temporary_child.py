"""The contract with TemporaryCaseWorkflow: temporary assistance's normal procedure (支出型, DOMAIN
§6) runs as an ApplicationWorkflow with programme ``temporary``: accept → investigation
(appraisal as needed) → publicity → decision by the township for amounts within the policy's
limit (then a county record) or by the county; no means test or data verification; the workflow
returns its state with ``approved_amount``."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from jiuzhu.contract import Actor
from jiuzhu.household_ids import household_id_for
from jiuzhu.settings import Settings
from tests.application.helpers import deadline, fast_forward, step, wait_status
from tests.conftest import auth
from tests.factories import application_body
from workflows.applications.contract import (
    ApplicantMember,
    application_workflow_id,
    initial_search_attributes,
)
from workflows.applications.models import ApplicationInput, ApplicationState
from workflows.applications.workflow import ApplicationWorkflow


async def start_temporary(
    client: Client, settings: Settings, actors: dict[str, Actor], amount: str
) -> tuple[str, WorkflowHandle[ApplicationWorkflow, ApplicationState]]:
    body = application_body()
    members = [ApplicantMember(**m) for m in body["household"]]
    app_id = "T" + uuid.uuid4().hex[:15].upper()
    inp = ApplicationInput(
        application_id=app_id,
        programme="temporary",
        area_code=body["area_code"],
        household_id=household_id_for(members[0].id_number, body["area_code"]),
        members=members,
        submitted_by=actors["township"],
        submitted_at=datetime.now(UTC),
        requested_amount=Decimal(amount),
        linked_case_id=f"TC-{app_id}",
    )
    handle = await client.start_workflow(
        ApplicationWorkflow.run,
        inp,
        id=application_workflow_id(app_id),
        task_queue=settings.task_queue,
        search_attributes=initial_search_attributes(inp, "submitted"),
    )
    return app_id, handle


async def wait_row(api: httpx.AsyncClient, app_id: str) -> None:
    for _ in range(200):
        r = await api.get(f"/applications/{app_id}", headers=auth("county"))
        if r.status_code == 200:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the case never reached the read model")


async def test_temporary_normal_procedure_township_approval_with_county_record(
    api: httpx.AsyncClient,
    client: Client,
    env: WorkflowEnvironment,
    settings: Settings,
    actors: dict[str, Actor],
) -> None:
    app_id, handle = await start_temporary(client, settings, actors, "1500.00")
    await wait_row(api, app_id)
    s = await step(api, app_id, "accept", {})
    decision_deadline = deadline(s, "decision")
    assert decision_deadline["spec"]["period"] == {"value": 15, "unit": "working_days"}
    assert decision_deadline["spec"]["responsible_role"] == "township_officer"
    assert [d["spec"]["name"] for d in s["deadlines"]] == ["investigation_start", "decision"]

    s = await step(
        api,
        app_id,
        "investigation",
        {
            "investigators": ["王调查", "李调查"],
            "signed_by_household": True,
            "findings_zh": "家中住院治疗，自付医疗费用较高",
        },
    )
    assert s["status"] == "awaiting_opinion" and s["verification"] is None
    await step(
        api, app_id, "verification-objection", {"statement_zh": "x", "evidence": ["y"]}, expect=409
    )
    await step(
        api,
        app_id,
        "appraisal",
        {"participants": 5, "votes_for": 5, "votes_against": 0, "conclusion_zh": "同意救助"},
    )
    r = await api.post(
        f"/applications/{app_id}/initial-opinion",
        json={"recommendation": "approve"},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "proposed_amount"
    await step(
        api, app_id, "initial-opinion", {"recommendation": "approve", "proposed_amount": "1500"}
    )
    await fast_forward(env, client, app_id, timedelta(days=8))
    await wait_status(api, app_id, "awaiting_decision")

    # Above the township's limit (2,000 yuan) only the county may approve.
    await step(api, app_id, "decision", {"outcome": "approve", "amount": "2500.00"}, expect=403)
    s = await step(api, app_id, "decision", {"outcome": "approve", "amount": "1500.00"})
    assert s["status"] == "awaiting_filing" and s["decision"]["decided_by_level"] == "township"
    await step(api, app_id, "filing", {}, who="township", expect=403)
    s = await step(api, app_id, "filing", {"note_zh": "已备案"}, who="county")
    result = await handle.result()
    assert result.status.value == "approved"
    assert result.approved_amount == Decimal("1500.00")
    assert result.entitlement_workflow_id is None and result.assessment is None
    assert result.linked_case_id == f"TC-{app_id}"


async def test_temporary_refusal_by_the_county(
    api: httpx.AsyncClient,
    client: Client,
    env: WorkflowEnvironment,
    settings: Settings,
    actors: dict[str, Actor],
) -> None:
    app_id, handle = await start_temporary(client, settings, actors, "5000.00")
    await wait_row(api, app_id)
    s = await step(api, app_id, "accept", {})
    assert deadline(s, "decision")["spec"]["responsible_role"] == "county_officer"
    await step(
        api,
        app_id,
        "investigation",
        {"investigators": ["甲", "乙"], "signed_by_household": True, "findings_zh": "收入稳定"},
    )
    await step(
        api, app_id, "initial-opinion", {"recommendation": "refuse", "reason_zh": "收入稳定"}
    )
    r = await api.post(
        f"/applications/{app_id}/decision", json={"outcome": "refuse"}, headers=auth("county")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reasons_zh"
    s = await step(
        api,
        app_id,
        "decision",
        {"outcome": "refuse", "reasons_zh": ["家庭收入稳定，不属于支出型困难"]},
        who="county",
    )
    notice = s["notices"][0]
    assert notice["kind"] == "temporary_refusal"
    html = (
        await api.get(
            f"/applications/{app_id}/notices/{notice['notice_id']}", headers=auth("county")
        )
    ).text
    assert "不予临时救助" in html and "家庭收入稳定" in html
    await step(
        api, app_id, "deliver-notice", {"notice_id": notice["notice_id"], "recipient_name": "张"}
    )
    result = await handle.result()
    assert result.status.value == "refused" and result.approved_amount is None


async def test_post_applications_refuses_temporary(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/applications", json=application_body(programme="temporary"), headers=auth("township")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "programme"
