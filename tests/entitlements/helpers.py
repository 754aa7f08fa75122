"""Helpers for entitlement and payroll tests: approved cases, payroll runs for explicit months,
read-model seeding straight in SQL, and payment queries scoped to a test's own cases."""

import asyncio
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy

from jiuzhu.at_rest import read_clear
from jiuzhu.codec import KeyRing
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models import PaymentInstruction
from jiuzhu.db.models_payments import EntitlementAccount
from jiuzhu.household_ids import household_id_for
from rules.household import Household, Hukou, Member, Relation
from rules.id_number import make_id_number
from rules.programmes import Programme
from tests.conftest import TEST_CODEC_KEYS
from workflows.entitlements.contract import (
    CardAccount,
    entitlement_workflow_id,
    initial_search_attributes,
)
from workflows.entitlements.models import EntitlementInput, EntitlementState
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.models import FundingConfirmation, PayrollInput, PayrollState
from workflows.payments.payroll import PayrollWorkflow

_seq = itertools.count(100)


def actor(role: Role, area: str, name: str = "officer") -> Actor:
    return Actor(officer_id=f"{name}-{role.value}-{area}", name=name, role=role, area_code=area)


def new_id(area6: str, birth: date) -> str:
    return make_id_number(area6, birth, f"{next(_seq) % 1000:03d}")


def approved_case(
    area_code: str,
    *,
    programme: str = "dibao",
    start_month: date = date(2027, 2, 1),
    amount: str = "600.00",
    members: int = 2,
    can_work: bool = False,
    centralised: bool = False,
    account: str | None = None,
) -> EntitlementInput:
    area6 = area_code[:6]
    people = [
        Member(
            name="王大山",
            id_number=new_id(area6, date(1968, 4, 9)),
            relation=Relation.APPLICANT,
            birth_date=date(1968, 4, 9),
            hukou=Hukou.RURAL,
        )
    ]
    for i in range(1, members):
        birth = date(1990 + i, 3, 2)
        people.append(
            Member(
                name=f"王小{i}",
                id_number=new_id(area6, birth),
                relation=Relation.CHILD,
                birth_date=birth,
                hukou=Hukou.RURAL,
            )
        )
    applicant = people[0]
    household_id = household_id_for(applicant.id_number, area_code)
    return EntitlementInput(
        application_id=f"A{household_id[1:]}",
        household_id=household_id,
        programme=Programme(programme),
        area_code=area_code,
        household=Household(members=people),
        monthly_amount=Decimal(amount),
        start_month=start_month,
        approved_at=datetime.now(UTC),
        approved_by=actor(Role.COUNTY_OFFICER, area_code[:6], "approver"),
        policy_version_id="test",
        card_account=CardAccount(
            holder_name=applicant.name,
            holder_id_number=applicant.id_number,
            account_number=account or f"6217{next(_seq):012d}",
        ),
        members_can_work=can_work,
        centralised=centralised,
        institution_name="演示县敬老院" if centralised else None,
    )


async def start_entitlement(
    client: Client, task_queue: str, inp: EntitlementInput
) -> WorkflowHandle[EntitlementWorkflow, EntitlementState]:
    return await client.start_workflow(
        EntitlementWorkflow.run,
        inp,
        id=entitlement_workflow_id(inp.household_id, inp.programme.value),
        task_queue=task_queue,
        search_attributes=initial_search_attributes(inp),
    )


async def wait_for(predicate: Any, seconds: float = 20.0, what: str = "condition") -> Any:
    """Poll a synchronous or async predicate until it returns something truthy."""
    end = asyncio.get_running_loop().time() + seconds
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def account_row(engine: Engine, case_id: str) -> EntitlementAccount | None:
    with Session(engine) as s:
        return s.exec(
            select(EntitlementAccount).where(EntitlementAccount.case_id == case_id)
        ).first()


