"""Every bad input at the boundary gets a 4xx naming the field, and leaves nothing written: the
reproductions of "a whole county at once" (part 5), through the real app, worker and Temporal
server. A refused create leaves no read-model row and starts no workflow; a refused step leaves
the case as it was."""

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.main import create_app
from jiuzhu.clock import beijing_today
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.sealing import blind_index
from jiuzhu.household_ids import household_id_for
from jiuzhu.settings import Settings
from rules.id_number import make_id_number
from tests.conftest import auth
from tests.factories import application_body, id_number
from tests.temporary.helpers import case_body
from workflows.payments.contract import payroll_workflow_id

COUNTY = "419901"


# --- helpers ------------------------------------------------------------------------------------
def assert_refused(r: httpx.Response, field: str, status: int = 422) -> dict[str, Any]:
    """A problem+json refusal naming ``field``, its message free of pydantic's prefix."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = r.json()
    assert problem["status"] == status
    fields = [e["field"] for e in problem["errors"]]
    assert field in fields, problem
    for error in problem["errors"]:
        assert not error["message"].startswith("Value error"), error
    assert "Value error, " not in problem["detail"]
    return problem


def rows_for(engine: Engine, applicant_id_number: str) -> int:
    with Session(engine) as s:
        query = select(func.count()).where(
            CaseRecord.applicant_id_number_index == blind_index(applicant_id_number)
        )
        return int(s.exec(query).one())


async def workflows_for(client: Client, household_id: str) -> int:
    return (await client.count_workflows(f"HouseholdId = '{household_id}'")).count


async def assert_nothing_created(
    engine: Engine, client: Client, applicant_id_number: str, area_code: str
) -> None:
    assert rows_for(engine, applicant_id_number) == 0
    household = household_id_for(applicant_id_number, area_code)
    assert await workflows_for(client, household) == 0


async def not_started(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        return exc.status == RPCStatusCode.NOT_FOUND
    return False


async def new_application(api: httpx.AsyncClient) -> dict[str, Any]:
    r = await api.post("/applications", json=application_body(), headers=auth("township"))
    assert r.status_code == 201, r.text
    state: dict[str, Any] = r.json()
    return state


async def case_state(api: httpx.AsyncClient, app_id: str) -> dict[str, Any]:
    r = await api.get(f"/applications/{app_id}", headers=auth("township"))
    assert r.status_code == 200, r.text
    state: dict[str, Any] = r.json()
    return state


# --- identity numbers, dates, names ------------------------------------------------------------
async def test_id_number_born_in_the_year_3000_is_refused(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    body = application_body()
    body["household"][1]["id_number"] = make_id_number(COUNTY, date(3000, 1, 1), "123")
    r = await api.post("/applications", json=body, headers=auth("township"))
    problem = assert_refused(r, "household.1.id_number")
    assert "晚于今天" in problem["errors"][0]["message"]
    applicant = body["household"][0]["id_number"]
    await assert_nothing_created(engine, client, applicant, body["area_code"])


async def test_applied_on_year_one_is_refused(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    body = {**application_body(), "applied_on": "0001-01-01"}
    r = await api.post("/applications", json=body, headers=auth("township"))
    problem = assert_refused(r, "applied_on")
    assert problem["errors"][0]["message"].startswith("日期0001-01-01早于2000-01-01")
    await assert_nothing_created(
        engine, client, body["household"][0]["id_number"], body["area_code"]
    )


async def test_paper_date_after_today_is_refused(api: httpx.AsyncClient) -> None:
    app_id = (await new_application(api))["application_id"]
    tomorrow = (beijing_today() + timedelta(days=1)).isoformat()
    r = await api.post(
        f"/applications/{app_id}/accept", json={"accepted_on": tomorrow}, headers=auth("township")
    )
    assert_refused(r, "accepted_on")
    assert (await case_state(api, app_id))["status"] == "submitted"


@pytest.mark.parametrize(
    "name",
    ["", "   ", "张\u200b三", "张\x00三", "\u202e张三", "张\u3000\u3000三", "张|三", "张,三"],
    ids=[
        "empty",
        "blank",
        "zero-width-space",
        "nul",
        "bidi-override",
        "ideographic-spaces",
        "bank-separator-bar",
        "bank-separator-comma",
    ],
)
async def test_bad_names_are_refused(
    api: httpx.AsyncClient, client: Client, engine: Engine, name: str
) -> None:
    body = application_body()
    body["household"][0]["name"] = name
    r = await api.post("/applications", json=body, headers=auth("township"))
    assert_refused(r, "household.0.name")
    await assert_nothing_created(
        engine, client, body["household"][0]["id_number"], body["area_code"]
    )


@pytest.mark.parametrize("name", ["阿依古丽·买买提", "王𡉃", "𠮷野家", "Maria José García"])
async def test_rare_and_minority_names_are_accepted(api: httpx.AsyncClient, name: str) -> None:
    body = application_body()
    body["household"][0]["name"] = name
    r = await api.post("/applications", json=body, headers=auth("township"))
    assert r.status_code == 201, r.text
    assert r.json()["members"][0]["name"] == name


async def test_name_is_stored_nfc(api: httpx.AsyncClient) -> None:
    body = application_body()
    body["household"][0]["name"] = "Jose\u0301"  # e + combining acute
    r = await api.post("/applications", json=body, headers=auth("township"))
    assert r.status_code == 201, r.text
    assert r.json()["members"][0]["name"] == "Jos\u00e9"


# --- free text in steps --------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["有异议\x07", "有异议\x1b[31m", "有\u202e异议", "有\r\n异议"])
async def test_control_characters_in_objection_text_are_refused(
    api: httpx.AsyncClient, text: str
) -> None:
    app_id = (await new_application(api))["application_id"]
    before = await case_state(api, app_id)
    r = await api.post(
        f"/applications/{app_id}/publicity-objection",
        json={"objector_name": "王五", "content_zh": text},
        headers=auth("township"),
    )
    assert_refused(r, "content_zh")
    after = await case_state(api, app_id)
    assert after["revision"] == before["revision"]
    assert after["publicity_objections"] == []


@pytest.mark.parametrize("grounds", ["拒不配合\x00", "拒不配合\x1b[2J", "拒不\u200d配合"])
async def test_control_characters_in_end_review_grounds_are_refused(
    api: httpx.AsyncClient, grounds: str
) -> None:
    app_id = (await new_application(api))["application_id"]
    before = await case_state(api, app_id)
    r = await api.post(
        f"/applications/{app_id}/end-review",
        json={"grounds_zh": grounds},
        headers=auth("township"),
    )
    assert_refused(r, "grounds_zh")
    after = await case_state(api, app_id)
    assert after["status"] == "submitted" and after["closing"] is None
    assert after["revision"] == before["revision"]


async def test_multiline_findings_are_kept(api: httpx.AsyncClient) -> None:
    """``\\n`` is a line break in free text; only the other control characters are refused."""
    app_id = (await new_application(api))["application_id"]
    r = await api.post(f"/applications/{app_id}/accept", json={}, headers=auth("township"))
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/applications/{app_id}/end-review",
        json={"grounds_zh": "  三次通知均拒绝入户调查\n拒绝签字  "},
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["closing"]["reason_zh"] == "三次通知均拒绝入户调查\n拒绝签字"


# --- household size --------------------------------------------------------------------------
async def test_household_of_2001_members_is_refused(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    body = application_body()
    first = date(1950, 1, 1)
    for i in range(2001 - len(body["household"])):
        born = first + timedelta(days=i // 900)
        body["household"].append(
            {
                "name": f"成员{i}",
                "id_number": make_id_number(COUNTY, born, f"{i % 900 + 100:03d}"),
                "relation": "other",
            }
        )
    assert len(body["household"]) == 2001
    r = await api.post("/applications", json=body, headers=auth("township"))
    problem = assert_refused(r, "household")
    assert "不能超过30人" in problem["errors"][0]["message"]
    await assert_nothing_created(
        engine, client, body["household"][0]["id_number"], body["area_code"]
    )


async def test_household_of_2001_members_is_refused_for_eligibility(
    api: httpx.AsyncClient,
) -> None:
    member = {
        "name": "张三",
        "id_number": id_number(),
        "relation": "applicant",
        "birth_date": "1970-05-17",
        "hukou": "rural",
    }
    body = {"area_code": "419901001", "household": {"members": [member] * 2001}}
    r = await api.post("/eligibility/assess", json=body, headers=auth("township"))
    assert_refused(r, "household.members")


# --- money ----------------------------------------------------------------------------------------
async def test_full_width_digits_as_money_are_refused(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    body = case_body(procedure="normal", requested_amount="１２００.００")
    r = await api.post("/temporary-cases", json=body, headers=auth("township"))
    problem = assert_refused(r, "requested_amount")
    assert "半角数字" in problem["errors"][0]["message"]
    await assert_nothing_created(
        engine, client, body["household"][0]["id_number"], body["area_code"]
    )


@pytest.mark.parametrize("amount", ["１０００", "1e3", "12.345", "-5", "NaN", " 100"])
async def test_bad_amounts_are_refused_for_payroll_funding(
    api: httpx.AsyncClient, amount: str
) -> None:
    r = await api.post(
        f"/payroll/{COUNTY}/2026-01/funding",
        json={"amount": amount, "reference": "拨款文号"},
        headers=auth("finance"),
    )
    assert_refused(r, "amount")


async def test_body_that_is_not_text_is_a_422(api: httpx.AsyncClient) -> None:
    r = await api.post(
        "/applications",
        content=b"\xfbp%5d\x0fd8",
        headers={**auth("township"), "Content-Type": "application/json"},
    )
    assert_refused(r, "body")


# --- body size --------------------------------------------------------------------------------
async def test_30_mb_body_is_refused_with_413(
    api: httpx.AsyncClient, client: Client, engine: Engine
) -> None:
    body = application_body()
    applicant = body["household"][0]["id_number"]
    prefix = httpx.Request("POST", "/", json=body).content[:-1]
    payload = prefix + b', "padding": "' + b"x" * (30 * 1024 * 1024) + b'"}'
    r = await api.post(
        "/applications",
        content=payload,
        headers={**auth("township"), "Content-Type": "application/json"},
    )
    problem = assert_refused(r, "body", status=413)
    assert problem["title"] == "Content Too Large"
    await assert_nothing_created(engine, client, applicant, body["area_code"])


async def test_body_limit_comes_from_settings(
    settings: Settings, engine: Engine, client: Client
) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096})
    app = create_app(settings=small, engine=engine, client=client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as http:
        body = {**application_body(), "padding": "x" * 5000}
        r = await http.post("/applications", json=body, headers=auth("township"))
        assert_refused(r, "body", status=413)
        r = await http.post("/applications", json={"programme": "dibao"}, headers=auth("township"))
        assert r.status_code == 422  # under the limit: parsed and validated as usual


def test_max_body_bytes_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIUZHU_MAX_BODY_BYTES", "2097152")
    assert Settings().max_body_bytes == 2_097_152
    monkeypatch.delenv("JIUZHU_MAX_BODY_BYTES")
    assert Settings().max_body_bytes == 1_048_576


# --- payroll periods ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field", "year", "month"),
    [
        ({"period": "0001-01"}, "period", 1, 1),
        ({"period": "9999-12"}, "period", 9999, 12),
        ({"period": "2026-01", "until": "9999-12"}, "until", 9999, 12),
        ({"period": "2026-13"}, "period", 2026, 13),
    ],
    ids=["year-1", "year-9999", "until-9999", "month-13"],
)
async def test_payroll_backfill_out_of_range_is_refused(
    api: httpx.AsyncClient,
    client: Client,
    body: dict[str, str],
    field: str,
    year: int,
    month: int,
) -> None:
    r = await api.post(f"/payroll/{COUNTY}/backfill", json=body, headers=auth("admin"))
    assert_refused(r, field)
    assert await not_started(client, payroll_workflow_id(COUNTY, year, month))
