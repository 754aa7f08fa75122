"""The monitoring population is fed by the application workflow itself (no call of ours): a
refused 低保 application enters as ``refused`` with the decision's date and reasons, and its
边缘 follow-on case, once recognised, as ``dibao_edge`` (豫政办〔2022〕103号 二(一); 辽宁 2024
意见 二.2(2)). The back-fill finds the same rows."""

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from tests.application.helpers import create, household, investigation, step, wait_status
from tests.conftest import auth
from tests.entitlements.helpers import wait_for
from tests.monitoring.support import subject


async def test_refusal_and_edge_recognition_enter_the_population(
    api: httpx.AsyncClient, client: Client, worker: Worker, engine: Engine
) -> None:
    app_id, body = await create(api)
    hh = household(body, incomes={0: [("wage", "1400.00")]})  # 700 a head: edge, not 低保
    await step(api, app_id, "accept", {})
    await step(api, app_id, "investigation", investigation(hh))
    await wait_status(api, app_id, "awaiting_opinion")
    await step(api, app_id, "initial-opinion", {"recommendation": "refuse"})
    s = await step(api, app_id, "decision", {"outcome": "refuse"}, who="county")
    row = await wait_for(lambda: subject(engine, app_id), what="refused applicant monitored")
    assert row.category == "refused" and row.ended_on is not None and row.reason_zh
    assert row.household_size == 2 and row.name == body["household"][0]["name"]

    await step(api, app_id, "edge-consent", {"consent": True}, who="village")
    s = await step(
        api,
        app_id,
        "deliver-notice",
        {"notice_id": s["notices"][0]["notice_id"], "recipient_name": "张建明"},
    )
    follow_id = s["edge_offer"]["follow_on_case_id"]
    await wait_status(api, follow_id, "awaiting_decision")
    await step(api, follow_id, "decision", {"outcome": "approve"}, who="county")
    edge = await wait_for(lambda: subject(engine, follow_id), what="edge household monitored")
    assert edge.category == "dibao_edge" and edge.reason_zh is None

    r = await api.get("/monitoring?area_code=419901001001", headers=auth("village"))
    got = {i["source_case_id"]: i["category"] for i in r.json()["items"]}
    assert got[app_id] == "refused" and got[follow_id] == "dibao_edge"
    assert (await api.post("/monitoring/backfill", headers=auth("county"))).status_code == 403
    r = await api.post("/monitoring/backfill", headers=auth("admin"))
    assert r.status_code == 200 and r.json()["written"] >= 2
    again = subject(engine, app_id)
    assert again is not None and again.category == "refused" and again.reason_zh == row.reason_zh
