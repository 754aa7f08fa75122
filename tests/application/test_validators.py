"""Validators reject before anything is recorded: a wrong state is 409, a wrong role or area 403,
bad data 422 naming the field (problem+json). The case's revision, timeline, audit and history
stay as they were."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from jiuzhu.contract import Actor, Role
from tests.application.helpers import audit, create, household, investigation, state, step
from tests.conftest import auth
from tests.factories import application_body
from workflows.applications.models import AcceptInput
from workflows.applications.workflow import ApplicationWorkflow


async def snapshot(api: httpx.AsyncClient, client: Client, engine: Engine, app_id: str) -> Any:
    s = await state(api, app_id)
    history = await client.get_workflow_handle(f"application-{app_id}").fetch_history()
    return (s["revision"], len(s["timeline"]), len(audit(engine, app_id)), len(history.events))


async def test_rejections_record_nothing(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    app_id, body = await create(api)
    await step(api, app_id, "accept", {})
    before = await snapshot(api, client, engine, app_id)
    future = (date.today() + timedelta(days=400)).isoformat()
    hh = household(body)
    bad_birth = household(body)
    bad_birth["members"][0]["birth_date"] = "1999-01-01"

    cases: list[tuple[str, str, dict[str, Any], int, str | None]] = [
        # wrong state
        ("township", "initial-opinion", {"recommendation": "approve"}, 409, None),
        ("county", "decision", {"outcome": "approve"}, 409, None),
        ("township", "accept", {}, 409, None),
        ("township", "publicity-objection", {"objector_name": "某", "content_zh": "x"}, 409, None),
        ("township", "edge-consent", {"consent": True}, 409, None),
        # wrong role
        ("county", "investigation", investigation(hh), 403, None),
        ("village", "investigation", investigation(hh), 403, None),
        ("finance", "withdraw", {"reason_zh": "x"}, 403, None),
        ("township", "county-visit", {"visitors": ["甲", "乙"], "findings_zh": "x"}, 403, None),
        # wrong area (the read model answers before the workflow is asked)
        ("township2", "investigation", investigation(hh), 403, None),
        ("other_county", "withdraw", {"reason_zh": "x"}, 403, None),
        # bad data: the request schema
        (
            "township",
            "investigation",
            {**investigation(hh), "investigators": ["王"]},
            422,
            "investigators",
        ),
        (
            "township",
            "investigation",
            {**investigation(hh), "investigators": ["王", "王"]},
            422,
            "investigators",
        ),
        (
            "township",
            "investigation",
            investigation(bad_birth),
            422,
            "household.members.0.birth_date",
        ),
        ("township", "investigation", {**investigation(hh), "surprise": 1}, 422, "surprise"),
        # bad data: the workflow's validator
        ("township", "investigation", investigation(hh, visited_on=future), 422, "visited_on"),
        (
            "township",
            "investigation",
            investigation(hh, visited_on="2020-01-01"),
            422,
            "visited_on",
        ),
        (
            "township",
            "investigation",
            investigation(hh, signed_by_household=False),
            422,
            "signed_by_household",
        ),
        ("township", "investigation", investigation(hh, method="remote"), 422, "remote_reason_zh"),
        ("township", "investigation", investigation(None), 422, "household"),
        (
            "township",
            "deliver-notice",
            {"notice_id": "X", "recipient_name": "张"},
            422,
            "notice_id",
        ),
    ]
    for who, path, payload, status, field in cases:
        r = await api.post(f"/applications/{app_id}/{path}", json=payload, headers=auth(who))
        assert r.status_code == status, (who, path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), path
        if field is not None:
            assert field in [e["field"] for e in r.json()["errors"]], (path, r.json())
    assert await snapshot(api, client, engine, app_id) == before

    # Without a token; unknown case; the workflow's own area check for a direct caller.
    assert (await api.post(f"/applications/{app_id}/accept", json={})).status_code == 401
    r = await api.post("/applications/ANOPE/accept", json={}, headers=auth("township"))
    assert r.status_code == 404
    outsider = Actor(officer_id="x", name="外地", role=Role.TOWNSHIP_OFFICER, area_code="419901002")
    handle = client.get_workflow_handle_for(ApplicationWorkflow.run, f"application-{app_id}")
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(ApplicationWorkflow.accept, AcceptInput(actor=outsider))
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "Forbidden"
    assert await snapshot(api, client, engine, app_id) == before

    # A closed case refuses every step with 409.
    await step(api, app_id, "withdraw", {"reason_zh": "申请人撤回"})
    await handle.result()
    await step(api, app_id, "investigation", investigation(hh), expect=409)


async def test_acceptance_dates_and_policy(api: httpx.AsyncClient) -> None:
    body = {**application_body(), "applied_on": "2026-10-01"}
    app_id, _ = await create(api, body)
    r = await api.post(
        f"/applications/{app_id}/accept",
        json={"accepted_on": "2026-09-30"},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "accepted_on"
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    r = await api.post(
        f"/applications/{app_id}/accept", json={"accepted_on": tomorrow}, headers=auth("township")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "accepted_on"
    r = await api.post(
        "/applications", json={**body, "applied_on": tomorrow}, headers=auth("township")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "applied_on"
    s = await step(api, app_id, "accept", {"accepted_on": "2026-10-08"})
    assert s["accepted_on"] == "2026-10-08"
    await step(api, app_id, "withdraw", {"reason_zh": "测试结束"})
