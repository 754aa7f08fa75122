"""Helpers for the temporary-assistance tests: request bodies, API calls and DB probes filtered
by the test's own case ids (the session database is shared)."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from jiuzhu.clock import BEIJING
from jiuzhu.db.models import AuditEntry, OutboxMessage, PaymentInstruction
from jiuzhu.db.models_temporary import ReserveFund, ReserveFundEntry
from tests.conftest import auth
from tests.factories import id_number

HISTORIES = Path(__file__).parent / "histories"
TOWNSHIP = "419901001"
COUNTY = "419901"


def today() -> date:
    return datetime.now(BEIJING).date()


def case_body(
    *,
    procedure: str = "emergency",
    area_code: str = "419901001001",
    applicant_id: str | None = None,
    spouse_id: str | None = None,
    event_type: str = "fire",
    event_date: date | None = None,
    requested_amount: str | None = None,
    repeat_reason: str | None = None,
) -> dict[str, Any]:
    """An applicant registered in Beijing (110101): registration elsewhere does not matter."""
    household = [
        {
            "name": "赵大勇",
            "id_number": applicant_id or id_number(area6="110101"),
            "relation": "applicant",
        }
    ]
    if spouse_id:
        household.append({"name": "钱小梅", "id_number": spouse_id, "relation": "spouse"})
    body: dict[str, Any] = {
        "procedure": procedure,
        "area_code": area_code,
        "household": household,
        "event": {
            "event_type": event_type,
            "event_date": (event_date or today() - timedelta(days=1)).isoformat(),
            "description_zh": "夜间住房失火，家中财物损毁",
        },
        "card_account": {"account_number": "6217000000000001234", "bank_code": "CCB"},
    }
    if requested_amount is not None:
        body["requested_amount"] = requested_amount
    if repeat_reason is not None:
        body["repeat_reason"] = repeat_reason
    return body


def justification_body(amount: str) -> dict[str, Any]:
    return {
        "reason_zh": "住房失火，生活必需品全部损毁，先行救助解决临时基本生活",
        "amount": amount,
        "investigation": {
            "investigators": ["孙经办", "周协理"],
            "investigated_on": today().isoformat(),
            "findings_zh": "入户核实火灾属实，家庭无其他收入来源",
        },
        "opinion_zh": "情况属实，同意先行救助",
    }


async def create_case(api: httpx.AsyncClient, who: str = "township", **kw: Any) -> dict[str, Any]:
    r = await api.post("/temporary-cases", json=case_body(**kw), headers=auth(who))
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def registered(api: httpx.AsyncClient, case_id: str, who: str = "county") -> dict[str, Any]:
    """The live state once registration (policy, link) is recorded."""
    return await poll(api, case_id, lambda s: s["policy_version_id"] is not None, who)


async def poll(
    api: httpx.AsyncClient,
    case_id: str,
    cond: Callable[[dict[str, Any]], bool],
    who: str = "county",
    tries: int = 100,
) -> dict[str, Any]:
    for _ in range(tries):
        r = await api.get(f"/temporary-cases/{case_id}", headers=auth(who))
        if r.status_code == 200 and cond(r.json()):
            state: dict[str, Any] = r.json()
            return state
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not reached for {case_id}: {r.text}")


async def eventually(check: Callable[[], Awaitable[bool]], tries: int = 100) -> None:
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def replenish(
    api: httpx.AsyncClient, township: str, amount: str, who: str = "county"
) -> Decimal:
    r = await api.post(
        f"/reserve-funds/{township}/replenishments",
        json={"amount": amount, "note_zh": "测试补充备用金"},
        headers=auth(who),
    )
    assert r.status_code == 201, r.text
    return Decimal(r.json()["balance"])


def fund_balance(engine: Engine, township: str) -> Decimal:
    with Session(engine) as s:
        fund = s.get(ReserveFund, township)
        return Decimal(fund.balance_fen if fund else 0) / 100


def ledger(engine: Engine, case_ids: list[str]) -> list[ReserveFundEntry]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(ReserveFundEntry)
                .where(col(ReserveFundEntry.case_id).in_(case_ids))
                .order_by(col(ReserveFundEntry.id))
            ).all()
        )


def payments(engine: Engine, case_ids: list[str]) -> list[PaymentInstruction]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(PaymentInstruction)
                .where(col(PaymentInstruction.case_id).in_(case_ids))
                .order_by(col(PaymentInstruction.id))
            ).all()
        )


def outbox(engine: Engine, workflow_id: str) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.workflow_id == workflow_id)).all()
    return sorted((r.kind, r.recipient_role, r.recipient_area) for r in rows)


def audit_actions(engine: Engine, case_id: str) -> list[str]:
    with Session(engine) as s:
        rows = s.exec(
            select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(col(AuditEntry.at))
        ).all()
    return [r.action for r in rows]


def balance_is_ledger_sum(engine: Engine, township: str) -> bool:
    """The fund's balance equals its credits minus its debits."""
    with Session(engine) as s:
        entries = s.exec(
            select(ReserveFundEntry).where(ReserveFundEntry.township_code == township)
        ).all()
        fund = s.get(ReserveFund, township)
    total = sum(e.amount_fen if e.direction == "credit" else -e.amount_fen for e in entries)
    return fund is not None and fund.balance_fen == total and fund.balance_fen >= 0


async def assert_replays(handle: Any, save_as: str | None = None) -> None:
    """The recorded history replays deterministically against the current workflow code. With
    ``JIUZHU_WRITE_HISTORY=1`` and ``save_as``, the history is also saved as
    ``tests/temporary/histories/<save_as>.json`` for ``test_replay.py``."""
    from temporalio.worker import Replayer

    from tests.conftest import TEST_CONVERTER
    from workflows.applications.workflow import ApplicationWorkflow
    from workflows.sandbox import workflow_runner
    from workflows.temporary.workflow import TemporaryCaseWorkflow

    history = await handle.fetch_history()
    if save_as is not None and os.environ.get("JIUZHU_WRITE_HISTORY") == "1":
        HISTORIES.mkdir(exist_ok=True)
        (HISTORIES / f"{save_as}.json").write_text(history.to_json())
    replayer = Replayer(
        workflows=[TemporaryCaseWorkflow, ApplicationWorkflow],
        data_converter=TEST_CONVERTER,
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(history)
