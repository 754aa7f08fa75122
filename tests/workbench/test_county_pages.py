"""The workbench's county pages on the real server, over data of their own county 419974 (工作台
测试县, registered in the area registry for this module only): a payroll month funded by the
county's finance officer through the API and reconciled by the embedded bank, a township fund
replenished and drawn by an emergency prepayment whose justification deadline passes (reminder
to the township, escalation to the county), a complaint and a spot-check round. Each page shows
what the JSON API answers for the same officer, refuses what the API refuses, links the Temporal
Web UI, and loads no asset from elsewhere; acknowledging a message needs the form's CSRF token."""

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import Engine, text
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import rules.areas
from api.main import create_app
from jiuzhu.clock import to_beijing
from jiuzhu.contract import Role
from jiuzhu.officers import create_officer
from jiuzhu.settings import Settings
from tests.conftest import auth, token_for
from tests.entitlements.helpers import seed_accounts, wait_for
from tests.payments.support import start_until_funding
from tests.temporary.helpers import case_body, registered
from workflows.temporary.workflow import TemporaryCaseWorkflow

COUNTY = "419974"
TOWNSHIP = "419974001"
OTHER_TOWNSHIP = "419974002"
VILLAGE = "419974001001"
YEAR, MONTH = 2030, 3  # no other test pays 419974 in this month
PERIOD = f"{YEAR}-{MONTH:02d}"
AREAS_974 = [
    (COUNTY, "工作台测试县"),
    (TOWNSHIP, "北关镇"),
    (VILLAGE, "北关村"),
    (OTHER_TOWNSHIP, "南河乡"),
    (f"{OTHER_TOWNSHIP}001", "南河村"),
]
OFFICERS_974 = {
    "wb974-county": (Role.COUNTY_OFFICER, COUNTY),
    "wb974-finance": (Role.FINANCE, COUNTY),
    "wb974-township": (Role.TOWNSHIP_OFFICER, TOWNSHIP),
    "wb974-village": (Role.VILLAGE_ASSISTANT, VILLAGE),
}
WEB_UI = "http://localhost:8233/namespaces/default/workflows"


@dataclass
class Seeded:
    payroll_total: Decimal
    accounts: list[str]
    case_id: str
    escalation_id: int
    complaint_id: str
    round_id: str


@pytest.fixture(scope="module")
def county974(engine: Engine) -> Iterator[None]:
    """419974 and its townships in the area registry while this module runs (the API admits
    registered areas only), and its officers."""
    entries = [(a.code, a.name) for a in rules.areas.AREAS.values()] + AREAS_974
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules.areas, "AREAS", rules.areas._build(entries))
        for name, (role, area) in OFFICERS_974.items():
            create_officer(engine, f"officer-{name}", f"测试{name}", role, area, token_for(name))
        yield


@pytest_asyncio.fixture(scope="module")
async def app(
    settings: Settings, engine: Engine, client: Client, worker: Worker, county974: None
) -> FastAPI:
    return create_app(settings=settings, engine=engine, client=client)


@asynccontextmanager
async def browser(app: FastAPI, who: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client keeping cookies like a browser, signed in to the workbench as ``who``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as c:
        r = await c.post("/workbench/sign-in", data={"token": token_for(who)})
        assert r.status_code == 303, r.text
        yield c


def external_assets(html: str) -> list[str]:
    """What a page would load from elsewhere (stylesheets, scripts, images, frames, CSS
    imports); a link the officer follows (``<a href>``, the Web UI) is not an asset."""
    tags = re.findall(r"<(?:link|script|img|iframe|source|embed|object|video|audio)\b[^>]*>", html)
    found = [
        u for t in tags for u in re.findall(r'(?:src|href|data)=["\']((?:https?:)?//[^"\']+)', t)
    ]
    return found + re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", html)


def nav(html: str) -> list[str]:
    block = re.search(r'<nav aria-label="工作台栏目">(.*?)</nav>', html, re.S)
    return re.findall(r">([^<>]+)</a>", block.group(1)) if block else []


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


def yuan(value: Any) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):,.2f}"


