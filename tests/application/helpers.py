"""Helpers for the application tests: households for the investigation, one call per step, and
waits on the live state (the background verification) — all through the API."""

import asyncio
import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.db.models import AuditEntry, CaseRecord, OutboxMessage
from rules.id_number import birth_date_from_id
from tests.conftest import auth
from tests.factories import application_body, id_number

CARD = {"account_number": "6217001234567890123", "bank_code": "ICBC"}


def member(
    m: dict[str, Any], incomes: list[tuple[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "name": m["name"],
        "id_number": m["id_number"],
        "relation": m["relation"],
        "birth_date": birth_date_from_id(m["id_number"]).isoformat(),
        "hukou": "rural",
        "incomes": [{"kind": k, "monthly_amount": a} for k, a in (incomes or [])],
        **extra,
    }


def household(
    body: dict[str, Any],
    incomes: dict[int, list[tuple[str, str]]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The investigated household of an application body; ``incomes`` by member index."""
    members = [member(m, (incomes or {}).get(i)) for i, m in enumerate(body["household"])]
    return {"members": members, **extra}


def investigation(hh: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "investigators": ["王调查", "李调查"],
        "signed_by_household": True,
        "findings_zh": "入户查看住房、收入情况，与申报一致",
        **extra,
    }
    if hh is not None:
        body["household"] = hh
    return body


def card(body: dict[str, Any]) -> dict[str, Any]:
    applicant = body["household"][0]
    return {"holder_name": applicant["name"], "holder_id_number": applicant["id_number"], **CARD}


async def create(
    api: httpx.AsyncClient, body: dict[str, Any] | None = None, who: str = "township"
) -> tuple[str, dict[str, Any]]:
    body = body or application_body()
    r = await api.post("/applications", json=body, headers=auth(who))
    assert r.status_code == 201, r.text
    return r.json()["application_id"], body


async def step(
    api: httpx.AsyncClient,
    app_id: str,
    path: str,
    body: dict[str, Any],
    who: str = "township",
    expect: int = 200,
) -> dict[str, Any]:
    r = await api.post(f"/applications/{app_id}/{path}", json=body, headers=auth(who))
    assert r.status_code == expect, (path, r.status_code, r.text)
    result: dict[str, Any] = r.json()
    return result


async def state(api: httpx.AsyncClient, app_id: str, who: str = "county") -> dict[str, Any]:
    r = await api.get(f"/applications/{app_id}", headers=auth(who))
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def wait_status(
    api: httpx.AsyncClient, app_id: str, status: str, seconds: float = 30, who: str = "county"
) -> dict[str, Any]:
    """Poll the live state until the workflow reaches ``status`` (verification and timers run in
    the background)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        s = await state(api, app_id, who)
        if s["status"] == status:
            return s
        assert loop.time() < end, f"still {s['status']}, waiting for {status}"
        await asyncio.sleep(0.05)


async def to_opinion(
    api: httpx.AsyncClient, app_id: str, hh: dict[str, Any] | None, **accept: Any
) -> dict[str, Any]:
    """Accept, investigate, and wait for verification and the means test."""
    await step(api, app_id, "accept", accept)
    await step(api, app_id, "investigation", investigation(hh))
    return await wait_status(api, app_id, "awaiting_opinion")


async def fast_forward(
    env: WorkflowEnvironment, client: Client, app_id: str, delta: timedelta
) -> None:
    await env.fast_forward(client.get_workflow_handle(f"application-{app_id}"), delta)


async def through_publicity(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, app_id: str
) -> dict[str, Any]:
    await step(api, app_id, "initial-opinion", {"recommendation": "approve"})
    await fast_forward(env, client, app_id, timedelta(days=8))
    return await wait_status(api, app_id, "awaiting_decision")


def deadline(s: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [d for d in s["deadlines"] if d["spec"]["name"] == name]
    assert found, f"no deadline {name}"
    return found[-1]


def outbox(engine: Engine, case_id: str) -> list[tuple[str, str, str, str | None]]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
    return sorted((r.kind, r.recipient_role, r.recipient_area, r.deadline_name) for r in rows)


def audit(engine: Engine, case_id: str) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(col(AuditEntry.id))
            ).all()
        )


def case_record(engine: Engine, case_id: str) -> CaseRecord:
    with Session(engine) as s:
        row = s.get(CaseRecord, case_id)
    assert row is not None
    return row


HISTORIES = Path(__file__).parent / "histories"


async def save_history(client: Client, app_id: str, name: str) -> None:
    """With ``JIUZHU_WRITE_HISTORY=1``, record the case's history for the replay test."""
    if os.environ.get("JIUZHU_WRITE_HISTORY"):
        history = await client.get_workflow_handle(f"application-{app_id}").fetch_history()
        (HISTORIES / f"{name}.json").write_text(history.to_json())


def events_of(raw: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The events of one type (``TIMER_STARTED`` …) in a history as JSON."""
    return [e for e in raw["events"] if e["eventType"] == f"EVENT_TYPE_{kind}"]


def parse_dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def wait_outbox(
    engine: Engine, case_id: str, expected: list[tuple[str, str, str, str | None]]
) -> None:
    """Reminders are written by an activity just after the timer fires: wait a moment."""
    for _ in range(200):
        if outbox(engine, case_id) == expected:
            return
        await asyncio.sleep(0.05)
    assert outbox(engine, case_id) == expected


def money(value: Any) -> Decimal:
    return Decimal(str(value))


__all__ = ["application_body", "id_number"]
