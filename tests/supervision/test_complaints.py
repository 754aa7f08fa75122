"""Complaints (投诉举报) on the real server (issue 14 item 2): intake by any officer with the
complainant protected (never in a list, the record or the history — county officers and auditors
read it apart), routing to the responsible level, findings, reply and its delivery, the
complainant's follow-up (not satisfied → the county re-examines), the county register and its
statistics; the reply deadline reminds before and escalates after (time moved with
``env.fast_forward``). Bad input is refused naming the field. ``JIUZHU_WRITE_HISTORY=1`` also
saves the histories replayed by ``tests/test_replay_all.py``."""

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import beijing_today
from tests.conftest import auth
from tests.entitlements.helpers import wait_for
from tests.supervision.support import AREA, detail, outbox, seed_decision
from workflows.supervision.complaint import ComplaintWorkflow
from workflows.supervision.contract import complaint_workflow_id
from workflows.supervision.models import ComplaintState

HISTORIES = Path(__file__).parent / "histories"
NAME = "赵六斤"


async def keep(client: Client, workflow_id: str, name: str) -> None:
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())


async def post(
    api: httpx.AsyncClient, url: str, body: dict[str, Any], who: str, expect: int = 200
) -> dict[str, Any]:
    r = await api.post(url, json=body, headers=auth(who))
    assert r.status_code == expect, (url, r.status_code, r.text)
    result: dict[str, Any] = r.json()
    return result


async def listed(engine: Engine, complaint_id: str, **want: Any) -> None:
    await wait_for(
        lambda: all(detail(engine, complaint_id).get(k) == v for k, v in want.items()),
        what=f"register row {want}",
    )


