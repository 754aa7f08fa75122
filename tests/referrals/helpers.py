"""Helpers of the referral tests: an approved 低保 household entered on paper (publicity already
over, so no clock needs moving), a referral body, and DB probes filtered by the test's ids."""

import asyncio
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from jiuzhu.clock import beijing_today
from jiuzhu.db.models import CaseRecord, OutboxMessage
from jiuzhu.household_ids import household_id_for
from tests.application.helpers import card, create, household, step, wait_status
from tests.factories import application_body

HISTORIES = Path(__file__).parent / "histories"


def ago(days: int) -> str:
    return (beijing_today() - timedelta(days=days)).isoformat()


async def approved_dibao(
    api: httpx.AsyncClient, ill: int | None = 1
) -> tuple[str, dict[str, Any], str]:
    """A 低保 application entered after the fact and approved 30 days ago, member ``ill``
    seriously ill; returns (application id, body, household id)."""
    body = {**application_body(), "applied_on": ago(45)}
    app_id, body = await create(api, body)
    hh = household(body, incomes={0: [("wage", "600.00")]})
    if ill is not None:
        hh["members"][ill]["serious_illness"] = True
    await step(api, app_id, "accept", {"accepted_on": ago(44)})
    await step(
        api,
        app_id,
        "investigation",
        {
            "investigators": ["王调查", "李调查"],
            "signed_by_household": True,
            "findings_zh": "入户查看住房、收入情况，与申报一致；配偶患重病长期住院",
            "household": hh,
            "visited_on": ago(43),
        },
    )
    await wait_status(api, app_id, "awaiting_opinion")
    await step(
        api,
        app_id,
        "initial-opinion",
        {"recommendation": "approve", "opinion_on": ago(40), "posted_on": ago(40)},
    )
    await wait_status(api, app_id, "awaiting_decision")
    s = await step(
        api,
        app_id,
        "decision",
        {"outcome": "approve", "decided_on": ago(30), "card_account": card(body)},
        who="county",
    )
    assert s["status"] == "approved"
    applicant = body["household"][0]["id_number"]
    return app_id, body, household_id_for(applicant, body["area_code"])


async def wait_for(check: Callable[[], bool], what: str = "condition", tries: int = 300) -> None:
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def has_row(engine: Engine, case_id: str) -> bool:
    with Session(engine) as s:
        return s.get(CaseRecord, case_id) is not None


def outbox(engine: Engine, referral_id: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.case_id == referral_id)).all()
    return sorted(f"{r.kind}:{r.recipient_role}:{r.recipient_area}" for r in rows)


async def keep(client: Client, workflow_id: str, name: str) -> None:
    """With ``JIUZHU_WRITE_HISTORY=1``, save the history for the replay tests."""
    if os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json())
