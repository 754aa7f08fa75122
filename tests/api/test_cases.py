"""Find any case: ``GET /cases`` across case kinds inside my area, by applicant name prefix or
ID number, by township, due before an instant or overdue, soonest deadline first, a page at a
time with a cursor; masked ID numbers; out-of-area and bad filters refused naming the field."""

from datetime import timedelta
from typing import Any

import httpx

from jiuzhu.clock import beijing_now
from tests.application.helpers import create, step
from tests.conftest import auth
from tests.factories import application_body


def named(name: str, area: str = "419901001001") -> dict[str, Any]:
    body = application_body(area_code=area)
    body["household"][0]["name"] = name
    return body


async def test_find_cases_by_name_id_township_and_deadline(api: httpx.AsyncClient) -> None:
    first, body1 = await create(api, named("欧阳寻一"))
    second, _ = await create(api, named("欧阳寻二", "419901002001"), who="township2")
    third, _ = await create(api, named("欧阳寻三"))
    await step(api, first, "accept", {})  # an investigation deadline: soonest first
    county = auth("county")

    r = await api.get("/cases", params={"applicant_name": "欧阳寻"}, headers=county)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert {i["case_id"] for i in items} == {first, second, third}
    assert items[0]["case_id"] == first and items[0]["next_deadline"] is not None
    assert items[0]["href"] == f"/applications/{first}"
    applicant_id = body1["household"][0]["id_number"]
    assert items[0]["applicant_id_masked"] == applicant_id[:6] + "********" + applicant_id[-4:]
    assert applicant_id not in r.text

    r = await api.get("/cases", params={"id_number": applicant_id}, headers=county)
    assert [i["case_id"] for i in r.json()["items"]] == [first]
    r = await api.get(
        "/cases", params={"applicant_name": "欧阳寻", "township_code": "419901002"}, headers=county
    )
    assert [i["case_id"] for i in r.json()["items"]] == [second]
    week = (beijing_now() + timedelta(days=7)).isoformat()
    r = await api.get(
        "/cases", params={"applicant_name": "欧阳寻", "due_before": week}, headers=county
    )
    assert first in [i["case_id"] for i in r.json()["items"]]

    # one at a time, by cursor: every case once, in order
    seen: list[str] = []
    params: dict[str, Any] = {"applicant_name": "欧阳寻", "limit": 1}
    while True:
        page = (await api.get("/cases", params=params, headers=county)).json()
        seen += [i["case_id"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [i["case_id"] for i in items]

    # a township officer sees only their township
    r = await api.get("/cases", params={"applicant_name": "欧阳寻"}, headers=auth("township"))
    assert {i["case_id"] for i in r.json()["items"]} == {first, third}


async def test_bad_filters_are_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    county = auth("county")
    r = await api.get("/cases", params={"township_code": "410882001"}, headers=county)
    assert r.status_code == 403
    for field, value in (
        ("case_kind", "spaceship"),
        ("id_number", "419901197005171013"),
        ("cursor", "not-a-cursor"),
        ("due_before", "tomorrow"),
        ("limit", "0"),
    ):
        r = await api.get("/cases", params={field: value}, headers=county)
        assert r.status_code == 422, (field, r.text)
        assert field in r.text, (field, r.text)
    assert (await api.get("/cases")).status_code == 401
