"""The README's saved queries for the Web UI (issue 13 item 6) run against the dev server's
visibility and find the cases they promise: due this week, overdue by township, in publicity,
awaiting decision, decision outcome. The same cases show the console text: a static summary
with the applicant masked, current details with status, next deadline and who acts."""

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from jiuzhu.clock import beijing_today, start_of_day
from tests.application.helpers import (
    card,
    create,
    household,
    investigation,
    step,
    wait_status,
)
from tests.factories import application_body

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## The Web UI as an operator's console"
STAMP = re.compile(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00"')


def saved_queries() -> dict[str, str]:
    """``| name | `query` |`` rows of the README's console section."""
    text = README.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|`]+?) \| `(.+)` \|$", section, flags=re.MULTILINE)
    return {name.strip(): query for name, query in rows}


def this_week(query: str) -> str:
    """The README's example dates replaced by the coming week and a day: a deadline's instant
    is the end of its last day (00:00 of the next), and a publicity posted today ends on the
    7th day on, so the window runs from today 00:00 to 00:00 nine days on."""
    start = start_of_day(beijing_today())
    stamps = iter([start, start + timedelta(days=9)])
    return STAMP.sub(lambda _: f'"{next(stamps).isoformat()}"', query)


def ago(days: int) -> str:
    return (beijing_today() - timedelta(days=days)).isoformat()


async def found(client: Client, query: str, expected: set[str], absent: set[str]) -> None:
    """Visibility is eventually consistent: poll until the expected ids are listed."""
    ids: set[str] = set()
    for _ in range(200):
        ids = {w.id async for w in client.list_workflows(query)}
        if expected <= ids:
            break
        await asyncio.sleep(0.1)
    if not expected <= ids:
        missing = [await client.get_workflow_handle(i).describe() for i in expected - ids]
        seen = [dict(d.search_attributes) for d in missing]
        raise AssertionError((query, seen))
    assert not (absent & ids), (query, absent & ids)
    assert (await client.count_workflows(query)).count >= len(expected)


async def paper_case(api: httpx.AsyncClient, applicant: str) -> tuple[str, dict[str, Any]]:
    body = application_body()
    body["household"][0]["name"] = applicant
    app_id, body = await create(api, {**body, "applied_on": ago(21)})
    hh = household(body, incomes={0: [("wage", "600.00")]})
    await step(api, app_id, "accept", {"accepted_on": ago(20)})
    await step(api, app_id, "investigation", {**investigation(hh), "visited_on": ago(19)})
    await wait_status(api, app_id, "awaiting_opinion")
    opinion = {"recommendation": "approve", "opinion_on": ago(15), "posted_on": ago(15)}
    await step(api, app_id, "initial-opinion", opinion)
    await wait_status(api, app_id, "awaiting_decision")
    return app_id, body


async def test_the_readme_saved_queries_find_their_cases(
    api: httpx.AsyncClient, client: Client
) -> None:
    queries = saved_queries()
    assert set(queries) >= {
        "due this week",
        "overdue by township",
        "in publicity",
        "awaiting decision",
        "decision outcome",
        "payroll months",
    }

    # Overdue: accepted on paper 10 days ago, no investigation yet.
    overdue_id, _ = await create(api, {**application_body(), "applied_on": ago(11)})
    await step(api, overdue_id, "accept", {"accepted_on": ago(10)})
    # In publicity from today (its 7 days end this week).
    publicity_id, body = await create(api)
    await step(api, publicity_id, "accept", {})
    await step(api, publicity_id, "investigation", investigation(household(body)))
    await wait_status(api, publicity_id, "awaiting_opinion")
    await step(api, publicity_id, "initial-opinion", {"recommendation": "approve"})
    await wait_status(api, publicity_id, "publicity")
    # Awaiting decision, and approved (both entered after the fact).
    waiting_id, _ = await paper_case(api, "李秀英")
    approved_id, approved_body = await paper_case(api, "张建明")
    await step(
        api,
        approved_id,
        "decision",
        {"outcome": "approve", "decided_on": ago(5), "card_account": card(approved_body)},
        who="county",
    )

    wf = {i: f"application-{i}" for i in (overdue_id, publicity_id, waiting_id, approved_id)}
    await found(client, this_week(queries["due this week"]), {wf[publicity_id]}, {wf[approved_id]})
    await found(client, queries["overdue by township"], {wf[overdue_id]}, {wf[approved_id]})
    await found(client, queries["in publicity"], {wf[publicity_id]}, {wf[waiting_id]})
    await found(client, queries["awaiting decision"], {wf[waiting_id]}, {wf[publicity_id]})
    await found(client, queries["decision outcome"], {wf[approved_id]}, {wf[waiting_id]})
    await found(
        client,
        queries["decision outcome"].replace("'approved'", "'refused'"),
        set(),
        {wf[approved_id]},
    )

    # The console text of the approved case: masked applicant, area name, outcome.
    handle = client.get_workflow_handle(wf[approved_id])
    desc = await handle.describe()
    summary = await desc.static_summary() or ""
    details = await desc.static_details() or ""
    assert summary.startswith("最低生活保障救助申请 · ") and "张*明" in summary, summary
    assert "张建明" not in summary + details and "演示县" in summary
    meta = await client.get_workflow_handle(wf[overdue_id]).query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    current = meta.current_details
    assert "**状态**：已受理待调查" in current, current
    assert "入户调查启动" in current and "已逾期" in current
    assert "乡镇/街道经办人" in current and "城关镇" in current
    approved_meta = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    assert "**结果**：已确认（批准）" in approved_meta.current_details
