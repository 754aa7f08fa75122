"""Policies through the API: the merged policy in force in an area on a day with its version id,
the layers that apply, and admin-added versions (validated by merging, 409 on a duplicate, old
versions kept); bad input is refused naming the field, with nothing written."""

from datetime import date
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.routes.policies import today_shanghai
from jiuzhu.contract import Role
from jiuzhu.db.models import PolicyVersion
from jiuzhu.officers import create_officer
from jiuzhu.policy_store import policy_in_force
from jiuzhu.settings import Settings
from tests.conftest import auth

V2026 = "CN@2021-07-01+41@2025-01-01+419901@2026-01-01"
V2027 = "CN@2021-07-01+41@2025-01-01+419901@2027-01-01"
# Admin-added versions in these tests use dates far ahead, so no other test's case sees them.
NEW_AREA = "419901003"  # 西山乡
NEW_DATE = "2040-03-01"


def fields(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in r.json()["errors"]]


def rows(engine: Engine, area_code: str) -> list[PolicyVersion]:
    with Session(engine) as s:
        return list(s.exec(select(PolicyVersion).where(PolicyVersion.area_code == area_code)))


async def test_policy_in_force_with_version_id(api: httpx.AsyncClient) -> None:
    r = await api.get(
        "/policies/419901001001", params={"on": "2026-03-02"}, headers=auth("village")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version_id"] == V2026
    assert body["area_code"] == "419901001001"
    assert body["dibao_standard_urban"] == "700.00"
    assert body["dibao_standard_rural"] == "550.00"
    assert body["dibao_decision"] == {"value": 10, "unit": "working_days"}
    assert body["sources"][-1] == "policies/419901@2026-01-01.yaml"

    r = await api.get("/policies/419901", params={"on": "2027-01-01"}, headers=auth("auditor"))
    assert r.json()["version_id"] == V2027
    assert r.json()["dibao_standard_urban"] == "740.00"
    # Any officer may read any area's policy (policies are public documents).
    r = await api.get("/policies/53", params={"on": "2026-03-02"}, headers=auth("township"))
    assert r.status_code == 200 and r.json()["version_id"] == "CN@2021-07-01+53@2020-02-25"
    assert r.json()["withdrawal_period_max"] == {"value": 12, "unit": "months"}


async def test_policy_defaults_to_today_in_shanghai(
    api: httpx.AsyncClient, engine: Engine, settings: Settings
) -> None:
    r = await api.get("/policies/419901001", headers=auth("township"))
    assert r.status_code == 200
    expected = policy_in_force(engine, settings.policies_dir, "419901001", today_shanghai())
    assert r.json()["version_id"] == expected.version_id


async def test_policy_bad_input(api: httpx.AsyncClient) -> None:
    r = await api.get("/policies/419901", params={"on": "2026-03-02"})
    assert r.status_code == 401
    r = await api.get("/policies/419901", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert fields(await api.get("/policies/419901999", headers=auth("county"))) == ["area_code"]
    assert fields(await api.get("/policies/abc", headers=auth("county"))) == ["area_code"]
    r = await api.get("/policies/419901", params={"on": "2020-01-01"}, headers=auth("county"))
    assert fields(r) == ["on"]
    assert "2020-01-01" in r.json()["detail"]
    r = await api.get("/policies/419901", params={"on": "2026-02-30"}, headers=auth("county"))
    assert fields(r) == ["on"]


async def test_versions_list_file_layers(api: httpx.AsyncClient) -> None:
    r = await api.get(
        "/policies/419901001001/versions", params={"on": "2026-06-01"}, headers=auth("village")
    )
    assert r.status_code == 200, r.text
    versions = {v["version_id"]: v for v in r.json()["versions"]}
    assert list(versions)[:4] == [
        "CN@2021-07-01",
        "41@2025-01-01",
        "419901@2026-01-01",
        "419901@2027-01-01",
    ]
    assert "53@2020-02-25" not in versions and "4108@2025-01-01" not in versions
    county = versions["419901@2026-01-01"]
    assert county["origin"] == "file" and county["source"] == "policies/419901@2026-01-01.yaml"
    assert county["in_force"] is True and versions["419901@2027-01-01"]["in_force"] is False
    assert county["parameters"]["dibao_standard_urban"] == "700.00"
    assert "dibao_standard_urban" not in versions["CN@2021-07-01"]["parameters"]
    r = await api.get("/policies/nope/versions", headers=auth("village"))
    assert fields(r) == ["area_code"]


def new_version(**extra: Any) -> dict[str, Any]:
    return {
        "effective_from": NEW_DATE,
        "name": "西山乡山区补充政策（测试）",
        "legal_basis": ["西山乡人民政府关于山区低保标准的通知（测试）"],
        "dibao_standard_rural": "600.00",
        "investigation_start": {"value": 2, "unit": "working_days"},
        **extra,
    }


async def test_admin_adds_a_version(api: httpx.AsyncClient, engine: Engine) -> None:
    r = await api.post(f"/policies/{NEW_AREA}/versions", json=new_version(), headers=auth("admin"))
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"/policies/{NEW_AREA}?on={NEW_DATE}"
    version, policy = r.json()["version"], r.json()["policy"]
    assert version["version_id"] == f"{NEW_AREA}@{NEW_DATE}"
    assert version["origin"] == "api" and version["source"] == "api:officer-admin"
    assert version["created_by"] == "officer-admin"
    assert version["parameters"] == {
        "dibao_standard_rural": "600.00",
        "investigation_start": {"value": 2, "unit": "working_days"},
    }
    assert policy["version_id"] == f"{V2027}+{NEW_AREA}@{NEW_DATE}"
    assert policy["dibao_standard_rural"] == "600.00"
    assert policy["dibao_standard_urban"] == "740.00"  # from the county's 2027 version

    # From its date on, in the area and below it; not before, not beside it.
    village = f"{NEW_AREA}001"
    r = await api.get(f"/policies/{village}", params={"on": NEW_DATE}, headers=auth("village"))
    assert r.json()["version_id"].endswith(f"+{NEW_AREA}@{NEW_DATE}")
    assert r.json()["investigation_start"] == {"value": 2, "unit": "working_days"}
    r = await api.get(f"/policies/{village}", params={"on": "2040-02-29"}, headers=auth("village"))
    assert r.json()["version_id"] == V2027
    r = await api.get("/policies/419901002001", params={"on": NEW_DATE}, headers=auth("village"))
    assert r.json()["version_id"] == V2027

    # Listed with the file layers; the old versions stay.
    r = await api.get(
        f"/policies/{village}/versions", params={"on": "2041-01-01"}, headers=auth("admin")
    )
    versions = {v["version_id"]: v for v in r.json()["versions"]}
    assert versions[f"{NEW_AREA}@{NEW_DATE}"]["in_force"] is True
    assert versions["419901@2026-01-01"]["in_force"] is False
    assert list(versions)[-1] == f"{NEW_AREA}@{NEW_DATE}"

    # The same area and date again: 409, nothing added; a file layer's date too.
    r = await api.post(f"/policies/{NEW_AREA}/versions", json=new_version(), headers=auth("admin"))
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "effective_from"
    r = await api.post(
        "/policies/419901/versions",
        json={"effective_from": "2027-01-01", "dibao_standard_urban": "800.00"},
        headers=auth("admin"),
    )
    assert r.status_code == 409
    assert [row.version_id for row in rows(engine, NEW_AREA)] == [f"{NEW_AREA}@{NEW_DATE}"]
    assert rows(engine, "419901") == []


def later(**extra: Any) -> dict[str, Any]:
    return new_version(**{"effective_from": "2042-01-01", **extra})


async def test_add_version_refused(api: httpx.AsyncClient, engine: Engine) -> None:
    url = f"/policies/{NEW_AREA}/versions"
    body = later()
    assert (await api.post(url, json=body)).status_code == 401
    assert (await api.post(url, json=body, headers=auth("county"))).status_code == 403
    r = await api.post("/policies/410882/versions", json=body, headers=auth("admin"))
    assert r.status_code == 403  # outside the admin's area
    assert fields(
        await api.post("/policies/419901009/versions", json=body, headers=auth("admin"))
    ) == ["area_code"]
    bad = {
        "negative money": (later(dibao_standard_rural="-1"), ["dibao_standard_rural"]),
        "three decimals": (later(prepayment_cap="10.001"), ["prepayment_cap"]),
        "bad unit": (later(publicity={"value": 7, "unit": "weeks"}), ["publicity.unit"]),
        "unknown field": (later(rent_allowance="1"), ["rent_allowance"]),
        "server sets area": (later(area_code="419901003"), ["area_code"]),
        "server sets version": (later(version_id="mine"), ["version_id"]),
        "server sets source": (later(source="me"), ["source"]),
        "no date": ({"dibao_standard_rural": "600.00"}, ["effective_from"]),
        "before any policy": (later(effective_from="2020-01-01"), ["effective_from"]),
        "bad date": (later(effective_from="2042-02-30"), ["effective_from"]),
        "inconsistent merge": (later(payment_data_day=9), ["policy"]),
        "withdrawal above max": (
            later(withdrawal_period={"value": 9, "unit": "months"}),
            ["policy"],
        ),
    }
    for name, (payload, expected) in bad.items():
        r = await api.post(url, json=payload, headers=auth("admin"))
        assert fields(r) == expected, name
    r = await api.post(url, json=later(payment_data_day=9), headers=auth("admin"))
    assert "payment days" in r.json()["detail"]
    assert [row.effective_from for row in rows(engine, NEW_AREA)] in ([], [date(2040, 3, 1)])
    assert date(2042, 1, 1) not in [row.effective_from for row in rows(engine, NEW_AREA)]


async def test_incomplete_province_version_names_missing_fields(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    """A new Henan version replaces the province's previous one from its date: without the money
    standards the merged policy is incomplete (a version is not a patch, policies/README.md)."""
    create_officer(
        engine, "officer-admin-41", "河南省管理员", Role.ADMIN, "41", "test-token-admin-41"
    )
    headers = {"Authorization": "Bearer test-token-admin-41"}
    r = await api.post(
        "/policies/41/versions",
        json={"effective_from": "2041-01-01", "name": "河南省（不完整）"},
        headers=headers,
    )
    missing = fields(r)
    assert "dibao_standard_urban" in missing and "prepayment_cap" in missing
    assert "not set by any layer" in r.json()["detail"]
    assert rows(engine, "41") == []
