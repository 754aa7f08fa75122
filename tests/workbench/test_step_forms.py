"""The workbench's step forms on the real server: an application taken from acceptance to the
county's decision through the forms alone (paper-dated), each form generated from the step's API
body model and offered only to the officer the domain's checks allow; a bad field comes back as
the page with the API's message beside the input (422) and nothing recorded; a refusal with its
status; a double submit records the step once; the CSRF token is required; the notice opens."""

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from api.workbench.forms import field_errors, form_data, form_fields
from api.workbench.steps import APPLICATION_STEPS
from jiuzhu.clock import beijing_today
from tests.application.helpers import create, state, wait_status
from tests.conftest import auth
from tests.factories import application_body
from tests.temporary.helpers import create_case, poll, registered, replenish
from tests.workbench.test_workbench import browser


def ago(days: int) -> str:
    return (beijing_today() - timedelta(days=days)).isoformat()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def key_of(html: str, slug: str) -> str:
    form = html.split(f'id="step-{slug}"', 1)[1]
    found = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', form)
    assert found, f"no form {slug}"
    return found.group(1)


def offered(html: str) -> list[str]:
    return re.findall(r'<details class="step" id="step-([a-z-]+)"', html)


async def submit(
    c: httpx.AsyncClient, app_id: str, slug: str, fields: dict[str, Any], page: str
) -> httpx.Response:
    data = {"csrf": csrf_of(page), "idempotency_key": key_of(page, slug), **fields}
    return await c.post(f"/workbench/cases/{app_id}/steps/{slug}", data=data)


async def entitlement_of(api: httpx.AsyncClient, id_number: str) -> str:
    for _ in range(100):
        r = await api.get(
            "/cases",
            params={"case_kind": "entitlement", "id_number": id_number},
            headers=auth("county"),
        )
        items = r.json()["items"]
        if items:
            return str(items[0]["case_id"])
        await asyncio.sleep(0.05)
    raise AssertionError("no entitlement row")


def applicant_name(body: dict[str, Any]) -> str:
    return str(body["household"][0]["name"])


def investigation_form(body: dict[str, Any]) -> dict[str, str]:
    fields = {
        "visited_on": ago(43),
        "investigators": "王调查\n李调查",
        "signed_by_household": "true",
        "findings_zh": "入户查看住房、收入情况，与申报一致",
        "household.members.0.incomes.0.kind": "wage",
        "household.members.0.incomes.0.monthly_amount": "600.00",
    }
    for i, m in enumerate(body["household"]):
        fields[f"household.members.{i}.name"] = m["name"]
        fields[f"household.members.{i}.id_number"] = m["id_number"]
        fields[f"household.members.{i}.relation"] = m["relation"]
        fields[f"household.members.{i}.birth_date"] = "1970-05-17" if i == 0 else "1972-03-02"
        fields[f"household.members.{i}.hukou"] = "rural"
    return fields


