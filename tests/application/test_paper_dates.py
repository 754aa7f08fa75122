"""A case entered after the fact: publicity posted on paper runs its 7 days from the posting
date (低保办法 Art. 19), not from the day the opinion is typed in, so a case whose paper
publicity has ended goes straight to the decider; bad posting dates are refused, naming
``posted_on``, with nothing recorded."""

from datetime import date, timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.clock import beijing_today
from tests.application.helpers import (
    card,
    create,
    fast_forward,
    household,
    state,
    step,
    to_opinion,
    wait_status,
)
from tests.factories import application_body


def ago(days: int) -> str:
    return (beijing_today() - timedelta(days=days)).isoformat()


async def paper_case(api: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    body = {**application_body(), "applied_on": ago(45)}
    app_id, body = await create(api, body)
    hh = household(body, incomes={0: [("wage", "600.00")]})
    await step(api, app_id, "accept", {"accepted_on": ago(44)})
    await step(api, app_id, "investigation", {**_visit(hh), "visited_on": ago(43)})
    await wait_status(api, app_id, "awaiting_opinion")
    return app_id, body


def _visit(hh: dict[str, Any]) -> dict[str, Any]:
    return {
        "investigators": ["王调查", "李调查"],
        "signed_by_household": True,
        "findings_zh": "入户查看住房、收入情况，与申报一致",
        "household": hh,
    }


async def test_publicity_posted_on_paper_that_has_ended_goes_to_the_decider(
    api: httpx.AsyncClient,
) -> None:
    app_id, body = await paper_case(api)
    s = await step(
        api,
        app_id,
        "initial-opinion",
        {"recommendation": "approve", "opinion_on": ago(40), "posted_on": ago(40)},
    )
    s = await state(api, app_id)
    assert s["status"] == "awaiting_decision"
    publicity = s["publicity"][0]
    assert publicity["start_on"] == ago(40)
    assert publicity["end_on"] == ago(33)  # the policy's 7 calendar days from posting
    assert publicity["outcome"] == "no_objection"
    assert s["file_received_on"] == ago(33)
    actions = [e["action"] for e in s["timeline"]]
    assert actions.index("initial_opinion") < actions.index("publicity_closed")  # in that order

    s = await step(
        api,
        app_id,
        "decision",
        {"outcome": "approve", "decided_on": ago(30), "card_account": card(body)},
        who="county",
    )
    assert s["status"] == "approved"
    assert s["decision"]["on"] == ago(30)


async def test_publicity_posted_on_paper_runs_on_from_its_posting_date(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment
) -> None:
    app_id, _ = await paper_case(api)
    await step(
        api,
        app_id,
        "initial-opinion",
        {"recommendation": "approve", "opinion_on": ago(3), "posted_on": ago(3)},
    )
    s = await state(api, app_id)
    assert s["status"] == "publicity"
    assert s["publicity"][0]["start_on"] == ago(3)
    end_on = date.fromisoformat(s["publicity"][0]["end_on"])
    assert end_on == beijing_today() + timedelta(days=4)
    await fast_forward(env, client, app_id, timedelta(days=5))
    s = await wait_status(api, app_id, "awaiting_decision")
    assert s["file_received_on"] == end_on.isoformat()


async def test_bad_posting_dates_are_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    app_id, body = await create(api)
    before = await to_opinion(api, app_id, household(body))
    today = beijing_today()
    bad = [
        {"recommendation": "approve", "posted_on": (today + timedelta(days=1)).isoformat()},
        {"recommendation": "approve", "posted_on": ago(1)},
        {"recommendation": "refuse", "reason_zh": "收入超标", "posted_on": ago(1)},
        {"recommendation": "approve", "posted_on": "2026-02-30"},
    ]
    for body in bad:
        r = await step(api, app_id, "initial-opinion", body, expect=422)
        assert "posted_on" in str(r), r
    after = await state(api, app_id)
    assert after["status"] == "awaiting_opinion"
    assert after["opinions"] == before["opinions"] == []
    assert after["timeline"] == before["timeline"]
