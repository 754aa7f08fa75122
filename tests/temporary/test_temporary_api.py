"""The temporary-assistance API's edges: bad input is 422 problem+json naming the field with
nothing written; 401 without a token; 403 for the wrong role or area; 404 unknown case; 409 for a
step in the wrong state; an idempotent registration."""

import uuid
from typing import Any

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from temporalio.client import Client

from jiuzhu.db.models import CaseRecord
from tests.conftest import auth
from tests.temporary.helpers import case_body, create_case, justification_body, registered


def temporary_rows(engine: Engine) -> int:
    with Session(engine) as s:
        return int(
            s.exec(
                select(func.count())
                .select_from(CaseRecord)
                .where(CaseRecord.case_kind == "temporary")
            ).one()
        )


def _bad_bodies() -> list[tuple[str, dict[str, Any], str]]:
    good = case_body()
    bad_id = dict(good, household=[dict(good["household"][0])])
    digits = bad_id["household"][0]["id_number"]
    bad_id["household"][0]["id_number"] = digits[:-1] + ("0" if digits[-1] != "0" else "1")
    return [
        ("county-level area", dict(good, area_code="419901"), "area_code"),
        ("unknown area", dict(good, area_code="419901009"), "area_code"),
        ("bad check digit", bad_id, "household.0.id_number"),
        ("no applicant", dict(good, household=[dict(good["household"][0], relation="spouse")]),
         "household"),
        ("unknown event", dict(good, event=dict(good["event"], event_type="meteor")),
         "event.event_type"),
        ("bad card", dict(good, card_account={"account_number": "12ab"}),
         "card_account.account_number"),
        ("normal without amount", dict(good, procedure="normal"), "requested_amount"),
        ("three decimals", dict(good, procedure="normal", requested_amount="10.001"),
         "requested_amount"),
        ("unknown procedure", dict(good, procedure="fast"), "procedure"),
        ("extra field", dict(good, secret=1), "secret"),
    ]  # fmt: skip


async def test_registration_bad_input_and_access(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    before = temporary_rows(engine)
    before_wf = (await client.count_workflows("CaseKind = 'temporary'")).count
    r = await api.post(
        "/temporary-cases",
        content=b'{"procedure": "emergency",',
        headers={**auth("township"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "malformed JSON" in r.json()["detail"]
    for label, body, field in _bad_bodies():
        r = await api.post("/temporary-cases", json=body, headers=auth("township"))
        assert r.status_code == 422, (label, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], (label, r.json())
    good = case_body()
    assert (await api.post("/temporary-cases", json=good)).status_code == 401
    assert (
        await api.post("/temporary-cases", json=good, headers=auth("finance"))
    ).status_code == 403
    assert (
        await api.post("/temporary-cases", json=good, headers=auth("township2"))
    ).status_code == 403
    assert (
        await api.post("/temporary-cases", json=good, headers=auth("village"))
    ).status_code == 403  # emergencies are registered by the township or county
    assert temporary_rows(engine) == before
    assert (await client.count_workflows("CaseKind = 'temporary'")).count == before_wf

    key = uuid.uuid4().hex
    headers = {**auth("township"), "Idempotency-Key": key}
    first = await api.post("/temporary-cases", json=good, headers=headers)
    again = await api.post("/temporary-cases", json=good, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_id"] == again.json()["case_id"]
    assert first.headers["Location"] == f"/temporary-cases/{first.json()['case_id']}"
    r = await api.post("/temporary-cases", json=case_body(), headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_steps_refuse_bad_input_wrong_role_area_and_state(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    case_id = (await create_case(api))["case_id"]
    await registered(api, case_id)
    base = f"/temporary-cases/{case_id}"

    # 422 naming the field, per step.
    bad_steps: list[tuple[str, dict[str, Any], str, str]] = [
        ("prepayment", {"amount": "abc", "reason_zh": "x"}, "amount", "township"),
        ("prepayment", {"amount": "100"}, "reason_zh", "township"),
        ("prepayment", {"amount": "0", "reason_zh": "x"}, "amount", "township"),
        ("justification", dict(justification_body("1"), amount="-1"), "amount", "township"),
        (
            "justification",
            {**justification_body("1"), "investigation": {"investigators": ["一人"]}},
            "investigation.investigators",
            "township",
        ),
        ("justification-review", {"decision": "maybe"}, "decision", "county"),
        ("justification-review", {"decision": "reject"}, "reason_zh", "county"),
        ("recoveries", {"amount": "1", "recovered_on": "someday", "method_zh": "x"},
         "recovered_on", "township"),
        ("referral", {"need_amount": "5000"}, "situation_zh", "township"),
        ("special-decision", {"decision": "approve", "stages": [{"pay_on": "2026-13-01",
         "amount": "1"}]}, "stages.0.pay_on", "county"),
        ("special-decision", {"decision": "refuse"}, "reason_zh", "county"),
        ("close", {}, "reason_zh", "township"),
    ]  # fmt: skip
    for step, body, field, who in bad_steps:
        r = await api.post(f"{base}/{step}", json=body, headers=auth(who))
        assert r.status_code == 422, (step, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], (step, r.json())

    grant = {"amount": "100.00", "reason_zh": "急需"}
    assert (await api.post(f"{base}/prepayment", json=grant)).status_code == 401
    r = await api.post(f"{base}/prepayment", json=grant, headers=auth("county"))
    assert r.status_code == 403  # a township officer grants
    r = await api.post(f"{base}/prepayment", json=grant, headers=auth("township2"))
    assert r.status_code == 403  # another township
    r = await api.post(
        f"{base}/justification-review", json={"decision": "accept"}, headers=auth("other_county")
    )
    assert r.status_code == 403
    r = await api.post("/temporary-cases/TNOPE/prepayment", json=grant, headers=auth("township"))
    assert r.status_code == 404
    assert (await api.get("/temporary-cases/TNOPE", headers=auth("county"))).status_code == 404
    assert (await api.get(base, headers=auth("township2"))).status_code == 403
    assert (await api.get(base, headers=auth("auditor"))).status_code == 200

    # 409: steps in the wrong state, refused by the workflow's validators.
    r = await api.post(
        f"{base}/justification", json=justification_body("100.00"), headers=auth("township")
    )
    assert r.status_code == 409 and r.json()["code"] == "WrongState"
    r = await api.post(f"{base}/justification-review", json={"decision": "accept"},
                       headers=auth("county"))  # fmt: skip
    assert r.status_code == 409
    r = await api.post(
        f"{base}/special-decision",
        json={"decision": "approve", "amount": "3000"},
        headers=auth("county"),
    )
    assert r.status_code == 409
    # Close a registered case that needs no aid; afterwards every step is 409.
    r = await api.post(f"{base}/close", json={"reason_zh": "亲属已接济，无需救助"},
                       headers=auth("township"))  # fmt: skip
    assert r.status_code == 200 and r.json()["outcome"] == "closed_without_aid"
    await client.get_workflow_handle(f"temporary-{case_id}").result()
    r = await api.post(f"{base}/prepayment", json=grant, headers=auth("township"))
    assert r.status_code == 409, r.text
    r = await api.get("/temporary-cases?status=closed", headers=auth("township"))
    assert case_id in [i["case_id"] for i in r.json()["items"]]
    r = await api.get("/temporary-cases?status=nonsense", headers=auth("township"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status"
    r = await api.get("/temporary-cases?area_code=419901002", headers=auth("township"))
    assert r.status_code == 403