async def test_an_application_from_acceptance_to_decision_through_the_forms(
    app: FastAPI, api: httpx.AsyncClient
) -> None:
    body = {**application_body(), "applied_on": ago(45)}
    app_id, body = await create(api, body)
    case_url = f"/workbench/cases/{app_id}"

    async with browser(app, "township") as town:
        page = (await town.get(case_url)).text
        assert offered(page)[:2] == ["accept", "missing-documents"]
        assert "decision" not in offered(page)  # the county confirms (低保办法 Art. 20)
        assert 'for="accept-accepted_on"' in page  # every input has its label

        # No CSRF token: refused, nothing recorded.
        r = await town.post(f"{case_url}/steps/accept", data={"accepted_on": ago(44)})
        assert r.status_code == 403
        assert (await state(api, app_id))["status"] == "submitted"

        # A paper date in the future: the API's own message beside the field, nothing recorded.
        tomorrow = (beijing_today() + timedelta(days=1)).isoformat()
        r = await submit(town, app_id, "accept", {"accepted_on": tomorrow}, page)
        assert r.status_code == 422, r.text
        assert 'id="accept-accepted_on-error"' in r.text
        assert f'value="{tomorrow}"' in r.text  # the form comes back as it was sent
        assert (await state(api, app_id))["status"] == "submitted"

        # Accept; the same form submitted twice records the step once.
        fields = {"accepted_on": ago(44), "documents": "申请书\n户口簿"}
        key_page = page
        r = await submit(town, app_id, "accept", fields, key_page)
        assert r.status_code == 303 and r.headers["location"] == f"{case_url}?done=accept"
        r = await submit(town, app_id, "accept", fields, key_page)
        assert r.status_code == 303
        s = await state(api, app_id)
        assert s["status"] == "accepted" and s["accepted_on"] == ago(44)
        assert sum(1 for t in s["timeline"] if t["action"] == "accept") == 1

        page = (await town.get(f"{case_url}?done=accept")).text
        assert "已办理：受理" in page
        # The audit trail names who acted, on what evidence, under which policy version.
        audit = page.split('id="h-audit"', 1)[1]
        assert "申请书" in audit and s["policy_version_id"] in audit
        # The worklist row says which deadline is next and who acts on it.
        row = (await town.get("/workbench", params={"q": applicant_name(body)})).text
        row = row.split(app_id, 1)[1].split("</tr>", 1)[0]
        assert "入户调查" in row and "乡镇/街道经办人" in row
        assert "investigation" in offered(page) and "accept" not in offered(page)
        # The investigation starts from the members the application named.
        applicant = body["household"][0]
        assert f'value="{applicant["id_number"]}"' in page

        # One investigator only: 422 naming the field, nothing recorded.
        bad = {**investigation_form(body), "investigators": "王调查"}
        r = await submit(town, app_id, "investigation", bad, page)
        assert r.status_code == 422
        assert 'id="investigation-investigators-error"' in r.text
        assert (await state(api, app_id))["status"] == "accepted"

        r = await submit(town, app_id, "investigation", investigation_form(body), page)
        assert r.status_code == 303, r.text
        await wait_status(api, app_id, "awaiting_opinion")

        page = (await town.get(case_url)).text
        opinion = {"recommendation": "approve", "opinion_on": ago(40), "posted_on": ago(40)}
        r = await submit(town, app_id, "initial-opinion", opinion, page)
        assert r.status_code == 303, r.text
        await wait_status(api, app_id, "awaiting_decision")
        page = (await town.get(case_url)).text
        assert "decision" not in offered(page)

    async with browser(app, "county") as county:
        page = (await county.get(case_url)).text
        assert "decision" in offered(page)
        decision = {
            "outcome": "approve",
            "decided_on": ago(30),
            "card_account.holder_name": applicant["name"],
            "card_account.holder_id_number": applicant["id_number"],
            "card_account.account_number": "6217001234567890123",
            "card_account.bank_code": "ICBC",
        }
        r = await submit(county, app_id, "decision", decision, page)
        assert r.status_code == 303, r.text
        s = await state(api, app_id)
        assert s["status"] == "approved" and s["decision"]["on"] == ago(30)
        page = (await county.get(case_url)).text
        notice = re.search(rf'href="({case_url}/notices/[^"?]+)"', page)
        assert notice, "the decision's notice is linked from the case page"
        r = await county.get(notice.group(1))
        assert r.status_code == 200 and "<html" in r.text.lower()
        r = await county.get(notice.group(1) + "?format=pdf")
        assert r.status_code == 200 and r.content.startswith(b"%PDF")

    # The entitlement the decision started has its page too: the county may report a change
    # but records no review outcome while no review is open.
    ent_id = await entitlement_of(api, applicant["id_number"])
    async with browser(app, "county") as county:
        page = (await county.get(f"/workbench/cases/{ent_id}")).text
        assert "changes" in offered(page) and "review-outcome" not in offered(page)
        assert "500.00" in page
    async with browser(app, "township") as town:
        page = (await town.get(f"/workbench/cases/{ent_id}")).text
        assert "changes" in offered(page) and "review-outcome" not in offered(page)

    # Another township sees neither the case nor its forms, and cannot post a step.
    async with browser(app, "township2") as other:
        r = await other.get(case_url)
        assert r.status_code == 403 and "不在您的辖区" in r.text
        r = await other.post(f"{case_url}/steps/withdraw", data={"csrf": "x"})
        assert r.status_code == 403


async def test_a_refused_step_shows_the_refusal(app: FastAPI, api: httpx.AsyncClient) -> None:
    app_id, _ = await create(api, application_body())
    async with browser(app, "township") as town:
        page = (await town.get(f"/workbench/cases/{app_id}")).text
        # Documents requested with a deadline in the past: the workflow's own check refuses it.
        fields = {"missing": "户口簿", "submit_by": ago(1)}
        r = await submit(town, app_id, "missing-documents", fields, page)
        assert r.status_code == 422
        assert 'id="missing-documents-submit_by-error"' in r.text
        assert "补齐材料期限须晚于今天" in r.text
        assert (await state(api, app_id))["status"] == "submitted"