async def test_named_complaint_routed_answered_followed_up_and_registered(
    api: httpx.AsyncClient, client: Client, worker: Worker, engine: Engine
) -> None:
    today = beijing_today().isoformat()
    good: dict[str, Any] = {
        "channel": "hotline",
        "category": "missed",
        "summary_zh": "村里一户老人生活困难，申请低保乡里不受理",
        "area_code": AREA,
        "complainant": {"name": NAME, "phone": "13800000000"},
    }
    for bad, field, status in (
        ({k: v for k, v in good.items() if k != "area_code"}, "subject_case_id", 422),
        ({**good, "subject_case_id": "NOPE"}, "subject_case_id", 422),
        ({**good, "channel": "pigeon"}, "channel", 422),
        ({**good, "summary_zh": ""}, "summary_zh", 422),
        ({**good, "complainant": {"address": "某村"}}, "complainant", 422),
        ({**good, "complainant": {"phone": "call me"}}, "complainant.phone", 422),
        ({**good, "received_on": "2099-01-01"}, "received_on", 422),
        ({**good, "area_code": "41990"}, "area_code", 422),
        ({**good, "extra": 1}, "extra", 422),
    ):
        r = await api.post("/complaints", json=bad, headers=auth("village"))
        assert r.status_code == status, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, (bad, r.text)
    r = await api.post("/complaints", json=good, headers=auth("finance"))
    assert r.status_code == 403
    r = await api.post(
        "/complaints", json={**good, "area_code": "410882001001"}, headers=auth("village")
    )
    assert r.status_code == 403

    r = await api.post("/complaints", json=good, headers=auth("village"))
    assert r.status_code == 201, r.text
    created = r.json()
    cid = created["complaint_id"]
    assert r.headers["Location"] == f"/complaints/{cid}"
    assert (created["level"], created["responsible_area"]) == ("township", "419901001")
    await listed(engine, cid, level="township")

    # Protected: the register and the record never show the complainant.
    reg = await api.get("/complaints?area_code=419901", headers=auth("county"))
    assert cid in [i["complaint_id"] for i in reg.json()["items"]] and NAME not in reg.text
    rec = await api.get(f"/complaints/{cid}", headers=auth("township"))
    assert rec.status_code == 200 and NAME not in rec.text and "13800000000" not in rec.text
    history = await client.get_workflow_handle(complaint_workflow_id(cid)).fetch_history()
    assert NAME not in history.to_json()
    r = await api.get(f"/complaints/{cid}/complainant", headers=auth("county"))
    assert r.status_code == 200 and r.json()["name"] == NAME
    assert (await api.get(f"/complaints/{cid}/complainant", headers=auth("auditor"))).is_success
    for who in ("township", "village", "other_county"):
        r = await api.get(f"/complaints/{cid}/complainant", headers=auth(who))
        assert r.status_code == 403, (who, r.text)
    r = await api.get(f"/complaints/{cid}", headers=auth("township2"))
    assert r.status_code == 403

    # The township answers.
    url = f"/complaints/{cid}"
    findings = {
        "findings_zh": "入户核实，该户符合低保条件",
        "substantiated": True,
        "investigated_on": today,
    }
    reply = {"reply_zh": "已受理其低保申请", "channel": "phone", "delivered_on": today}
    await post(api, f"{url}/reply", reply, "township", 409)  # findings first
    await post(api, f"{url}/findings", findings, "township2", 403)
    await post(
        api, f"{url}/findings", {**findings, "investigated_on": "2099-01-01"}, "township", 422
    )
    await post(api, f"{url}/findings", findings, "township")
    r = await api.post(
        f"{url}/reply", json={**reply, "channel": "on_record"}, headers=auth("township")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channel", r.text
    s = await post(api, f"{url}/reply", reply, "township")
    assert s["status"] == "replied"
    await listed(engine, cid, replied_on=today, replied_on_time=True)

    # Not satisfied: the county re-examines with a new reply deadline.
    r = await api.post(
        f"{url}/follow-up", json={"satisfied": False, "on": today}, headers=auth("village")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note_zh", r.text
    unhappy = {"satisfied": False, "note_zh": "至今未入户", "on": today}
    s = await post(api, f"{url}/follow-up", unhappy, "village")
    assert (s["status"], s["level"], s["round"]) == ("investigating", "county", 2)
    await post(api, f"{url}/findings", findings, "township", 403)
    await post(api, f"{url}/findings", {**findings, "findings_zh": "县级复查：已入户"}, "county")
    await post(api, f"{url}/reply", {**reply, "channel": "letter"}, "county")
    s = await post(api, f"{url}/follow-up", {"satisfied": True, "on": today}, "township")
    assert s["status"] == "closed"
    final: ComplaintState = await client.get_workflow_handle_for(
        ComplaintWorkflow.run, complaint_workflow_id(cid)
    ).result()
    assert final.closed_reason == "satisfied" and len(final.replies) == 2
    assert [d.met_at is not None for d in final.deadlines] == [True, True]
    await listed(engine, cid, satisfied=True, closed_reason="satisfied")

    stats = await api.get(
        f"/complaints/statistics?county_code=419901&from={today}&to={today}",
        headers=auth("county"),
    )
    assert stats.status_code == 200, stats.text
    figures = stats.json()
    assert figures["by_category"].get("missed", 0) >= 1 and figures["satisfied"] >= 1
    assert figures["total"] >= 1 and figures["by_level"].get("county", 0) >= 1
    r = await api.get(
        "/complaints/statistics?from=2026-12-01&to=2026-11-01", headers=auth("county")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"
    assert (await api.get("/complaints/statistics", headers=auth("township"))).status_code == 403
    await keep(client, complaint_workflow_id(cid), "complaint_follow_up")


async def test_anonymous_complaint_reply_deadline_reminds_then_escalates(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    engine: Engine,
) -> None:
    subject = seed_decision(engine, decided_on=date(2026, 4, 3), prefix="CP")
    r = await api.post(
        "/complaints",
        json={
            "channel": "letter",
            "category": "favouritism",
            "summary_zh": "村干部亲属违规享受低保",
            "subject_case_id": subject,
        },
        headers=auth("township"),
    )
    assert r.status_code == 201, r.text
    cid = r.json()["complaint_id"]
    assert (r.json()["level"], r.json()["responsible_area"]) == ("county", "419901")
    wid = complaint_workflow_id(cid)
    handle = client.get_workflow_handle_for(ComplaintWorkflow.run, wid)
    await listed(engine, cid, level="county")
    r = await api.get(f"/complaints/{cid}/complainant", headers=auth("county"))
    assert r.status_code == 404  # anonymous
    state: ComplaintState = await handle.query(ComplaintWorkflow.get_state)
    assert state.subject_case_id == subject and state.area.code == AREA
    d = state.deadlines[0]
    assert (d.due_date - state.received_on).days == 60  # policy complaint_reply
    now = (await handle.describe()).start_time
    assert now is not None
    await env.fast_forward(handle, d.remind_at - now + timedelta(minutes=1))
    await wait_for(lambda: outbox(engine, wid) == ["reminder:county_officer:419901"])
    await env.fast_forward(handle, d.due_at - d.remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: (
            outbox(engine, wid)
            == ["escalation:county_officer:4199", "reminder:county_officer:419901"]
        ),
        what="escalation",
    )
    await listed(engine, cid, escalated=True)
    today = beijing_today().isoformat()
    url = f"/complaints/{cid}"
    await post(
        api,
        f"{url}/findings",
        {"findings_zh": "经查不属实", "substantiated": False, "investigated_on": today},
        "county",
    )
    phoned = {"reply_zh": "经查不属实", "channel": "phone", "delivered_on": today}
    r = await api.post(f"{url}/reply", json=phoned, headers=auth("county"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "channel"
    s = await post(
        api,
        f"{url}/reply",
        {"reply_zh": "经查不属实，存档", "channel": "on_record", "delivered_on": today},
        "county",
    )
    assert s["status"] == "closed"
    final = await handle.result()
    assert final.replies[0].on_time is False and final.closed_reason == "replied_on_record"
    stats = (await api.get("/complaints/statistics", headers=auth("auditor"))).json()
    assert stats["escalated"] >= 1 and stats["anonymous"] >= 1
    await keep(client, wid, "complaint_anonymous_escalated")
