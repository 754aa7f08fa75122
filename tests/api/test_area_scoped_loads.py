"""Admin loads of personal data are scoped to the admin's area (PIPL Art. 6; DOMAIN §2): an
admin loads verification records only for people registered or covered by a case in their
area (others refused and counted), and a load replaces the source's data for that area only —
before, an admin of 419901 reset a source to 0 records for every county."""

from datetime import date

import httpx
from sqlalchemy import Engine

from jiuzhu.contract import Role
from jiuzhu.db.sealing import blind_index
from jiuzhu.officers import create_officer
from tests.conftest import auth
from tests.factories import id_number
from tests.payments.support import scalar


def income(person: str) -> dict[str, object]:
    return {"id_number": person, "category": "income", "kind": "wage", "amount": "800.00"}


async def test_verification_loads_are_replaced_per_area(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    create_officer(engine, "officer-admin-410882", "外县管理员", Role.ADMIN, "410882", "t-410882")
    other_admin = {"Authorization": "Bearer t-410882"}
    ours = id_number(date(1961, 2, 3))
    theirs = id_number(date(1961, 2, 3), area6="410882")

    r = await api.put(
        "/admin/verification/housing_fund", json={"records": [income(theirs)]}, headers=other_admin
    )
    assert r.status_code == 200 and r.json()["refused_out_of_area"] == 0

    r = await api.put(
        "/admin/verification/housing_fund",
        json={"records": [income(ours), income(theirs)]},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["refused_out_of_area"] == 1
    first_load = r.json()["loaded_at"]
    count = (
        "SELECT COUNT(*) FROM verification_record "
        "WHERE source = 'housing_fund' AND id_number_index = :p"
    )
    assert scalar(engine, count, p=blind_index(ours)) == 1
    assert (
        scalar(engine, count, p=blind_index(theirs)) == 1
    )  # the other county's record, loaded by its admin

    # 419901 resets the source: its own records go, the other county's stay.
    r = await api.put(
        "/admin/verification/housing_fund", json={"records": []}, headers=auth("admin")
    )
    assert r.status_code == 200
    assert r.json()["loaded_at"] > first_load  # each load is dated
    assert scalar(engine, count, p=blind_index(ours)) == 0
    assert scalar(engine, count, p=blind_index(theirs)) == 1
    r = await api.put("/admin/verification/housing_fund", json={"records": []}, headers=other_admin)
    assert scalar(engine, count, p=blind_index(theirs)) == 0


async def test_deaths_outside_the_area_are_refused_and_counted(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    """The reproduction: the admin of 419901 loaded a death for a beneficiary of 410882."""
    ours = id_number(date(1940, 6, 1))
    theirs = id_number(date(1940, 6, 1), area6="410882")
    r = await api.post(
        "/deaths",
        json={
            "records": [
                {"id_number": theirs, "name": "外县人", "date_of_death": "2026-10-01"},
                {"id_number": ours, "name": "本县人", "date_of_death": "2026-10-01"},
            ]
        },
        headers=auth("admin"),
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "loaded": 1,
        "already_known": 0,
        "refused_out_of_area": 1,
        "refused": ["records.0.id_number"],
    }
    deaths = "SELECT COUNT(*) FROM death_record WHERE id_number_index = :p"
    assert scalar(engine, deaths, p=blind_index(theirs)) == 0
    assert scalar(engine, deaths, p=blind_index(ours)) == 1