def test_forms_follow_the_api_body_models() -> None:
    """Every application step of the API has a form; a nested posted form becomes the API's
    JSON, blank rows dropped; validation messages are keyed by the API's dotted paths."""
    assert set(APPLICATION_STEPS) >= {"accept", "investigation", "initial-opinion", "decision"}
    investigation = APPLICATION_STEPS["investigation"].body
    names = {f.name for f in form_fields(investigation)}
    assert {"investigators", "household", "card_account", "signed_by_household"} <= names
    pairs = [
        ("investigators", "甲\n\n乙 "),
        ("signed_by_household", "true"),
        ("household.members.0.name", "张建明"),
        ("household.members.0.incomes.0.kind", "wage"),
        ("household.members.0.incomes.1.kind", ""),
        ("household.members.1.name", ""),
        ("unknown.field", "x"),
    ]
    data = form_data(investigation, pairs)
    assert data == {
        "investigators": ["甲", "乙"],
        "signed_by_household": True,
        "household": {"members": [{"name": "张建明", "incomes": [{"kind": "wage"}]}]},
    }
    try:
        investigation.model_validate(data)
    except Exception as exc:  # a ValidationError: the fields the API would name
        errors = field_errors(exc)  # type: ignore[arg-type]
        assert "findings_zh" in errors and "household.members.0.id_number" in errors
    else:
        raise AssertionError("an incomplete investigation validated")


async def test_a_temporary_case_prepaid_and_justified_through_the_forms(
    app: FastAPI, api: httpx.AsyncClient
) -> None:
    """小金额先行救助 then 事后补充说明 (民发〔2018〕23号) from the case page; the county's review
    is offered to the county only once the justification is in."""
    await replenish(api, "419901001", "5000.00")
    case = await create_case(api)
    case_id = case["case_id"]
    await registered(api, case_id)
    case_url = f"/workbench/cases/{case_id}"
    async with browser(app, "township") as town:
        page = (await town.get(case_url)).text
        assert "prepayment" in offered(page) and "justification" not in offered(page)
        r = await submit(
            town,
            app_id=case_id,
            slug="prepayment",
            page=page,
            fields={"amount": "800.00", "reason_zh": "住房失火，先行救助基本生活"},
        )
        assert r.status_code == 303, r.text
        page = (await town.get(case_url)).text
        assert "prepayment" not in offered(page) and "justification" in offered(page)
        assert "justification-review" not in offered(page)  # the county reviews
        fields = {
            "reason_zh": "住房失火，生活必需品全部损毁",
            "amount": "800.00",
            "investigation.investigators": "孙经办\n周协理",
            "investigation.investigated_on": beijing_today().isoformat(),
            "investigation.findings_zh": "入户核实火灾属实",
        }
        r = await submit(town, case_id, "justification", fields, page)
        assert r.status_code == 303, r.text
    async with browser(app, "county") as county:
        page = (await county.get(case_url)).text
        assert "justification-review" in offered(page)
        r = await submit(county, case_id, "justification-review", {"decision": "accept"}, page)
        assert r.status_code == 303, r.text
    s = await poll(api, case_id, lambda s: s["prepayment"]["review"] is not None)
    assert s["prepayment"]["review"]["accepted"] is True


async def test_a_new_application_from_the_form(app: FastAPI, api: httpx.AsyncClient) -> None:
    """The API's create body as a form: a bad ID number comes back beside its input (422) and
    starts nothing; the same form sent twice starts one case; finance may not apply (403)."""
    body = application_body()
    async with browser(app, "township") as town:
        worklist = (await town.get("/workbench")).text
        assert 'href="/workbench/applications/new"' in worklist
        page = (await town.get("/workbench/applications/new")).text
        assert 'for="new-household-0-id_number"' in page
        form = {
            "csrf": csrf_of(page),
            "idempotency_key": re.search(r'name="idempotency_key" value="(\w+)"', page)[1],  # type: ignore[index]
            "programme": "dibao",
            "area_code": body["area_code"],
            "applied_on": ago(2),
        }
        for i, m in enumerate(body["household"]):
            form |= {f"household.{i}.{k}": v for k, v in m.items()}
        bad = {**form, "household.1.id_number": "41990119720302000X"}
        r = await town.post("/workbench/applications/new", data=bad)
        assert r.status_code == 422 and 'id="new-household-1-id_number-error"' in r.text
        before = (
            await api.get(
                "/cases",
                params={"id_number": body["household"][0]["id_number"]},
                headers=auth("county"),
            )
        ).json()["items"]
        assert before == []
        r = await town.post("/workbench/applications/new", data=form)
        assert r.status_code == 303, r.text
        again = await town.post("/workbench/applications/new", data=form)
        assert again.headers["location"] == r.headers["location"]
        case_url = r.headers["location"]
        page = (await town.get(case_url)).text
        assert "accept" in offered(page)
    async with browser(app, "finance") as finance:
        r = await finance.get("/workbench/applications/new")
        assert r.status_code == 403


def test_a_crafted_form_cannot_break_the_parser() -> None:
    """Names of groups, paths through a value and unknown names are ignored, never a 500."""
    investigation = APPLICATION_STEPS["investigation"].body
    pairs = [
        ("household", "x"),
        ("household.members", "y"),
        ("household.members.0.name", "张建明"),
        ("household.members.0.name.extra", "z"),
        ("household.members.99999.name", "w"),
    ]
    assert form_data(investigation, pairs) == {"household": {"members": [{"name": "张建明"}]}}
