"""特困 with its own periods and the self-care assessment; the publicity objection loop (objection
→ re-investigation or democratic appraisal → new initial opinion → new publicity); the overall
deadline extended for a recorded special reason."""

from datetime import date, timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.application.helpers import (
    card,
    create,
    deadline,
    fast_forward,
    household,
    investigation,
    money,
    save_history,
    step,
    through_publicity,
    wait_status,
)
from tests.factories import id_number

UNABLE_FOUR = {
    "eating": True,
    "dressing": False,
    "getting_out_of_bed": False,
    "toileting": True,
    "walking_indoors": False,
    "bathing": False,
}


def tekun_body() -> dict[str, Any]:
    return {
        "programme": "tekun",
        "area_code": "419901002001",
        "household": [
            {"name": "孙老汉", "id_number": id_number(date(1950, 3, 1)), "relation": "applicant"}
        ],
    }


async def test_tekun_periods_self_care_and_centralised_support(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment
) -> None:
    app_id, body = await create(api, tekun_body(), who="township2")
    s = await step(api, app_id, "accept", {}, who="township2")
    assert deadline(s, "initial_opinion")["spec"]["period"] == {
        "value": 15,
        "unit": "working_days",
    }
    # 特困 runs on its own periods, not on 低保's 30-working-day overall deadline.
    assert [d["spec"]["name"] for d in s["deadlines"]] == ["investigation_start", "initial_opinion"]
    hh = household(body)
    r = await api.post(
        f"/applications/{app_id}/investigation",
        json=investigation(hh),
        headers={"Authorization": "Bearer test-token-township2"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "household.members.0.self_care"

    hh["members"][0]["self_care"] = UNABLE_FOUR
    await step(api, app_id, "investigation", investigation(hh), who="township2")
    s = await wait_status(api, app_id, "awaiting_opinion")
    tekun = s["assessment"]["programmes"][1]
    assert tekun["programme"] == "tekun" and tekun["eligible"]
    assert tekun["care_tier"] == "full_loss"
    assert money(tekun["monthly_amount"]) == money("1415.00")  # 715 + 700 (full loss)

    await step(api, app_id, "initial-opinion", {"recommendation": "approve"}, who="township2")
    s = await step(
        api,
        app_id,
        "publicity-objection",
        {"objector_name": "钱某", "content_zh": "其子在外务工有赡养能力"},
        who="township2",
    )
    assert s["status"] == "objection"
    assert deadline(s, "objection_opinion")["spec"]["period"]["value"] == 15
    await step(
        api,
        app_id,
        "appraisal",
        {
            "participants": 9,
            "votes_for": 8,
            "votes_against": 1,
            "conclusion_zh": "其子常年无业，无赡养能力，同意纳入",
        },
        who="township2",
    )
    await fast_forward(env, client, app_id, timedelta(days=1))
    s = await step(api, app_id, "initial-opinion", {"recommendation": "approve"}, who="township2")
    assert deadline(s, "objection_opinion")["met_at"] is not None
    await fast_forward(env, client, app_id, timedelta(days=8))
    s = await wait_status(api, app_id, "awaiting_decision")
    assert deadline(s, "decision")["spec"]["period"] == {"value": 15, "unit": "working_days"}

    decision = {"outcome": "approve", "card_account": card(body), "centralised": True}
    r = await api.post(
        f"/applications/{app_id}/decision",
        json=decision,
        headers={"Authorization": "Bearer test-token-county"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "institution_name"
    s = await step(
        api,
        app_id,
        "decision",
        {**decision, "institution_name": "东湖乡敬老院"},
        who="county",
    )
    assert s["status"] == "approved"
    assert s["decision"]["care_tier"] == "full_loss" and s["decision"]["centralised"]
    assert money(s["approved_amount"]) == money("1415.00")
    assert s["entitlement_workflow_id"].endswith("-tekun")
    assert len(s["publicity"]) == 2


async def test_publicity_objection_loop_with_reinvestigation_and_appraisal(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment
) -> None:
    app_id, body = await create(api)
    await step(api, app_id, "accept", {})
    await step(
        api, app_id, "investigation", investigation(household(body, {0: [("wage", "600.00")]}))
    )
    await wait_status(api, app_id, "awaiting_opinion")
    await step(api, app_id, "initial-opinion", {"recommendation": "approve"})

    # First objection → re-investigation → verification again → new opinion → new publicity.
    s = await step(
        api,
        app_id,
        "publicity-objection",
        {"objector_name": "赵某", "content_zh": "申请人另有经营收入"},
        who="village",
    )
    assert s["status"] == "objection" and s["publicity"][0]["outcome"] == "objection"
    assert deadline(s, "publicity")["cancelled_at"] is not None
    await step(api, app_id, "initial-opinion", {"recommendation": "approve"}, expect=409)
    s = await step(
        api,
        app_id,
        "special-deadline",
        {"reason": "publicity_objection", "note_zh": "公示有异议，需重新调查"},
        who="county",
    )
    assert deadline(s, "overall")["spec"]["period"] == {"value": 45, "unit": "working_days"}
    await step(
        api,
        app_id,
        "special-deadline",
        {"reason": "other", "note_zh": "再次延长"},
        who="county",
        expect=409,
    )
    hh = household(body, {0: [("wage", "600.00")], 1: [("business", "200.00")]})
    s = await step(api, app_id, "investigation", investigation(hh))
    # The answer is the case read after the step: the background verification it started may
    # already have finished.
    assert s["status"] in ("verification", "awaiting_opinion") and len(s["investigations"]) == 2
    s = await wait_status(api, app_id, "awaiting_opinion")
    assert s["verification"]["round"] == 2
    assert money(s["assessment"]["programmes"][0]["monthly_amount"]) == money("300.00")
    await fast_forward(env, client, app_id, timedelta(days=1))
    await step(api, app_id, "initial-opinion", {"recommendation": "approve"})

    # Second objection → democratic appraisal → new opinion → third publicity, which passes.
    await step(
        api,
        app_id,
        "publicity-objection",
        {"objector_name": "孙某", "content_zh": "家中有车"},
        who="village",
    )
    await step(
        api,
        app_id,
        "appraisal",
        {"participants": 7, "votes_for": 6, "votes_against": 1, "conclusion_zh": "车辆已报废"},
    )
    await fast_forward(env, client, app_id, timedelta(days=1))
    s = await through_publicity(api, env, client, app_id)
    assert [p["outcome"] for p in s["publicity"]] == ["objection", "objection", "no_objection"]
    assert len(s["opinions"]) == 3 and len(s["appraisals"]) == 1
    s = await step(
        api, app_id, "decision", {"outcome": "approve", "card_account": card(body)}, who="county"
    )
    assert money(s["approved_amount"]) == money("300.00")
    notices = [n["kind"] for n in s["notices"]]
    assert notices == ["publicity", "publicity", "publicity", "approval"]
    await client.get_workflow_handle(f"application-{app_id}").result()
    await save_history(client, app_id, "objection_loop_v2")
