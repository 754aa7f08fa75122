"""Overpayment recoveries (追回多发救助金): the receivables opened when a death dated before
payments already made is recorded — listed from the read model (``case_record``, kind
``recovery``), the live detail from the workflow's query, and the county officer's two steps as
workflow Updates: a repayment recorded, and the county's write-off decision recorded. Steps are
idempotent per ``Idempotency-Key`` (``api/idempotency.py``)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client

from api.db import Database, DatabaseDep
from api.deps import IdempotencyKeyHeader, TemporalClientDep, ensure_area, require_roles
from api.updates import case_row, case_state, run_case_step
from api.validators import FreeText, Limit, Offset, PaperDate, PersonName, PositiveMoney, ShortText
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from workflows.recoveries.contract import PayerKind, RecoveryStatus
from workflows.recoveries.models import (
    RecordRepayment,
    RecoveryState,
    RecoveryStepResult,
    WriteOff,
)
from workflows.recoveries.workflow import OverpaymentRecoveryWorkflow

router = APIRouter(prefix="/recoveries", tags=["recoveries"])

READERS = (Role.COUNTY_OFFICER, Role.FINANCE, Role.AUDITOR, Role.ADMIN)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
CountyOfficer = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER))]


class RecoverySummary(BaseModel):
    recovery_id: str
    status: str
    area_code: str
    county_code: str
    household_id: str
    entitlement_id: str | None
    programme: str
    cause: str  # death | ended (an entitlement ended after months already paid)
    person_name: str  # the deceased, or the ended entitlement's applicant
    deceased_name: str | None  # a death's receivable only
    amount: Decimal
    balance: Decimal
    due_date: str | None
    overdue: bool
    updated_at: datetime


class RecoveryPage(BaseModel):
    items: list[RecoverySummary]
    total: int
    offset: int
    limit: int


class RepaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: PositiveMoney = Field(gt=0, max_digits=12, decimal_places=2)
    payer_kind: PayerKind
    payer_name: PersonName | None = None
    reference: ShortText = Field(min_length=1, max_length=100)
    paid_on: PaperDate


class WriteOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_number: ShortText = Field(min_length=1, max_length=100)
    decided_on: PaperDate
    reason_zh: FreeText = Field(min_length=1, max_length=1000)


def recovery_row(session: Session, actor: Actor, recovery_id: str) -> CaseRecord:
    return case_row(
        session, actor, CaseKind.RECOVERY, recovery_id, f"recovery {recovery_id} not found"
    )


def recovery_page(
    session: Session, scope: str, status: str | None, offset: int, limit: int
) -> RecoveryPage:
    query = select(CaseRecord).where(
        CaseRecord.case_kind == CaseKind.RECOVERY.value,
        col(CaseRecord.area_code).startswith(scope),
    )
    if status:
        query = query.where(CaseRecord.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(CaseRecord.updated_at).desc()).offset(offset).limit(limit)
    ).all()
    return RecoveryPage(
        items=[
            RecoverySummary(
                recovery_id=r.case_id,
                status=r.status,
                area_code=r.area_code,
                county_code=r.county_code,
                household_id=r.household_id,
                entitlement_id=r.linked_case_id,
                programme=r.programme,
                cause=str(r.detail.get("cause", "death")),
                person_name=r.applicant_name,
                deceased_name=r.applicant_name
                if r.detail.get("cause", "death") == "death"
                else None,
                amount=Decimal(str(r.detail.get("amount", "0"))),
                balance=Decimal(str(r.detail.get("balance", "0"))),
                due_date=r.detail.get("due_date"),
                overdue=r.overdue,
                updated_at=r.updated_at,
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("", response_model=RecoveryPage)
async def list_recoveries(
    actor: Reader,
    db: DatabaseDep,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    status: RecoveryStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> RecoveryPage:
    """Receivables inside my area (or the county given), newest first, by status."""
    if county_code:
        ensure_area(actor, county_code)
    scope = county_code or actor.area_code
    return await db.read(recovery_page, scope, status.value if status else None, offset, limit)


async def live_state(client: Client, recovery_id: str) -> RecoveryState:
    handle = client.get_workflow_handle_for(OverpaymentRecoveryWorkflow.run, recovery_id)
    state: RecoveryState = await case_state(
        handle, OverpaymentRecoveryWorkflow.get_state, f"recovery {recovery_id} not found"
    )
    return state


@router.get("/{recovery_id}", response_model=RecoveryState)
async def get_recovery(
    recovery_id: str, actor: Reader, db: DatabaseDep, client: TemporalClientDep
) -> RecoveryState:
    """The receivable's live state: lines overpaid, repayments, write-off, deadline."""
    await db.read(recovery_row, actor, recovery_id)
    return await live_state(client, recovery_id)


async def run_step(
    db: Database,
    client: Client,
    actor: Actor,
    recovery_id: str,
    update: object,
    arg: BaseModel,
    body: BaseModel,
    idempotency_key: str | None,
) -> RecoveryStepResult:
    """Check the officer may see the receivable, then run one Update once per
    ``Idempotency-Key``; a receivable already closed answers 409."""
    await db.read(recovery_row, actor, recovery_id)
    handle = client.get_workflow_handle_for(OverpaymentRecoveryWorkflow.run, recovery_id)
    return await run_case_step(
        db,
        actor,
        handle,
        recovery_id,
        update,
        arg,
        body,
        idempotency_key,
        RecoveryStepResult,
        closed_zh="追回事项已办结",
        log_as="recovery_id",
    )


@router.post("/{recovery_id}/repayments", response_model=RecoveryStepResult)
async def record_repayment(
    recovery_id: str,
    body: RepaymentIn,
    actor: CountyOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RecoveryStepResult:
    """A county officer records money repaid by the estate, a next of kin or the recipient
    (at most the balance; the receivable closes at 0)."""
    cmd = RecordRepayment(
        actor=actor,
        amount=body.amount,
        payer_kind=body.payer_kind,
        payer_name=body.payer_name or "",
        reference=body.reference,
        paid_on=body.paid_on,
    )
    return await run_step(
        db,
        client,
        actor,
        recovery_id,
        OverpaymentRecoveryWorkflow.record_repayment,
        cmd,
        body,
        idempotency_key,
    )


@router.post("/{recovery_id}/write-off", response_model=RecoveryStepResult)
async def write_off(
    recovery_id: str,
    body: WriteOffIn,
    actor: CountyOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> RecoveryStepResult:
    """A county officer records the county's decision writing off the remaining balance."""
    cmd = WriteOff(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        recovery_id,
        OverpaymentRecoveryWorkflow.write_off,
        cmd,
        body,
        idempotency_key,
    )