@pytest_asyncio.fixture(scope="module")
async def seeded(
    app: FastAPI,
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    engine: Engine,
    settings: Settings,
) -> Seeded:
    # A payroll month: two households payable in that month only, funded by the county's
    # finance officer through the API, reconciled by the embedded bank.
    index = YEAR * 12 + MONTH - 1
    accounts = seed_accounts(engine, COUNTY, 2, prefix="WB", start_index=index, amount="500.00")
    with engine.begin() as conn:
        for case_id in accounts:
            conn.execute(
                text("UPDATE entitlement_account SET end_month = :m WHERE case_id = :c"),
                {"m": index, "c": case_id},
            )
    _, state = await start_until_funding(client, settings.task_queue, COUNTY, YEAR, MONTH)
    total = state.compiled.pending_total
    r = await api.post(
        f"/payroll/{COUNTY}/{PERIOD}/funding",
        json={"amount": str(total), "reference": "BOF-974-203003"},
        headers=auth("wb974-finance"),
    )
    assert r.status_code == 200, r.text

    async def reconciled() -> bool:
        r = await api.get(f"/payroll/{COUNTY}/{PERIOD}", headers=auth("wb974-county"))
        return r.status_code == 200 and (r.json()["run"] or {}).get("status") == "reconciled"

    await wait_for(reconciled, seconds=60, what="payroll 419974 reconciled")

    # The township fund, replenished by the county and drawn by an emergency prepayment whose
    # justification deadline passes: a reminder to the township, an escalation to the county.
    r = await api.post(
        f"/reserve-funds/{TOWNSHIP}/replenishments",
        json={"amount": "3000.00", "note_zh": "工作台测试补充备用金"},
        headers=auth("wb974-county"),
    )
    assert r.status_code == 201, r.text
    r = await api.post(
        "/temporary-cases", json=case_body(area_code=VILLAGE), headers=auth("wb974-township")
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    await registered(api, case_id, who="wb974-county")
    r = await api.post(
        f"/temporary-cases/{case_id}/prepayment",
        json={"amount": "800.00", "reason_zh": "火灾后无处安身，急需生活费"},
        headers=auth("wb974-township"),
    )
    assert r.status_code == 200, r.text
    (deadline,) = r.json()["deadlines"]
    handle = client.get_workflow_handle_for(TemporaryCaseWorkflow.run, f"temporary-{case_id}")
    remind_at = datetime.fromisoformat(deadline["remind_at"])
    due_at = datetime.fromisoformat(deadline["due_at"])
    now = await env.get_current_time(handle)
    await env.fast_forward(handle, remind_at - now + timedelta(minutes=1))
    await env.fast_forward(handle, due_at - remind_at + timedelta(hours=1))

    async def escalation() -> int | None:
        r = await api.get("/me/messages", params={"case_id": case_id}, headers=auth("wb974-county"))
        got = [m["id"] for m in r.json()["items"] if m["kind"] == "escalation"]
        return got[0] if got else None

    escalation_id = await wait_for(escalation, seconds=30, what="the county's escalation")

    # Supervision: a complaint about a payment in the village, and a spot check of a month over.
    r = await api.post(
        "/complaints",
        json={
            "channel": "hotline",
            "category": "payment",
            "summary_zh": "反映本村救助金未按时发放",
            "area_code": VILLAGE,
        },
        headers=auth("wb974-county"),
    )
    assert r.status_code == 201, r.text
    complaint_id = r.json()["complaint_id"]
    r = await api.post(
        "/spot-checks",
        json={"county_code": COUNTY, "period": "2025-06", "seed": 974},
        headers=auth("wb974-county"),
    )
    assert r.status_code == 201, r.text
    return Seeded(
        payroll_total=total,
        accounts=accounts,
        case_id=case_id,
        escalation_id=escalation_id,
        complaint_id=complaint_id,
        round_id=r.json()["round_id"],
    )


async def test_payroll_pages_show_the_reconciled_month_as_the_api_does(
    app: FastAPI, api: httpx.AsyncClient, seeded: Seeded
) -> None:
    month = (await api.get(f"/payroll/{COUNTY}/{PERIOD}", headers=auth("wb974-county"))).json()
    run = month["run"]
    assert (run["paid_count"], Decimal(run["paid_total"])) == (2, seeded.payroll_total)
    assert seeded.payroll_total == Decimal("1000.00")

    async with browser(app, "wb974-county") as county:
        r = await county.get("/workbench/payroll")
        assert r.status_code == 200, r.text
        page = r.text
        assert f'href="/workbench/payroll/{PERIOD}"' in page and "已发放并对账" in page
        assert f"2 / {yuan(run['compiled_total'])}" in page  # compiled
        assert f"2 / {yuan(run['paid_total'])}" in page  # paid
        assert (
            "凭证号 BOF-974-203003" in page and "测试wb974-finance（officer-wb974-finance）" in page
        )
        assert f'href="/workbench/payroll/{PERIOD}/bank-file"' in page
        assert f'href="/workbench/payroll/{PERIOD}/reconciliation"' in page
        assert f'href="{WEB_UI}/payroll-{COUNTY}-{PERIOD}"' in page
        assert external_assets(page) == []

        r = await county.get(f"/workbench/payroll/{PERIOD}")
        assert r.status_code == 200, r.text
        for total in month["totals"]:
            assert total["status"] == "paid"
            row = (
                f'<td class="num">{total["count"]}</td><td class="num">{yuan(total["total"])}</td>'
            )
            assert "最低生活保障" in r.text and "已发放" in r.text and row in r.text
        funded_at = to_beijing(datetime.fromisoformat(run["funded_at"]))
        assert f"<time>{funded_at:%Y-%m-%d %H:%M}</time>" in r.text  # Beijing time
        assert f'href="{WEB_UI}/payroll-{COUNTY}-{PERIOD}"' in r.text
        assert external_assets(r.text) == []

        # The downloads are the API's own answers (masked for a county officer as there).
        for name in ("bank-file", "reconciliation"):
            mine = await county.get(f"/workbench/payroll/{PERIOD}/{name}")
            theirs = await api.get(
                f"/payroll/{COUNTY}/{PERIOD}/{name}", headers=auth("wb974-county")
            )
            assert mine.status_code == theirs.status_code == 200
            assert mine.content == theirs.content and mine.content
        assert "62419974" not in (await county.get(f"/workbench/payroll/{PERIOD}/bank-file")).text

        r = await county.get("/workbench/payroll/2030-13")
        assert r.status_code == 422 and "YYYY-MM" in r.text
        r = await county.get("/workbench/payroll/2030-04")
        assert r.status_code == 404 and "没有2030-04的发放记录" in r.text

    async with browser(app, "wb974-finance") as finance:
        r = await finance.get(f"/workbench/payroll/{PERIOD}/bank-file")
        assert r.status_code == 200 and "62419974" in r.text  # finance reads accounts in clear

    # Another county's officer is refused the county (as the API refuses it); a township
    # officer's role may not read payrolls at all.
    async with browser(app, "other_county") as other:
        r = await other.get("/workbench/payroll", params={"county": COUNTY})
        assert r.status_code == 403 and PERIOD not in r.text
        r = await other.get(f"/workbench/payroll/{PERIOD}/bank-file", params={"county": COUNTY})
        assert r.status_code == 403
    async with browser(app, "township") as township:
        for path in ("/workbench/payroll", f"/workbench/payroll/{PERIOD}"):
            r = await township.get(path)
            assert r.status_code == 403 and "无权" in r.text and COUNTY not in r.text


async def test_reserve_fund_pages_show_balance_and_ledger(
    app: FastAPI, api: httpx.AsyncClient, seeded: Seeded
) -> None:
    fund = (await api.get(f"/reserve-funds/{TOWNSHIP}", headers=auth("wb974-county"))).json()
    assert Decimal(fund["balance"]) == Decimal("2200.00")
    debit = next(e for e in fund["entries"] if e["case_id"] == seeded.case_id)

    async with browser(app, "wb974-county") as county:
        r = await county.get("/workbench/reserve-funds")
        assert r.status_code == 200, r.text
        page = r.text
        assert "北关镇（419974001）" in page and "南河乡（419974002）" in page and "未设立" in page
        assert '<td class="num">2,200.00</td>' in page
        assert f'href="/workbench/cases/{seeded.case_id}"' in page
        assert "先行救助" in page and "−800.00" in page and "+3,000.00" in page
        assert f'href="{WEB_UI}/temporary-{seeded.case_id}"' in page
        assert "TownshipCode%20%3D%20%27419974001%27" in page  # the township's cases in the UI
        assert external_assets(page) == []

        r = await county.get(f"/workbench/reserve-funds/{TOWNSHIP}")
        assert r.status_code == 200 and "2,200.00 元" in r.text
        at = to_beijing(datetime.fromisoformat(debit["created_at"])).strftime("%Y-%m-%d %H:%M")
        assert f">{at}</time>" in r.text and "工作台测试补充备用金" in r.text
        r = await county.get("/workbench/reserve-funds/419901001")
        assert r.status_code == 403  # another county's township, as the API refuses it
        r = await county.get("/workbench/reserve-funds/41997400x")
        assert r.status_code == 422

    async with browser(app, "wb974-township") as township:
        r = await township.get("/workbench/reserve-funds")
        assert r.status_code == 200 and "北关镇" in r.text and "南河乡" not in r.text
    async with browser(app, "wb974-village") as village:
        r = await village.get("/workbench/reserve-funds")
        assert r.status_code == 403  # the API admits no village assistant to a fund
    async with browser(app, "township") as other:
        r = await other.get("/workbench/reserve-funds")
        assert r.status_code == 200 and COUNTY not in r.text and seeded.case_id not in r.text
        r = await other.get(f"/workbench/reserve-funds/{TOWNSHIP}")
        assert r.status_code == 403 and "2,200.00" not in r.text


async def test_supervision_page_lists_rounds_and_complaints_of_the_area(
    app: FastAPI, seeded: Seeded
) -> None:
    async with browser(app, "wb974-county") as county:
        r = await county.get("/workbench/supervision")
        assert r.status_code == 200, r.text
        assert seeded.complaint_id in r.text and "救助金未按时足额发放" in r.text
        assert (
            "投诉举报电话" in r.text and f'href="/workbench/cases/{seeded.complaint_id}"' in r.text
        )
        assert f'href="{WEB_UI}/complaint-{seeded.complaint_id}"' in r.text
        assert "2025-06" in r.text and f'href="{WEB_UI}/{seeded.round_id}"' in r.text
        assert external_assets(r.text) == []
    async with browser(app, "wb974-township") as township:
        r = await township.get("/workbench/supervision")
        assert r.status_code == 200 and 'id="h-rounds"' not in r.text  # spot checks: county
        assert 'id="h-complaints"' in r.text
    async with browser(app, "wb974-finance") as finance:
        assert (await finance.get("/workbench/supervision")).status_code == 403
    async with browser(app, "township") as other:
        r = await other.get("/workbench/supervision")
        assert r.status_code == 200 and seeded.complaint_id not in r.text


async def test_inbox_shows_my_messages_and_acknowledges_only_with_the_csrf_token(
    app: FastAPI, api: httpx.AsyncClient, seeded: Seeded
) -> None:
    mid = seeded.escalation_id
    mine = (await api.get("/me/messages", headers=auth("wb974-county"))).json()
    message = next(m for m in mine["items"] if m["id"] == mid)
    assert message["acknowledged_at"] is None

    async def acknowledged() -> Any:
        r = await api.get(
            "/me/messages", params={"case_id": seeded.case_id}, headers=auth("wb974-county")
        )
        return next(m for m in r.json()["items"] if m["id"] == mid)["acknowledged_at"]

    async with browser(app, "wb974-county") as county:
        r = await county.get("/workbench/messages")
        assert r.status_code == 200, r.text
        page = r.text
        assert message["message_zh"] in page and "逾期上报" in page
        assert [int(i) for i in re.findall(r"/workbench/messages/(\d+)/acknowledge", page)] == [
            m["id"] for m in mine["items"] if m["acknowledged_at"] is None
        ]
        assert f'href="/workbench/cases/{seeded.case_id}"' in page
        assert f'href="{WEB_UI}/temporary-{seeded.case_id}"' in page
        assert external_assets(page) == []
        assert 'for="kind"' in page and 'for="unread"' in page  # every field labelled

        action = f"/workbench/messages/{mid}/acknowledge"
        r = await county.post(action, data={})
        assert r.status_code == 403 and await acknowledged() is None
        r = await county.post(action, data={"csrf": "0" * 64})
        assert r.status_code == 403 and await acknowledged() is None
        r = await county.post(action, data={"csrf": csrf_of(page), "back": "/workbench/messages"})
        assert r.status_code == 303 and r.headers["location"] == f"/workbench/messages?done={mid}"
        at = await acknowledged()
        assert at is not None
        r = await county.get(r.headers["location"])
        assert "已标记为已读" in r.text and action not in r.text
        r = await county.get("/workbench/messages", params={"unread": "1"})
        assert action not in r.text
        r = await county.get("/workbench/messages", params={"kind": "bogus"})
        assert r.status_code == 422 and 'id="kind-error"' in r.text

    async with browser(app, "wb974-township") as township:
        # The reminder went to the township: a message of the county is not theirs to read.
        r = await township.get("/workbench/messages")
        assert r.status_code == 200 and "到期提醒" in r.text
        r = await township.post(
            f"/workbench/messages/{mid}/acknowledge", data={"csrf": csrf_of(r.text)}
        )
        assert r.status_code == 404
    async with browser(app, "township") as other:
        r = await other.get("/workbench/messages")
        assert r.status_code == 200 and seeded.case_id not in r.text


async def test_navigation_offers_only_the_pages_of_the_role(app: FastAPI, seeded: Seeded) -> None:
    expected = {
        "wb974-county": ["待办", "发放", "备用金", "监督", "消息"],
        "wb974-finance": ["待办", "发放", "备用金", "消息"],
        "wb974-township": ["待办", "备用金", "监督", "消息"],
        "wb974-village": ["待办", "消息"],
    }
    for who, links in expected.items():
        async with browser(app, who) as c:
            r = await c.get("/workbench/messages")
            assert nav(r.text) == links, who
            assert '<a href="/workbench/messages" aria-current="page">消息</a>' in r.text
            assert nav((await c.get("/workbench")).text) == links  # the worklist too
    async with browser(app, "wb974-county") as county:
        r = await county.get("/workbench/payroll")
        assert '<a href="/workbench/payroll" aria-current="page">发放</a>' in r.text
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jiuzhu.test"
    )
    async with anonymous:
        assert nav((await anonymous.get("/workbench")).text) == []
        for path in ("/workbench/payroll", "/workbench/reserve-funds", "/workbench/messages"):
            assert (await anonymous.get(path)).status_code == 303
        r = await anonymous.post(f"/workbench/messages/{seeded.escalation_id}/acknowledge")
        assert r.status_code == 303
