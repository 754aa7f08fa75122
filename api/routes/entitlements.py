"""Entitlements (DOMAIN §5): list (read model), detail with payment history (live query + the
payment table), and the human steps as workflow Updates — report a change, close an
investigation, record a review outcome, record a work refusal, change the card account — plus
the written notices."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.db import Database, DatabaseDep
from api.deps import (
    CurrentOfficer,
    IdempotencyKeyHeader,
    SessionDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.errors import ProblemError
from api.idempotency import keyed_step, update_id
from api.validators import (
    BankAccount,
    FreeText,
    IdNumber,
    Limit,
    Money,
    Offset,
    OptionalFreeText,
    PaperDate,
    PayeeName,
    PositiveMoney,
)
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models import PaymentInstruction
from jiuzhu.db.models_payments import EntitlementAccount, EntitlementNotice
from rules.household import SelfCareAssessment
from rules.id_number import validate_id_number
from rules.reasons import ReasonCode
from workflows.entitlements.contract import CardAccount
from workflows.entitlements.models import (
    CardAccountChange,
    ChangeKind,
    ChangeReceipt,
    ChangeReport,
    EntitlementState,
    InvestigationClose,
    MoveOut,
    MoveOutResult,
    ReviewOutcome,
    ReviewOutcomeKind,
    ReviewResult,
    SelfCareReassessment,
    SelfCareResult,
    TransferCheck,
    WorkRefusal,
    WorkRefusalResult,
)
from workflows.entitlements.workflow import EntitlementWorkflow

router = APIRouter(prefix="/entitlements", tags=["entitlements"])
log = structlog.get_logger("jiuzhu.api.entitlements")

REPORTERS = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
INVESTIGATORS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
Reporter = Annotated[Actor, Depends(require_roles(*REPORTERS))]
Investigator = Annotated[Actor, Depends(require_roles(*INVESTIGATORS))]
CountyOfficer = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER))]


async def run_update(
    handle: WorkflowHandle[Any, Any], update: Any, arg: Any, update_id: str | None = None
) -> Any:
    """Run a workflow Update; a refusal propagates to the one handler in ``api/errors.py``
    (403/404/409/422 naming the field). An entitlement that has ended answers 409."""
    try:
        return await handle.execute_update(update, arg, id=update_id)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ProblemError(409, "Conflict", "救助已终止") from None
        raise


# --- schemas ---------------------------------------------------------------------------
class PaymentLine(BaseModel):
    period: str
    kind: str
    amount: Decimal
    status: str
    failure_reason: str | None
    paid_at: Any


class NoticeSummary(BaseModel):
    notice_id: str
    kind: str
    title: str
    issued_on: date


class EntitlementDetail(BaseModel):
    state: EntitlementState
    payments: list[PaymentLine]
    notices: list[NoticeSummary]


class EntitlementSummary(BaseModel):
    entitlement_id: str
    household_id: str
    programme: str
    status: str
    area_code: str
    payable_amount: Decimal
    members_paid: int
    next_review: date | None
    payee_name: str


class EntitlementPage(BaseModel):
    items: list[EntitlementSummary]
    total: int
    offset: int
    limit: int


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ChangeKind
    member_id_number: IdNumber | None = None
    description_zh: FreeText = Field(min_length=1, max_length=500)
    occurred_on: PaperDate | None = None

    @field_validator("member_id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return None if v is None else validate_id_number(v)


class InvestigationCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding_zh: FreeText = Field(min_length=1, max_length=1000)
    open_review: bool = False


class ReviewOutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: ReviewOutcomeKind
    reasons_zh: FreeText = Field(min_length=1, max_length=1000)
    reason_code: ReasonCode | None = None
    new_amount: PositiveMoney | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)
    per_capita_income: Money | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    transfer_check: TransferCheck | None = None


class SelfCareAssessmentIn(BaseModel):
    """The re-assessment of a reported self-care change on the six activities (``true`` = the
    person can do it), closing that change's investigation (特困办法 Art. 20–23)."""

    model_config = ConfigDict(extra="forbid")

    investigation_id: str = Field(min_length=1, max_length=40)
    assessment: SelfCareAssessment
    assessed_on: PaperDate | None = None
    note_zh: OptionalFreeText = Field(default="", max_length=500)


class WorkRefusalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id_number: IdNumber
    justified: bool
    description_zh: FreeText = Field(min_length=1, max_length=500)

    @field_validator("member_id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return validate_id_number(v)


class MoveOutIn(BaseModel):
    """成员迁出 (分户): who left the household, when, why."""

    model_config = ConfigDict(extra="forbid")

    member_id_number: IdNumber
    moved_on: PaperDate | None = None
    reason_zh: FreeText = Field(min_length=1, max_length=500)

    @field_validator("member_id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return validate_id_number(v)


class CardAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holder_name: PayeeName = Field(min_length=1, max_length=50)
    holder_id_number: IdNumber
    account_number: BankAccount = Field(pattern=r"^\d{12,30}$")
    bank_code: str = Field(default="", max_length=20)

    @field_validator("holder_id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return validate_id_number(v)


# --- helpers ---------------------------------------------------------------------------
def account(session: Session, actor: Actor, entitlement_id: str) -> EntitlementAccount:
    row = session.exec(
        select(EntitlementAccount).where(EntitlementAccount.case_id == entitlement_id)
    ).first()
    if row is None:
        raise HTTPException(404, f"entitlement {entitlement_id} not found")
    ensure_area(actor, row.area_code)
    structlog.contextvars.bind_contextvars(entitlement_id=entitlement_id)
    return row


def handle_for(
    client: Client, row: EntitlementAccount
) -> WorkflowHandle[EntitlementWorkflow, EntitlementState]:
    return client.get_workflow_handle_for(EntitlementWorkflow.run, row.workflow_id)


R = TypeVar("R", bound=BaseModel)


async def run_step(
    db: Database,
    client: Client,
    actor: Actor,
    entitlement_id: str,
    update: Any,
    arg: Any,
    body: BaseModel,
    idempotency_key: str | None,
    answer_type: type[R],
    on: str = "",
) -> R:
    """Check the officer may see the entitlement, then run one Update (once per
    ``Idempotency-Key``: a retry with the same key and body gets the recorded answer; ``on``
    names the sub-resource the step acts on, if any)."""
    row = await db.read(account, actor, entitlement_id)
    structlog.contextvars.bind_contextvars(entitlement_id=entitlement_id)
    step = getattr(update, "__name__", "step")
    scope = f"step:{entitlement_id}:{step}" + (f":{on}" if on else "")

    async def execute() -> R:
        uid = update_id(actor, scope, idempotency_key) if idempotency_key else None
        result: R = await run_update(handle_for(client, row), update, arg, uid)
        return result

    return await keyed_step(
        db, actor, scope, idempotency_key, body, entitlement_id, execute, answer_type
    )


def payment_history(
    session: Session, entitlement_id: str
) -> tuple[Sequence[PaymentInstruction], Sequence[EntitlementNotice]]:
    lines = session.exec(
        select(PaymentInstruction)
        .where(PaymentInstruction.case_id == entitlement_id)
        .order_by(col(PaymentInstruction.id).desc())
        .limit(120)
    ).all()
    notices = session.exec(
        select(EntitlementNotice).where(EntitlementNotice.case_id == entitlement_id)
    ).all()
    return lines, notices


# --- routes ----------------------------------------------------------------------------
@router.get("", response_model=EntitlementPage)
async def list_entitlements(
    actor: CurrentOfficer,
    db: DatabaseDep,
    status: str | None = None,
    programme: str | None = None,
    area_code: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> EntitlementPage:
    """Entitlements inside my area, from the read model."""
    if area_code:
        ensure_area(actor, area_code)
    return await db.read(
        entitlement_page, area_code or actor.area_code, status, programme, offset, limit
    )


def entitlement_page(
    session: Session,
    scope: str,
    status: str | None,
    programme: str | None,
    offset: int,
    limit: int,
) -> EntitlementPage:
    a = EntitlementAccount
    where: list[Any] = [col(a.area_code).startswith(scope)]
    if status:
        where.append(a.status == status)
    if programme:
        where.append(a.programme == programme)
    total = session.exec(select(func.count()).select_from(a).where(*where)).one()
    # The shown columns only: the account's sealed fields are never decrypted for a list.
    rows = session.execute(
        sa.select(
            col(a.case_id),
            col(a.household_id),
            col(a.programme),
            col(a.status),
            col(a.area_code),
            col(a.payable_amount),
            col(a.members_paid),
            col(a.next_review),
            col(a.payee_name),
        )
        .where(*where)
        .order_by(col(a.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return EntitlementPage(
        items=[
            EntitlementSummary(
                entitlement_id=r.case_id,
                household_id=r.household_id,
                programme=r.programme,
                status=r.status,
                area_code=r.area_code,
                payable_amount=r.payable_amount,
                members_paid=r.members_paid,
                next_review=r.next_review,
                payee_name=r.payee_name,
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/{entitlement_id}", response_model=EntitlementDetail)
async def get_entitlement(
    entitlement_id: str, actor: CurrentOfficer, db: DatabaseDep, client: TemporalClientDep
) -> EntitlementDetail:
    """The live state (workflow query) with the payment history (payment table, newest
    first, 120 lines) and the notices issued."""
    row = await db.read(account, actor, entitlement_id)
    structlog.contextvars.bind_contextvars(entitlement_id=entitlement_id)
    try:
        state = await handle_for(client, row).query(EntitlementWorkflow.get_state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"entitlement {entitlement_id} not found") from exc
        raise
    lines, notices = await db.read(payment_history, entitlement_id)
    return EntitlementDetail(
        state=state,
        payments=[
            PaymentLine(
                period=p.period,
                kind=p.kind,
                amount=p.amount,
                status=p.status,
                failure_reason=p.failure_reason,
                paid_at=p.paid_at,
            )
            for p in lines
        ],
        notices=[
            NoticeSummary(notice_id=n.notice_id, kind=n.kind, title=n.title, issued_on=n.issued_on)
            for n in notices
        ],
    )


@router.post(
    "/{entitlement_id}/changes",
    status_code=201,
    response_model=ChangeReceipt,
    summary="报告情况变化 (township, village, county)",
)
async def report_change(
    entitlement_id: str,
    body: ChangeIn,
    actor: Reporter,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ChangeReceipt:
    """Report a change of circumstances or a data-comparison flag: opens an investigation
    with a deadline (nobody is stopped on a flag alone); a death suspends that share at once
    and opens the household review."""
    return await run_step(
        db,
        client,
        actor,
        entitlement_id,
        EntitlementWorkflow.report_change,
        ChangeReport(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
        ChangeReceipt,
    )


@router.post(
    "/{entitlement_id}/investigations/{investigation_id}/close", response_model=ChangeReceipt
)
async def close_investigation(
    entitlement_id: str,
    investigation_id: Annotated[str, Field(max_length=40)],
    body: InvestigationCloseIn,
    actor: Investigator,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ChangeReceipt:
    return await run_step(
        db,
        client,
        actor,
        entitlement_id,
        EntitlementWorkflow.close_investigation,
        InvestigationClose(actor=actor, investigation_id=investigation_id, **body.model_dump()),
        body,
        idempotency_key,
        ChangeReceipt,
        on=investigation_id,
    )


@router.post(
    "/{entitlement_id}/review-outcome",
    response_model=ReviewResult,
    summary="复核结论 (county officer)",
)
async def record_review_outcome(
    entitlement_id: str,
    body: ReviewOutcomeIn,
    actor: CountyOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReviewResult:
    """The county's decision on the open review: continue, adjust (from next month), stop
    (written notice; 特困: 7-day publicity and a recorded transfer check), or withdraw
    (渐退期: paid for the policy's withdrawal period, then ended with a notice)."""
    return await run_step(
        db,
        client,
        actor,
        entitlement_id,
        EntitlementWorkflow.record_review_outcome,
        ReviewOutcome(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
        ReviewResult,
    )


@router.post(
    "/{entitlement_id}/self-care-assessments",
    status_code=201,
    response_model=SelfCareResult,
    summary="生活自理能力重新评估 (township, county)",
)
async def record_self_care_assessment(
    entitlement_id: str,
    body: SelfCareAssessmentIn,
    actor: Investigator,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> SelfCareResult:
    """特困: the re-assessment of a reported self-care change (report it first as a change of
    kind ``self_care``: due within 10 working days, 特困办法 Art. 23); a new care tier changes
    the care standard from the next month, with a written notice when the amount falls."""
    return await run_step(
        db,
        client,
        actor,
        entitlement_id,
        EntitlementWorkflow.record_self_care_assessment,
        SelfCareReassessment(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
        SelfCareResult,
        on=body.investigation_id,
    )


@router.post(
    "/{entitlement_id}/work-refusals",
    status_code=201,
    response_model=WorkRefusalResult,
    summary="登记无正当理由拒绝工作 (township, county)",
)
async def record_work_refusal(
    entitlement_id: str,
    body: WorkRefusalIn,
    actor: Investigator,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> WorkRefusalResult:
    """A refusal of suitable work; the 3rd unjustified one cuts that person's share (低保办法
    Art. 34)."""
    return await run_step(
        db,
        client,
        actor,
        entitlement_id,
        EntitlementWorkflow.record_work_refusal,
        WorkRefusal(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
        WorkRefusalResult,
    )


@router.post(
    "/{entitlement_id}/move-outs",
    status_code=201,
    response_model=MoveOutResult,
    summary="登记成员迁出 (township, county)",
)
async def record_move_out(
    entitlement_id: str,
    body: MoveOutIn,
    actor: Investigator,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> MoveOutResult:
    """成员迁出 (分户): the member's share ends (amount from next month, written notice) and the
    member may then join another household of the programme — the explicit first step of a
    household split (one active household per person and programme)."""
    return await run_step(
        db,
        client,
        actor,
        entitlement_id,
        EntitlementWorkflow.record_move_out,
        MoveOut(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
        MoveOutResult,
    )


@router.put("/{entitlement_id}/card-account", status_code=204)
async def change_card_account(
    entitlement_id: str,
    body: CardAccountIn,
    actor: CountyOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
) -> None:
    row = await db.read(account, actor, entitlement_id)
    await run_update(
        handle_for(client, row),
        EntitlementWorkflow.change_card_account,
        CardAccountChange(actor=actor, card_account=CardAccount(**body.model_dump())),
    )


@router.get("/{entitlement_id}/notices/{notice_id}", response_class=HTMLResponse)
def get_notice(
    entitlement_id: str, notice_id: str, actor: CurrentOfficer, session: SessionDep
) -> HTMLResponse:
    account(session, actor, entitlement_id)
    notice = session.exec(
        select(EntitlementNotice).where(
            EntitlementNotice.notice_id == notice_id, EntitlementNotice.case_id == entitlement_id
        )
    ).first()
    if notice is None:
        raise HTTPException(404, f"notice {notice_id} not found")
    return HTMLResponse(notice.html)
