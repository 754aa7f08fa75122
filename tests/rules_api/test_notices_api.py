"""POST /notices/render: any officer previews a notice as Chinese HTML or as a PDF with the CJK
font embedded; bad notice data is refused naming the notice's own field."""

import copy
import time
from datetime import date
from typing import Any

import httpx

from rules.id_number import make_id_number
from tests.conftest import auth

ID_A = make_id_number("419901", date(1960, 5, 1), "123")
REFUSAL: dict[str, Any] = {
    "kind": "refusal",
    "case_id": "A1B2C3D4E5F6A7B",
    "authority": "演示县民政局",
    "issued_on": "2026-03-05",
    "applicant_name": "张小明",
    "review_authority": "演示县人民政府",
    "court": "演示县人民法院",
    "programme": "dibao",
    "applied_on": "2026-02-02",
    "decided_on": "2026-03-04",
    "reasons": [
        {
            "code": "INCOME_NOT_BELOW_STANDARD",
            "text_zh": "家庭月人均收入800.00元不低于当地低保标准700.00元",
            "basis": "《最低生活保障审核确认办法》（民发〔2021〕57号）第三条、第十三条",
        }
    ],
}
PUBLICITY: dict[str, Any] = {
    "kind": "publicity",
    "case_id": "GS-419901001-2026-03",
    "authority": "城关镇人民政府",
    "issued_on": "2026-03-01",
    "programme": "dibao",
    "village": "东街社区",
    "period_start": "2026-03-01",
    "period_end": "2026-03-08",
    "rows": [
        {"name": "张小明", "id_number": ID_A, "household_size": 3, "monthly_amount": "850.00"}
    ],
    "objection_channel": "城关镇人民政府社会救助办公室",
}


async def test_render_html(api: httpx.AsyncClient) -> None:
    r = await api.post("/notices/render", json=REFUSAL, headers=auth("township"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    html = r.text
    assert "不予确认最低生活保障通知书" in html
    assert "60日内向演示县人民政府申请行政复议" in html
    assert "6个月内向演示县人民法院提起行政诉讼" in html
    assert "第三条、第十三条" in html

    r = await api.post(
        "/notices/render", params={"format": "html"}, json=PUBLICITY, headers=auth("village")
    )
    assert r.status_code == 200
    assert ID_A not in r.text and "张*明" in r.text  # masked on the publicity list
    assert ID_A[:4] + "*" in r.text


async def test_render_pdf(api: httpx.AsyncClient) -> None:
    started = time.monotonic()
    r = await api.post(
        "/notices/render", params={"format": "pdf"}, json=REFUSAL, headers=auth("auditor")
    )
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'inline; filename="refusal.pdf"'
    assert r.content.startswith(b"%PDF-")
    assert b"/FontFile" in r.content or b"/FontFile3" in r.content  # the CJK font is embedded
    assert elapsed < 10


async def test_render_refused(api: httpx.AsyncClient) -> None:
    assert (await api.post("/notices/render", json=REFUSAL)).status_code == 401

    def without(key: str) -> dict[str, Any]:
        notice = copy.deepcopy(REFUSAL)
        del notice[key]
        return notice

    def changed(**changes: Any) -> dict[str, Any]:
        return {**copy.deepcopy(REFUSAL), **changes}

    cases: list[tuple[dict[str, Any], dict[str, str], list[str]]] = [
        (without("reasons"), {}, ["reasons"]),
        (changed(reasons=[]), {}, ["reasons"]),
        (changed(issued_on="2026-02-30"), {}, ["issued_on"]),
        (changed(programme="welfare"), {}, ["programme"]),
        (changed(kind="letter"), {}, ["kind"]),
        (without("kind"), {}, ["kind"]),
        (changed(colour="red"), {}, ["colour"]),
        (
            {**PUBLICITY, "rows": [{**PUBLICITY["rows"][0], "household_size": 0}]},
            {},
            ["rows.0.household_size"],
        ),
        (REFUSAL, {"format": "docx"}, ["format"]),
    ]
    for notice, params, expected in cases:
        r = await api.post("/notices/render", params=params, json=notice, headers=auth("township"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == expected, (notice, params)
    r = await api.post(
        "/notices/render",
        content=b"{not json",
        headers={**auth("township"), "content-type": "application/json"},
    )
    assert r.status_code == 422
