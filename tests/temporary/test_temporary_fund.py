"""The reserve fund as a ledger, on the real server: two grants racing for the last money (exactly
one wins, the balance never goes negative), a grant over the cap (422) or over the balance (409)
records nothing, replenishment by the county of that county only."""

import asyncio
from decimal import Decimal

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from jiuzhu.db.models import AuditEntry
from jiuzhu.db.models_temporary import TemporaryEventClaim, TemporaryPrepayment
from tests.conftest import auth
from tests.temporary.helpers import (
    audit_actions,
    balance_is_ledger_sum,
    create_case,
    fund_balance,
    ledger,
    payments,
    registered,
    replenish,
)


async def test_two_grants_racing_for_the_last_money(
    api: httpx.AsyncClient, engine: Engine, township3: dict[str, str]
) -> None:
    township = "419901003"
    if fund_balance(engine, township) < Decimal("2.00"):
        await replenish(api, township, "900.00")
    balance = fund_balance(engine, township)
    assert balance <= Decimal("1998.00")
    amount = (balance // 2 + 1).quantize(Decimal("0.01"))  # each fits, both do not
    assert amount <= balance < 2 * amount
    cases = [
        (await create_case(api, "county", area_code="419901003001"))["case_id"] for _ in range(2)
    ]
    for case_id in cases:
        await registered(api, case_id)

    async def grant(case_id: str) -> httpx.Response:
        return await api.post(
            f"/temporary-cases/{case_id}/prepayment",
            json={"amount": str(amount), "reason_zh": "山体滑坡，房屋受损"},
            headers=auth("county"),  # a county officer may not grant: checked below
        )

    refused = await asyncio.gather(*(grant(c) for c in cases))
    assert [r.status_code for r in refused] == [403, 403]

    headers = township3
    results = await asyncio.gather(
        *(
            api.post(
                f"/temporary-cases/{c}/prepayment",
                json={"amount": str(amount), "reason_zh": "山体滑坡，房屋受损"},
                headers=headers,
            )
            for c in cases
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.headers["content-type"].startswith("application/problem+json")
    assert loser.json()["code"] == "InsufficientFunds"
    assert "备用金余额不足" in loser.json()["detail"]
    assert fund_balance(engine, township) == balance - amount >= 0
    assert len(ledger(engine, cases)) == 1 and len(payments(engine, cases)) == 1
    assert balance_is_ledger_sum(engine, township)
    loser_id = cases[[r.status_code for r in results].index(409)]
    r = await api.get(f"/temporary-cases/{loser_id}", headers=headers)
    state = r.json()
    assert state["status"] == "registered"
    assert state["prepayment"] is None and state["deadlines"] == [] and state["payments"] == []
    assert audit_actions(engine, loser_id) == ["register"]
    with Session(engine) as s:
        assert (
            s.exec(select(TemporaryEventClaim).where(TemporaryEventClaim.case_id == loser_id)).all()
            == []
        )


async def test_grant_over_cap_or_balance_records_nothing(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    township = "419901002"
    if fund_balance(engine, township) == 0:
        await replenish(api, township, "100.00")
    balance = fund_balance(engine, township)
    assert balance < Decimal("999.99")
    case_id = (await create_case(api, "township2", area_code="419901002001"))["case_id"]
    await registered(api, case_id, "township2")

    async def grant(amount: str) -> httpx.Response:
        return await api.post(
            f"/temporary-cases/{case_id}/prepayment",
            json={"amount": amount, "reason_zh": "突发重病"},
            headers=auth("township2"),
        )

    r = await grant("1000.01")  # demo county cap is 1000.00
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "amount"
    assert "上限" in r.json()["detail"]

    r = await grant(str(balance + Decimal("0.01")))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "InsufficientFunds"

    assert fund_balance(engine, township) == balance
    assert ledger(engine, [case_id]) == [] and payments(engine, [case_id]) == []
    state = (await api.get(f"/temporary-cases/{case_id}", headers=auth("township2"))).json()
    assert state["status"] == "registered" and state["prepayment"] is None
    assert state["deadlines"] == []
    with Session(engine) as s:
        assert s.get(TemporaryPrepayment, case_id) is None
        actions = s.exec(select(AuditEntry.action).where(col(AuditEntry.case_id) == case_id)).all()
    assert list(actions) == ["register"]

    # The same case can still be granted what the fund holds: no half state was left behind.
    r = await grant(str(balance))
    assert r.status_code == 200, r.text
    assert fund_balance(engine, township) == 0
    assert balance_is_ledger_sum(engine, township)


async def test_replenishment_and_ledger_access(api: httpx.AsyncClient, engine: Engine) -> None:
    township = "419901001"
    before = fund_balance(engine, township)
    body = {"amount": "300.50", "note_zh": "2026年第四季度备用金"}
    headers = {**auth("county"), "Idempotency-Key": "replenish-test-1"}
    first = await api.post(f"/reserve-funds/{township}/replenishments", json=body, headers=headers)
    again = await api.post(f"/reserve-funds/{township}/replenishments", json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["entry"]["id"] == again.json()["entry"]["id"]  # credited once
    assert fund_balance(engine, township) == before + Decimal("300.50")

    r = await api.get(f"/reserve-funds/{township}", headers=auth("township"))
    assert r.status_code == 200
    fund = r.json()
    assert Decimal(fund["balance"]) == before + Decimal("300.50")
    assert fund["entries"][0]["purpose"] == "replenishment"
    assert fund["entries"][0]["actor_name"] == "测试county"

    url = f"/reserve-funds/{township}/replenishments"
    assert (await api.post(url, json=body)).status_code == 401
    assert (await api.post(url, json=body, headers=auth("township"))).status_code == 403
    assert (await api.post(url, json=body, headers=auth("other_county"))).status_code == 403
    assert (
        await api.get(f"/reserve-funds/{township}", headers=auth("township2"))
    ).status_code == 403
    for bad, field in (
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "10", "extra": 1}, "extra"),
    ):
        r = await api.post(url, json=bad, headers=auth("county"))
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in r.json()["errors"]]
    r = await api.get("/reserve-funds/41990100", headers=auth("county"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "township"
    r = await api.get("/reserve-funds/419901009", headers=auth("county"))
    assert r.status_code == 404
    assert fund_balance(engine, township) == before + Decimal("300.50")
