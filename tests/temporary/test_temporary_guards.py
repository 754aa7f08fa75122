"""Guards on the real server: the same event is not aided twice for a household without a
recorded reason (checked at registration and, atomically, when money is committed); a household
with a pending 低保 application may get temporary assistance, linked to it."""

from datetime import timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from jiuzhu.db.models import AuditEntry
from jiuzhu.db.models_temporary import TemporaryEventClaim
from tests.conftest import auth
from tests.factories import application_body, id_number
from tests.temporary.helpers import (
    TOWNSHIP,
    case_body,
    create_case,
    fund_balance,
    ledger,
    poll,
    registered,
    replenish,
    today,
)


async def test_same_event_twice_is_refused_unless_a_reason_is_recorded(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    await replenish(api, TOWNSHIP, "3000.00")
    husband, wife = id_number(area6="110101"), id_number(area6="110101")
    event_day = today() - timedelta(days=2)
    first = (await create_case(api, applicant_id=husband, spouse_id=wife, event_date=event_day))[
        "case_id"
    ]
    # Registered before the first grant (nothing aided yet): the wife applies for the same fire.
    second = (await create_case(api, applicant_id=wife, event_date=event_day))["case_id"]
    for c in (first, second):
        await registered(api, c)

    async def grant(case_id: str, **extra: str) -> httpx.Response:
        return await api.post(
            f"/temporary-cases/{case_id}/prepayment",
            json={"amount": "500.00", "reason_zh": "火灾", **extra},
            headers=auth("township"),
        )

    assert (await grant(first)).status_code == 200
    before = fund_balance(engine, TOWNSHIP)
    r = await grant(second)
    assert r.status_code == 409, r.text
    problem = r.json()
    assert problem["code"] == "EventAlreadyAided"
    assert problem["errors"][0]["field"] == "repeat_reason"
    assert first in problem["detail"]
    assert fund_balance(engine, TOWNSHIP) == before and ledger(engine, [second]) == []

    reason = "首次救助仅解决临时住宿，现需购置过冬衣被，经乡镇研究再次救助"
    r = await grant(second, repeat_reason=reason)
    assert r.status_code == 200, r.text
    assert r.json()["prepayment"]["repeat_reason"] == reason
    with Session(engine) as s:
        claims = s.exec(
            select(TemporaryEventClaim).where(TemporaryEventClaim.case_id == second)
        ).all()
        audit = s.exec(
            select(AuditEntry).where(
                AuditEntry.case_id == second, col(AuditEntry.action) == "prepayment"
            )
        ).one()
    assert [c.repeat_reason for c in claims] == [reason]
    assert audit.detail["repeat_reason"] == reason

    # A third case for the same event is refused at registration without a reason…
    body = case_body(applicant_id=husband, event_date=event_day)
    r = await api.post("/temporary-cases", json=body, headers=auth("township"))
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "repeat_reason"
    # …a different event of the same household is not the same event…
    other = case_body(applicant_id=husband, event_date=event_day, event_type="accident")
    r = await api.post("/temporary-cases", json=other, headers=auth("township"))
    assert r.status_code == 201, r.text
    # …and with a reason it is registered, the reason recorded.
    body["repeat_reason"] = "灾后房屋再次坍塌"
    r = await api.post("/temporary-cases", json=body, headers=auth("township"))
    assert r.status_code == 201, r.text
    assert r.json()["repeat_reason"] == "灾后房屋再次坍塌"


async def test_pending_dibao_application_is_linked(api: httpx.AsyncClient) -> None:
    app = application_body(area_code="419901001001")
    r = await api.post("/applications", json=app, headers=auth("township"))
    assert r.status_code == 201, r.text
    application_id = r.json()["application_id"]
    applicant = app["household"][0]["id_number"]

    case_id = (await create_case(api, applicant_id=applicant))["case_id"]
    state = await poll(api, case_id, lambda s: s["timeline"] != [])
    assert state["linked_case_id"] == application_id
    assert "关联" in state["timeline"][0]["note_zh"]
    r = await api.get("/temporary-cases", headers=auth("township"))
    row = next(i for i in r.json()["items"] if i["case_id"] == case_id)
    assert row["linked_case_id"] == application_id

    # An applicant without a pending application is not linked.
    lone = (await create_case(api))["case_id"]
    state = await poll(api, lone, lambda s: s["timeline"] != [])
    assert state["linked_case_id"] is None
