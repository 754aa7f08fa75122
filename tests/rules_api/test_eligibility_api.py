"""POST /eligibility/assess: the means test for every programme under the policy in force, for
officers inside the area, without starting a case; bad households refused naming the field."""

from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.routes.policies import today_shanghai
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.sealing import blind_index
from rules.id_number import make_id_number
from tests.conftest import auth

ON = "2026-03-02"
AREA = "419901001001"


def member(relation: str, birth: date, seq: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "id_number": make_id_number("419901", birth, seq),
        "relation": relation,
        "birth_date": birth.isoformat(),
        "hukou": "rural",
        **extra,
    }


def family() -> dict[str, Any]:
    """A rural family of three: the applicant earns 900 a month with 100 employment costs."""
    return {
        "members": [
            member(
                "applicant",
                date(1980, 5, 17),
                "917",
                "张明",
                incomes=[{"kind": "wage", "monthly_amount": "900.00"}],
                employment_costs="100.00",
            ),
            member("spouse", date(1982, 8, 1), "918", "李芳"),
            member("child", date(2015, 9, 1), "919", "张小宝", student=True),
        ]
    }


def body(household: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"area_code": AREA, "on": ON, "household": household or family(), **extra}


async def test_assess_every_programme(api: httpx.AsyncClient, engine: Engine) -> None:
    payload = body()
    r = await api.post("/eligibility/assess", json=payload, headers=auth("village"))
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["as_of"] == ON and result["hukou"] == "rural"
    assert result["policy_version_id"] == "CN@2021-07-01+41@2025-01-01+419901@2026-01-01"
    assert result["household_size"] == 3
    by_programme = {(p["programme"], p["single_person"]): p for p in result["programmes"]}
    dibao = by_programme[("dibao", False)]
    # 低保办法 Art. 13: (550 × 3) − (900 − 100) = 850.00; per capita 800 / 3.
    assert dibao["eligible"] is True
    assert dibao["monthly_amount"] == "850.00"
    assert dibao["per_capita_income"] == "266.67"
    assert dibao["standard"] == "550.00"
    codes = [reason["code"] for reason in dibao["reasons"]]
    assert "INCOME_BELOW_STANDARD" in codes
    assert all(reason["text_zh"] and reason["basis"] for reason in dibao["reasons"])
    assert {"tekun", "dibao_edge", "rigid_expense"} <= {
        p["programme"] for p in result["programmes"]
    }
    # Nothing recorded: assessing is not applying.
    applicant_id = payload["household"]["members"][0]["id_number"]
    with Session(engine) as s:
        found = s.exec(
            select(CaseRecord).where(
                CaseRecord.applicant_id_number_index == blind_index(applicant_id)
            )
        ).all()
    assert found == []

    # The county's 2027 standard applies to a 2027 assessment: (580 × 3) − 800 = 940.00.
    r = await api.post("/eligibility/assess", json=body(on="2027-01-04"), headers=auth("county"))
    dibao = next(p for p in r.json()["programmes"] if p["programme"] == "dibao")
    assert dibao["monthly_amount"] == "940.00"


async def test_assess_tekun_self_care_tier(api: httpx.AsyncClient) -> None:
    able = {"eating": True, "dressing": True, "getting_out_of_bed": True}
    unable = {"toileting": False, "walking_indoors": False, "bathing": False}
    household = {
        "members": [
            member(
                "applicant",
                date(1950, 1, 9),
                "111",
                "王老汉",
                work_capacity="none",
                self_care={**able, **unable},
            )
        ]
    }
    r = await api.post("/eligibility/assess", json=body(household), headers=auth("township"))
    assert r.status_code == 200, r.text
    tekun = next(p for p in r.json()["programmes"] if p["programme"] == "tekun")
    assert tekun["care_tier"] == "partial_loss"  # 3 of 6 activities: 特困办法 Art. 20–23


async def test_assess_without_date_uses_today(api: httpx.AsyncClient) -> None:
    payload = body()
    del payload["on"]
    r = await api.post("/eligibility/assess", json=payload, headers=auth("township"))
    assert r.status_code == 200 and r.json()["as_of"] == today_shanghai().isoformat()


async def test_assess_who_may(api: httpx.AsyncClient) -> None:
    assert (await api.post("/eligibility/assess", json=body())).status_code == 401
    for name in ("finance", "auditor", "admin"):
        r = await api.post("/eligibility/assess", json=body(), headers=auth(name))
        assert r.status_code == 403, name
    r = await api.post("/eligibility/assess", json=body(), headers=auth("township2"))
    assert r.status_code == 403  # 419901001001 is outside 东湖乡
    r = await api.post("/eligibility/assess", json=body(), headers=auth("other_county"))
    assert r.status_code == 403


def fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in r.json()["errors"]]


async def test_assess_bad_input_names_the_field(api: httpx.AsyncClient) -> None:
    def with_member(index: int, **changes: Any) -> dict[str, Any]:
        household = family()
        household["members"][index].update(changes)
        return household

    applicant_id = family()["members"][0]["id_number"]
    wrong_check = applicant_id[:-1] + ("0" if applicant_id[-1] != "0" else "1")
    tomorrow = today_shanghai() + timedelta(days=1)
    cases: dict[str, tuple[dict[str, Any], list[str]]] = {
        "no applicant": (
            body(with_member(0, relation="parent")),
            ["household.members"],
        ),
        "no members": (body({"members": []}), ["household.members"]),
        "negative income": (
            body(with_member(0, incomes=[{"kind": "wage", "monthly_amount": "-1"}])),
            ["household.members.0.incomes.0.monthly_amount"],
        ),
        "check digit": (
            body(with_member(0, id_number=wrong_check)),
            ["household.members.0.id_number"],
        ),
        "birth date not the ID's": (
            body(with_member(1, birth_date="1982-08-02")),
            ["household.members.1.birth_date"],
        ),
        "born in the future": (
            body(
                with_member(
                    2,
                    id_number=make_id_number("419901", tomorrow, "404"),
                    birth_date=tomorrow.isoformat(),
                ),
                on=None,
            ),
            ["household.members.2.birth_date"],
        ),
        "born after the assessment date": (
            body(with_member(2), on="2015-01-01"),
            ["household.members.2.birth_date"],
        ),
        "unknown area": (body(area_code="419901001009"), ["area_code"]),
        "malformed area": (body(area_code="东街"), ["area_code"]),
        "before any policy": (body(on="2020-01-01"), ["on"]),
        "bad date": (body(on="2026-02-30"), ["on"]),
        "unknown field": (body(salary=1), ["salary"]),
        "no household": ({"area_code": AREA}, ["household"]),
    }
    for name, (payload, expected) in cases.items():
        r = await api.post("/eligibility/assess", json=payload, headers=auth("county"))
        assert fields(r) == expected, name
    r = await api.post(
        "/eligibility/assess", json=cases["birth date not the ID's"][0], headers=auth("county")
    )
    assert r.json()["errors"][0]["message"].startswith("出生日期1982-08-02与身份证号码")
