"""One assistance chain per household on the real server (issue 14 item 4): a 低保 household
approved on paper with a seriously ill member, a temporary aid for the same household, and a
medical-aid referral with its answer — all through the API; the chain lists them in time order
and flags the gap (entitled, not referred) until the referral is made; a second open referral
of the same need is refused without a reason and flagged with one; the feedback deadline reminds
the county and escalates to the city; bad input is refused naming the field, nothing written.
``JIUZHU_WRITE_HISTORY=1`` also saves the histories replayed by ``tests/test_replay_all.py``."""

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.clock import beijing_today
from jiuzhu.db.models import AuditEntry
from jiuzhu.db.models_referrals import Referral
from tests.conftest import auth
from tests.factories import id_number
from tests.referrals.helpers import ago, approved_dibao, has_row, keep, outbox, wait_for
from tests.temporary.helpers import create_case
from workflows.referrals.contract import referral_workflow_id
from workflows.referrals.models import ReferralState
from workflows.referrals.workflow import ReferralWorkflow


async def chain(api: httpx.AsyncClient, household_id: str, who: str = "county") -> Any:
    r = await api.get(f"/households/{household_id}/assistance-chain", headers=auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def rules(c: dict[str, Any]) -> list[tuple[str, str | None]]:
    return sorted((f["rule"], f["person_id_number"]) for f in c["flags"])


def registered(engine: Engine, referral_id: str) -> bool:
    """The workflow has written the referral register's row (the API writes the case row at
    once, before the workflow records anything, so that row alone proves nothing here)."""
    with Session(engine) as s:
        return s.get(Referral, referral_id) is not None


async def test_chain_lists_dibao_temporary_aid_and_answered_medical_referral(
    api: httpx.AsyncClient, client: Client, worker: Worker, engine: Engine
) -> None:
    app_id, body, household_id = await approved_dibao(api, ill=1)
    applicant, spouse = body["household"][0], body["household"][1]
    entitlement_id = f"{household_id}-dibao"
    await wait_for(lambda: has_row(engine, entitlement_id), "the entitlement's row")
    temp = await create_case(api, applicant_id=applicant["id_number"])
    assert temp["household_id"] == household_id

    c = await chain(api, household_id)
    kinds = [(e["kind"], e["case_id"]) for e in c["entries"]]
    assert ("programme", app_id) in kinds and ("programme", entitlement_id) in kinds
    assert ("programme", temp["case_id"]) in kinds
    assert rules(c) == [("gap_medical_aid", spouse["id_number"])]
    assert "尚未转介" in c["flags"][0]["message_zh"]

    good = {
        "source_case_id": entitlement_id,
        "department": "medical_aid",
        "need": "hospitalisation",
        "person_id_number": spouse["id_number"],
        "request_zh": "配偶患重病住院，申请住院费用医疗救助",
        "asked_on": ago(2),
    }
    for bad, field, status in (
        ({**good, "need": "public_rental"}, "need", 422),
        ({**good, "department": "tax"}, "department", 422),
        ({**good, "source_case_id": "nope"}, "source_case_id", 422),
        ({**good, "person_id_number": id_number()}, "person_id_number", 422),
        ({**good, "person_id_number": "123"}, "person_id_number", 422),
        ({**good, "asked_on": "2099-01-01"}, "asked_on", 422),
        ({**good, "asked_on": ago(60)}, "asked_on", 422),  # before the application
        ({**good, "request_zh": ""}, "request_zh", 422),
        ({**good, "extra": 1}, "extra", 422),
    ):
        r = await api.post("/referrals", json=bad, headers=auth("township"))
        assert r.status_code == status, (bad, r.text)
        assert r.json()["errors"][0]["field"] == field, (bad, r.text)
    for who in ("village", "finance", "other_county"):
        r = await api.post("/referrals", json=good, headers=auth(who))
        assert r.status_code == 403, (who, r.text)
    with Session(engine) as s:
        assert s.exec(select(Referral).where(Referral.household_id == household_id)).all() == []

    key = {"Idempotency-Key": f"ref-{household_id}", **auth("township")}
    r = await api.post("/referrals", json=good, headers=key)
    assert r.status_code == 201, r.text
    referral_id = r.json()["referral_id"]
    assert r.headers["Location"] == f"/referrals/{referral_id}"
    assert r.json()["person_name"] == spouse["name"]
    again = await api.post("/referrals", json=good, headers=key)
    assert again.status_code == 200 and again.json()["referral_id"] == referral_id
    await wait_for(lambda: registered(engine, referral_id), "the referral's register row")

    # The same need of the same member again: refused without a reason, flagged with one.
    r = await api.post("/referrals", json=good, headers=auth("county"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "repeat_reason", r.text
    r = await api.post(
        "/referrals",
        json={**good, "repeat_reason": "首次转介材料遗失，重新转介"},
        headers=auth("county"),
    )
    assert r.status_code == 201, r.text
    repeat_id = r.json()["referral_id"]
    assert r.json()["duplicate_of"] == [referral_id]
    await wait_for(lambda: registered(engine, repeat_id), "the repeat's register row")
    c = await chain(api, household_id)
    assert rules(c) == [("duplicate_referral", spouse["id_number"])]
    r = await api.post(
        f"/referrals/{repeat_id}/withdraw", json={"reason_zh": "重复转介"}, headers=auth("township")
    )
    assert r.status_code == 200 and r.json()["status"] == "withdrawn", r.text

    # The department's answer, recorded by the county.
    url = f"/referrals/{referral_id}/answer"
    answer = {
        "outcome": "granted",
        "answer_zh": "已按规定给予住院费用医疗救助",
        "answered_on": beijing_today().isoformat(),
        "department_reference": "医保救〔2026〕8号",
        "amount": "3200.00",
    }
    for bad, field in (
        ({**answer, "outcome": "declined"}, "amount"),
        ({**answer, "answered_on": ago(3)}, "answered_on"),
        ({**answer, "amount": "-5"}, "amount"),
        ({**answer, "outcome": "maybe"}, "outcome"),
        ({k: v for k, v in answer.items() if k != "answer_zh"}, "answer_zh"),
    ):
        r = await api.post(url, json=bad, headers=auth("county"))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (bad, r.text)
    assert (await api.post(url, json=answer, headers=auth("township"))).status_code == 403
    assert (await api.post(url, json=answer, headers=auth("other_county"))).status_code == 403
    r = await api.post(url, json=answer, headers=auth("county"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["outcome"]) == ("answered", "granted")
    assert (await api.post(url, json=answer, headers=auth("county"))).status_code == 409
    handle = client.get_workflow_handle_for(ReferralWorkflow.run, referral_workflow_id(referral_id))
    final: ReferralState = await handle.result()
    assert final.answer is not None and final.deadlines[0].met_at is not None

    c = await chain(api, household_id)
    order = [(e["kind"], e["case_id"]) for e in c["entries"]]
    assert order.index(("programme", app_id)) < order.index(("programme", entitlement_id))
    assert order.index(("programme", entitlement_id)) < order.index(("programme", temp["case_id"]))
    assert order.index(("programme", temp["case_id"])) < order.index(("referral", referral_id))
    assert order.index(("referral", referral_id)) < order.index(("answer", referral_id))
    ats = [e["at"] for e in c["entries"]]
    assert ats == sorted(ats)
    answer_entry = next(e for e in c["entries"] if e["kind"] == "answer")
    assert answer_entry["amount"] == "3200.00" and answer_entry["department"] == "medical_aid"
    assert rules(c) == []  # referred, answered, the repeat withdrawn: no gap, no duplicate

    # Who may read: the household's township and county, auditors; not another county.
    assert (await chain(api, household_id, "township"))["household_id"] == household_id
    assert (await chain(api, household_id, "auditor"))["household_id"] == household_id
    r = await api.get(f"/households/{household_id}/assistance-chain", headers=auth("other_county"))
    assert r.status_code == 403
    r = await api.get(f"/households/{household_id}/assistance-chain", headers=auth("village"))
    assert r.status_code == 403
    r = await api.get("/households/H000000000000000/assistance-chain", headers=auth("county"))
    assert r.status_code == 404
    r = await api.get("/households/nope/assistance-chain", headers=auth("county"))
    assert r.status_code == 422

    r = await api.get(f"/referrals?household_id={household_id}", headers=auth("county"))
    assert r.status_code == 200, r.text
    items = {i["referral_id"]: i for i in r.json()["items"]}
    assert items[referral_id]["answer_outcome"] == "granted"
    assert items[repeat_id]["status"] == "withdrawn"
    r = await api.get(f"/referrals?household_id={household_id}", headers=auth("other_county"))
    assert r.json()["items"] == []
    assert (
        await api.get(f"/referrals/{referral_id}", headers=auth("other_county"))
    ).status_code == 403
    assert (await api.get("/referrals/RFNOPE", headers=auth("county"))).status_code == 404
    with Session(engine) as s:
        actions = [
            a.action
            for a in s.exec(  # in the order written (PostgreSQL keeps no insertion order)
                select(AuditEntry)
                .where(AuditEntry.case_id == referral_id)
                .order_by(col(AuditEntry.id))
            ).all()
        ]
    assert actions == ["refer", "answer"]
    await keep(client, handle.id, "referral_answered")


async def test_feedback_deadline_reminds_the_county_then_escalates_to_the_city(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, worker: Worker, engine: Engine
) -> None:
    temp = await create_case(api)
    person = temp["members"][0]
    r = await api.post(
        "/referrals",
        json={
            "source_case_id": temp["case_id"],
            "department": "housing",
            "need": "rural_housing_repair",
            "person_id_number": person["id_number"],
            "request_zh": "住房失火损毁，申请农村危房改造",
        },
        headers=auth("township"),
    )
    assert r.status_code == 201, r.text
    state = r.json()
    referral_id = state["referral_id"]
    handle = client.get_workflow_handle_for(ReferralWorkflow.run, referral_workflow_id(referral_id))
    s: ReferralState = await handle.query(ReferralWorkflow.get_state)
    for _ in range(100):
        if s.deadlines:
            break
        s = await handle.query(ReferralWorkflow.get_state)
    deadline = s.deadlines[0]
    assert deadline.spec.period.value == 15  # the policy's referral_feedback, working days
    now = (await handle.describe()).start_time
    await env.fast_forward(handle, deadline.remind_at - now + timedelta(minutes=1))
    await wait_for(lambda: outbox(engine, referral_id) == ["reminder:county_officer:419901"])
    await env.fast_forward(handle, deadline.due_at - deadline.remind_at + timedelta(minutes=1))
    await wait_for(
        lambda: (
            outbox(engine, referral_id)
            == ["escalation:county_officer:4199", "reminder:county_officer:419901"]
        ),
        "escalation",
    )
    r = await api.get("/referrals?escalated=true&department=housing", headers=auth("county"))
    assert referral_id in [i["referral_id"] for i in r.json()["items"]]
    r = await api.post(
        f"/referrals/{referral_id}/answer",
        json={
            "outcome": "redirected",
            "answer_zh": "已列入下年度农村危房改造计划",
            "answered_on": beijing_today().isoformat(),
        },
        headers=auth("county"),
    )
    assert r.status_code == 200, r.text
    await handle.result()
    await keep(client, handle.id, "referral_escalated")
