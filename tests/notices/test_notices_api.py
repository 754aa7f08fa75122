"""POST /notices/render?format=pdf prints every character of a name — CJK Extension B included —
or refuses with 422 naming the field; never a PDF with the character silently dropped."""

import copy
import io
import uuid
from typing import Any

import httpx
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session

from activities.applications.notices import IssueNotice, NoticeActivities
from jiuzhu.contract import CaseKind
from jiuzhu.db.models import CaseRecord
from tests.conftest import auth
from tests.rules_api.test_notices_api import PUBLICITY, REFUSAL


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "".join(
        (page.extract_text() or "").replace(" ", "").replace("\x00", "") for page in reader.pages
    )


async def test_rare_characters_are_printed(api: httpx.AsyncClient) -> None:
    notice: dict[str, Any] = {**copy.deepcopy(REFUSAL), "applicant_name": "王𡉃𠮷"}
    r = await api.post(
        "/notices/render", params={"format": "pdf"}, json=notice, headers=auth("township")
    )
    assert r.status_code == 200, r.text
    text = _text(r.content)
    assert "王𡉃𠮷：" in text  # the salutation, every character
    assert "送达回证" in text and "（盖章）" in text
    assert REFUSAL["case_id"] not in text


async def test_a_glyph_no_font_has_is_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    refusal = {**copy.deepcopy(REFUSAL), "applicant_name": "王\ue000"}
    publicity = copy.deepcopy(PUBLICITY)
    publicity["rows"][0]["name"] = "张\U0003134a"  # unassigned in the fonts (CJK Ext. G)
    for notice, field in ((refusal, "applicant_name"), (publicity, "rows.0.name")):
        r = await api.post(
            "/notices/render", params={"format": "pdf"}, json=notice, headers=auth("township")
        )
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == [field]
        assert "无法打印" in errors[0]["message"] and "U+" in errors[0]["message"]
    # The HTML preview is not a print: the browser chooses the fonts.
    r = await api.post("/notices/render", json=refusal, headers=auth("township"))
    assert r.status_code == 200


async def test_a_stored_notice_downloads_in_full_or_is_refused(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    """GET /applications/{id}/notices/{notice_id}?format=pdf: the issued notice as a PDF with
    every character of the name, or 422 naming the payload's field."""
    case_id = f"A{uuid.uuid4().hex[:15].upper()}"
    with Session(engine) as session:
        session.add(
            CaseRecord(
                case_id=case_id,
                workflow_id=f"application-{case_id}",
                case_kind=CaseKind.APPLICATION.value,
                programme="dibao",
                status="refused",
                area_code="419901001001",
                county_code="419901",
                township_code="419901001",
                household_id=f"H-{case_id}",
                applicant_name="王𡉃",
                applicant_id_number="419901196005011237",
                household_size=1,
            )
        )
        session.commit()
    activities = NoticeActivities(engine)
    for number, name in ((1, "王𡉃"), (2, "王\ue000")):
        activities.issue_notice(
            IssueNotice(
                notice_id=f"{case_id}-N{number:02d}",
                case_id=case_id,
                workflow_id=f"application-{case_id}",
                kind="refusal",
                payload={**REFUSAL, "case_id": case_id, "applicant_name": name},
            )
        )
    url = f"/applications/{case_id}/notices/{case_id}-N01"
    r = await api.get(url, params={"format": "pdf"}, headers=auth("township"))
    assert r.status_code == 200, r.text
    text = _text(r.content)
    assert "王𡉃：" in text and case_id not in text and "送达回证" in text
    r = await api.get(
        f"/applications/{case_id}/notices/{case_id}-N02",
        params={"format": "pdf"},
        headers=auth("township"),
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["applicant_name"]
