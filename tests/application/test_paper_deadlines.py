"""Deadlines met on paper (issue 13 item 1): a case entered entirely after the fact, every step
with its paper date in time, keeps no reminder or escalation — those the book posted while the
steps were still being typed in are withdrawn (``voided_at`` in the outbox) and hidden from
``GET /me/messages``; a case really late on paper keeps its escalation (低保办法 Art. 15–22:
the periods run between the acts themselves)."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from jiuzhu.clock import beijing_today
from jiuzhu.db.models import OutboxMessage
from tests.application.helpers import (
    card,
    create,
    household,
    save_history,
    state,
    step,
    wait_status,
)
from tests.conftest import auth
from tests.factories import application_body


def ago(days: int) -> str:
    return (beijing_today() - timedelta(days=days)).isoformat()


def _visit(hh: dict[str, Any], on: str) -> dict[str, Any]:
    return {
        "investigators": ["王调查", "李调查"],
        "signed_by_household": True,
        "findings_zh": "入户查看住房、收入情况，与申报一致",
        "household": hh,
        "visited_on": on,
    }


def rows(engine: Engine, case_id: str) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all())


async def wait_posted(engine: Engine, case_id: str, deadline: str, kind: str) -> None:
    """The back-dated clock's reminder and escalation go out as soon as the alarm wakes."""
    for _ in range(300):
        if any(r.deadline_name == deadline and r.kind == kind for r in rows(engine, case_id)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"no {kind} for {deadline}: {[(r.kind, r.deadline_name) for r in rows(engine, case_id)]}"
    )


async def my_messages(
    api: httpx.AsyncClient, who: str, case_id: str, **params: Any
) -> list[dict[str, Any]]:
    r = await api.get("/me/messages", params={"case_id": case_id, **params}, headers=auth(who))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_case_entered_after_the_fact_in_time_keeps_no_escalation(
    api: httpx.AsyncClient, engine: Engine, client: Client
) -> None:
    app_id, body = await create(api, {**application_body(), "applied_on": ago(45)})
    hh = household(body, incomes={0: [("wage", "600.00")]})
    await step(api, app_id, "accept", {"accepted_on": ago(44)})
    # Typed in today: the investigation's clock (from 44 days ago) has long run out.
    await wait_posted(engine, app_id, "investigation_start", "escalation")
    # The overall 30 days from acceptance have run out too: both escalated to the county.
    escalated = {m["deadline_name"] for m in await my_messages(api, "county", app_id)}
    assert escalated == {"investigation_start", "overall"}

    await step(api, app_id, "investigation", _visit(hh, ago(43)))  # on paper: in time
    await wait_status(api, app_id, "awaiting_opinion")
    await step(
        api,
        app_id,
        "initial-opinion",
        {"recommendation": "approve", "opinion_on": ago(40), "posted_on": ago(40)},
    )
    await wait_status(api, app_id, "awaiting_decision")
    await wait_posted(engine, app_id, "decision", "escalation")
    s = await step(
        api,
        app_id,
        "decision",
        {"outcome": "approve", "decided_on": ago(30), "card_account": card(body)},
        who="county",
    )
    assert s["status"] == "approved"

    posted = rows(engine, app_id)
    escalations = [r for r in posted if r.kind == "escalation"]
    assert {r.deadline_name for r in escalations} >= {"investigation_start", "decision"}
    assert all(r.voided_at is not None for r in posted if r.kind in ("reminder", "escalation"))
    assert all("按期办理" in (r.voided_reason_zh or "") for r in escalations)
    for who in ("county", "township"):
        assert await my_messages(api, who, app_id) == []
    withdrawn = await my_messages(api, "county", app_id, include_void="true")
    assert withdrawn and all(m["voided_at"] for m in withdrawn)

    live = await state(api, app_id)
    met = {d["spec"]["name"]: d for d in live["deadlines"]}
    assert met["investigation_start"]["met_on"] == ago(43)
    assert met["investigation_start"]["voided_at"] is not None
    # The paper-meet-void and decision-outcome patches, replayed by tests/test_replay_all.py.
    await save_history(client, app_id, "paper_void_v3")


async def test_a_case_late_on_paper_keeps_its_escalation(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    app_id, body = await create(api, {**application_body(), "applied_on": ago(21)})
    hh = household(body, incomes={0: [("wage", "600.00")]})
    await step(api, app_id, "accept", {"accepted_on": ago(20)})
    await wait_posted(engine, app_id, "investigation_start", "escalation")
    await step(api, app_id, "investigation", _visit(hh, ago(2)))  # on paper: weeks late
    await wait_status(api, app_id, "awaiting_opinion")

    kept = [r for r in rows(engine, app_id) if r.deadline_name == "investigation_start"]
    assert {r.kind for r in kept} == {"reminder", "escalation"}
    assert all(r.voided_at is None for r in kept)
    mine = await my_messages(api, "county", app_id)
    assert [(m["kind"], m["deadline_name"]) for m in mine] == [
        ("escalation", "investigation_start")
    ]
    live = await state(api, app_id)
    d = next(d for d in live["deadlines"] if d["spec"]["name"] == "investigation_start")
    assert d["met_on"] == ago(2) and d["voided_at"] is None