async def wait_published(engine: Engine, case_id: str, revision_at_least: int = 1) -> None:
    def ok() -> bool:
        row = account_row(engine, case_id)
        return row is not None and row.revision >= revision_at_least

    await wait_for(ok, what=f"read model of {case_id}")


async def run_payroll(
    client: Client,
    task_queue: str,
    county: str,
    year: int,
    month: int,
    *,
    chunk_size: int = 5000,
    fund: bool = True,
) -> PayrollState:
    """Start the month's payroll explicitly (schedules run on wall-clock time), confirm the
    funding as county finance once the list is compiled, and wait for the result."""
    handle = await client.start_workflow(
        PayrollWorkflow.run,
        PayrollInput(county_code=county, year=year, month=month, chunk_size=chunk_size),
        id=payroll_workflow_id(county, year, month),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    state = await wait_for(
        lambda: _settled(handle), seconds=60, what=f"payroll {county} {year}-{month}"
    )
    if state.status is PayrollStatus.AWAITING_FUNDING and fund:
        assert state.compiled is not None
        await handle.execute_update(
            PayrollWorkflow.confirm_funding,
            FundingConfirmation(
                actor=actor(Role.FINANCE, county, "finance"),
                amount=state.compiled.pending_total,
                reference=f"BOF-{county}-{year}{month:02d}",
            ),
        )
    return await handle.result()


async def _settled(handle: WorkflowHandle[Any, Any]) -> PayrollState | None:
    state: PayrollState = await handle.query(PayrollWorkflow.get_state)
    if state.status in (
        PayrollStatus.AWAITING_FUNDING,
        PayrollStatus.NOTHING_TO_PAY,
        PayrollStatus.RECONCILED,
    ):
        return state
    return None


def payments(engine: Engine, case_id: str) -> list[PaymentInstruction]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(PaymentInstruction)
                .where(PaymentInstruction.case_id == case_id)
                .order_by(col(PaymentInstruction.period))
            ).all()
        )


def months_between(first: date, last: date) -> list[str]:
    out = []
    d = first
    while d <= last:
        out.append(f"{d.year:04d}-{d.month:02d}")
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def seed_accounts(
    engine: Engine,
    county: str,
    n: int,
    *,
    programme: str = "dibao",
    amount: str = "500.00",
    start_index: int = 2020 * 12,
    prefix: str = "S",
    centralised: bool = False,
) -> list[str]:
    """Seed ``n`` active entitlements of a county straight into the read model (no
    workflows): for payroll tests and the benchmark."""
    rows: list[dict[str, Any]] = []
    now = datetime.now(UTC).isoformat(sep=" ")
    for i in range(n):
        hh = f"H{prefix}{county}{i:07d}"
        rows.append(
            {
                "case_id": f"{hh}-{programme}",
                "workflow_id": f"entitlement-{hh}-{programme}",
                "household_id": hh,
                "programme": programme,
                "area_code": f"{county}001001",
                "county_code": county,
                "township_code": f"{county}001",
                "status": "active",
                "centralised": centralised,
                "monthly_amount": amount,
                "payable_amount": amount,
                "members_total": 2,
                "members_paid": 2,
                "start_month": start_index,
                "payee_name": f"户主{i}",
                "payee_id_number": f"{county}19700101{i % 1000:03d}X",
                "card_account": f"62{county}{i:010d}",
                "bank_code": "",
                "revision": 1,
                "updated_at": now,
            }
        )
    cols = list(rows[0])
    sql = text(
        f"INSERT INTO entitlement_account ({', '.join(cols)}) "
        f"VALUES ({', '.join(':' + c for c in cols)})"
    )
    with engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(sql, rows[i : i + 20_000])
    return [r["case_id"] for r in rows]


def read_text(path: str) -> str:
    """A bank file's text, also once reconciled and sealed (``jiuzhu/at_rest.py``) under the
    tests' key ring."""
    return read_clear(Path(path), KeyRing.parse_env(TEST_CODEC_KEYS)).decode("utf-8")
