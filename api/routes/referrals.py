"""Referrals to other departments (转介, 一户一条救助链 — seed 001 二(二)1(3)): a township or
county officer refers one need of a household member, found in a case (an application, an
entitlement or a temporary case), to the department that provides that assistance; a county
officer records the department's answer on its behalf; the referring side may withdraw a
referral still awaiting an answer. Lists come from the referral register (``referral``), the
live detail from the workflow's query. A second open referral of the same member to the same
department for the same need is refused (409, ``repeat_reason``) unless a reason is given, and
is then flagged on the household's chain."""

import hashlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.db import Database, DatabaseDep
from api.deps import (
    IdempotencyKeyHeader,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.idempotency import request_hash, reserve
from api.updates import case_row, case_state, record_started, run_case_step
from api.validators import (
    FreeText,
    IdNumber,
    Limit,
    Offset,
    OptionalShortText,
    PaperDate,
    PositiveMoney,
    ShortText,
)
from jiuzhu.clock import beijing_date, beijing_today
from jiuzhu.console import case_static
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.models_referrals import Referral
from jiuzhu.db.sealing import blind_index
from jiuzhu.records import CaseSnapshot
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind, refusal_of
from workflows.referrals.checks import check_asked_on, check_need, check_referrer
from workflows.referrals.contract import (
    DEPARTMENT_NAMES_ZH,
    NEED_NAMES_ZH,
    AnswerOutcome,
    Department,
    Need,
    ReferralStatus,
    SourceKind,
    referral_workflow_id,
)
from workflows.referrals.models import (
    RecordAnswer,
    ReferralInput,
    ReferralState,
    ReferralStepResult,
    Withdraw,
)
from workflows.referrals.workflow import ReferralWorkflow

router = APIRouter(prefix="/referrals", tags=["referrals"])
log = structlog.get_logger("jiuzhu.api.referrals")

IDEMPOTENCY_SCOPE = "referral"
READERS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER, Role.AUDITOR, Role.ADMIN)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
Referrer = Annotated[Actor, Depends(require_roles(Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER))]
CountyOfficer = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER))]


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_case_id: ShortText = Field(min_length=1, max_length=100)
    department: Department
    need: Need
    person_id_number: IdNumber
    request_zh: FreeText = Field(min_length=1, max_length=2000)  # what is asked, and why
    asked_on: PaperDate | None = None  # the referral's date on paper (default: today)
    repeat_reason: OptionalShortText | None = None


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: AnswerOutcome
    answer_zh: FreeText = Field(min_length=1, max_length=2000)
    answered_on: PaperDate
    department_reference: OptionalShortText = ""
    amount: PositiveMoney | None = Field(default=None, gt=0, max_digits=12, decimal_places=2)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_zh: FreeText = Field(min_length=1, max_length=1000)


class ReferralSummary(BaseModel):
    referral_id: str
    household_id: str
    source_case_id: str
    department: str
    department_zh: str
    need: str
    need_zh: str
    person_name: str
    status: str
    area_code: str
    asked_on: date
    due_date: date | None
    escalated: bool
    answer_outcome: str | None
    answered_on: date | None
    answer_amount: Decimal | None


class ReferralPage(BaseModel):
    items: list[ReferralSummary]
    total: int
    offset: int
    limit: int


def _refusal(exc: ApplicationError) -> RefusalError:
    refusal = refusal_of(exc)
    assert refusal is not None
    return RefusalError(refusal)


def referral_id_for_key(officer_id: str, idempotency_key: str) -> str:
    """The same officer and key name the same referral: ``RF`` + 14 upper-case hex digits."""
    digest = hashlib.sha256(f"referral\x1f{officer_id}\x1f{idempotency_key}".encode()).hexdigest()
    return f"RF{digest[:14].upper()}"


def source_row(session: Session, case_id: str) -> CaseRecord:
    row = session.get(CaseRecord, case_id)
    kinds = {k.value for k in SourceKind}
    if row is None or row.case_kind not in kinds:
        raise RefusalError(
            Refusal(
                kind=RefusalKind.INVALID_INPUT,
                message_zh=f"来源案件{case_id}不存在（须为申请、待遇或临时救助案件）",
                field="source_case_id",
            )
        )
    return row


def open_duplicates(
    session: Session, household_id: str, department: str, need: str, person: str
) -> list[str]:
    rows = session.exec(
        select(Referral.referral_id).where(
            Referral.household_id == household_id,
            Referral.department == department,
            Referral.need == need,
            Referral.person_id_number_index == blind_index(person),
            Referral.status == ReferralStatus.AWAITING_ANSWER.value,
        )
    ).all()
    return list(rows)


def opened_on(session: Session, row: CaseRecord) -> date:
    """The source case's first date: its paper application or event date (an entitlement's:
    its application's), else the day it was registered."""
    rows = [row]
    if row.case_kind == SourceKind.ENTITLEMENT.value and row.linked_case_id:
        linked = session.get(CaseRecord, row.linked_case_id)
        rows += [linked] if linked is not None else []
    on = beijing_date(row.created_at)
    for r in rows:
        on = min(on, beijing_date(r.created_at))
        for key in ("applied_on", "event_date"):
            value = r.detail.get(key)
            if isinstance(value, str):
                on = min(on, date.fromisoformat(value))
    return on


async def source_members(client: Client, row: CaseRecord) -> list[dict[str, Any]]:
    """The source case's members (name, ID number) from its live state."""
    try:
        state: Any = await client.get_workflow_handle(row.workflow_id).query("get_state")
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"case {row.case_id} not found") from exc
        raise
    members = state.get("members", []) if isinstance(state, dict) else []
    return [m for m in members if isinstance(m, dict)]


@router.post("", status_code=201, response_model=ReferralState)
async def create_referral(
    body: ReferralCreate,
    response: Response,
    actor: Referrer,
    db: DatabaseDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReferralState:
    """Refer one need of a member of the source case's household to a department, starting its
    feedback deadline. The same ``Idempotency-Key`` is the same referral (200)."""
    source = await db.read(source_row, body.source_case_id)
    ensure_area(actor, source.area_code)
    asked_on = body.asked_on or beijing_today()
    first = await db.read(opened_on, source)
    try:
        check_referrer(actor, source.area_code)
        check_need(body.department, body.need)
        check_asked_on(asked_on, first, beijing_today())
    except ApplicationError as exc:
        raise _refusal(exc) from None
    members = await source_members(client, source)
    person = next((m for m in members if m.get("id_number") == body.person_id_number), None)
    if person is None:
        raise RefusalError(
            Refusal(
                kind=RefusalKind.INVALID_INPUT,
                message_zh=f"{body.person_id_number}不是来源案件{source.case_id}的家庭成员",
                field="person_id_number",
            )
        )
    referral_id = (
        referral_id_for_key(actor.officer_id, idempotency_key)
        if idempotency_key
        else "RF" + uuid.uuid4().hex[:14].upper()
    )
    fresh = True
    if idempotency_key:
        held = await db.write(
            reserve, actor, IDEMPOTENCY_SCOPE, idempotency_key, request_hash(body), referral_id
        )
        referral_id, fresh = held.resource_id, held.fresh
    if fresh:
        dupes = await db.read(
            open_duplicates,
            source.household_id,
            body.department.value,
            body.need.value,
            body.person_id_number,
        )
        if dupes and not body.repeat_reason:
            raise RefusalError(
                Refusal(
                    kind=RefusalKind.CONFLICT,
                    message_zh=f"{person.get('name', '')}已有转介"
                    f"{DEPARTMENT_NAMES_ZH[body.department]}"
                    f"「{NEED_NAMES_ZH[body.need]}」待反馈（{'、'.join(dupes)}）；"
                    "确需重复转介的，请填写理由",
                    field="repeat_reason",
                    extra={"duplicate_of": dupes},
                )
            )
        inp = ReferralInput(
            referral_id=referral_id,
            source_case_id=source.case_id,
            source_kind=SourceKind(source.case_kind),
            source_programme=source.programme,
            household_id=source.household_id,
            area_code=source.area_code,
            department=body.department,
            need=body.need,
            person_name=str(person.get("name", "")),
            person_id_number=body.person_id_number,
            request_zh=body.request_zh,
            asked_on=asked_on,
            referred_by=actor,
            referred_at=datetime.now(UTC),
            repeat_reason=body.repeat_reason or None,
            duplicate_of=dupes,
        )
        text = case_static(
            CaseKind.REFERRAL,
            area_code=inp.area_code,
            programme=inp.source_programme,
            applicant_name=inp.person_name,
            subject_zh=f"转介{DEPARTMENT_NAMES_ZH[inp.department]}",
        )
        try:
            await client.start_workflow(
                ReferralWorkflow.run,
                inp,
                id=referral_workflow_id(referral_id),
                task_queue=settings.task_queue,
                static_summary=text.summary,
                static_details=text.details,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            pass
        await db.write(
            record_started,
            CaseSnapshot(
                case_id=referral_id,
                workflow_id=referral_workflow_id(referral_id),
                case_kind=CaseKind.REFERRAL.value,
                programme=inp.department.value,
                status=ReferralStatus.AWAITING_ANSWER.value,
                area_code=inp.area_code,
                household_id=inp.household_id,
                applicant_name=inp.person_name,
                applicant_id_number=inp.person_id_number,
                household_size=1,
                linked_case_id=inp.source_case_id,
                revision=0,
            ),
        )
        log.info("referral started", department=body.department.value, need=body.need.value)
    response.headers["Location"] = f"/referrals/{referral_id}"
    if not fresh:
        response.status_code = 200
    return await live_state(client, referral_id)


def referral_row(session: Session, actor: Actor, referral_id: str) -> CaseRecord:
    return case_row(
        session, actor, CaseKind.REFERRAL, referral_id, f"referral {referral_id} not found"
    )


async def live_state(client: Client, referral_id: str) -> ReferralState:
    handle = client.get_workflow_handle_for(ReferralWorkflow.run, referral_workflow_id(referral_id))
    state: ReferralState = await case_state(
        handle, ReferralWorkflow.get_state, f"referral {referral_id} not found"
    )
    return state


def referral_page(
    session: Session,
    scope: str,
    status: str | None,
    department: str | None,
    household_id: str | None,
    escalated: bool | None,
    offset: int,
    limit: int,
) -> ReferralPage:
    query = select(Referral).where(col(Referral.area_code).startswith(scope))
    if status:
        query = query.where(Referral.status == status)
    if department:
        query = query.where(Referral.department == department)
    if household_id:
        query = query.where(Referral.household_id == household_id)
    if escalated is not None:
        query = query.where(Referral.escalated == escalated)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Referral.referred_at).desc()).offset(offset).limit(limit)
    ).all()
    return ReferralPage(
        items=[
            ReferralSummary(
                referral_id=r.referral_id,
                household_id=r.household_id,
                source_case_id=r.source_case_id,
                department=r.department,
                department_zh=DEPARTMENT_NAMES_ZH[Department(r.department)],
                need=r.need,
                need_zh=NEED_NAMES_ZH[Need(r.need)],
                person_name=r.person_name,
                status=r.status,
                area_code=r.area_code,
                asked_on=r.asked_on,
                due_date=r.due_date,
                escalated=r.escalated,
                answer_outcome=r.answer_outcome,
                answered_on=r.answered_on,
                answer_amount=r.answer_amount,
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("", response_model=ReferralPage)
async def list_referrals(
    actor: Reader,
    db: DatabaseDep,
    area_code: Annotated[str | None, Query(pattern=r"^\d{6,12}$")] = None,
    status: ReferralStatus | None = None,
    department: Department | None = None,
    household_id: Annotated[str | None, Query(pattern=r"^H[0-9A-F]{15}$")] = None,
    escalated: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ReferralPage:
    """Referrals inside my area (or the area given), newest first; by status, department,
    household, or those whose feedback deadline has passed (``escalated``)."""
    if area_code:
        ensure_area(actor, area_code)
    return await db.read(
        referral_page,
        area_code or actor.area_code,
        status.value if status else None,
        department.value if department else None,
        household_id,
        escalated,
        offset,
        limit,
    )


@router.get("/{referral_id}", response_model=ReferralState)
async def get_referral(
    referral_id: str, actor: Reader, db: DatabaseDep, client: TemporalClientDep
) -> ReferralState:
    """The referral's live state: what was asked, the deadline, the answer."""
    await db.read(referral_row, actor, referral_id)
    return await live_state(client, referral_id)


async def run_step(
    db: Database,
    client: Client,
    actor: Actor,
    referral_id: str,
    update: object,
    arg: BaseModel,
    body: BaseModel,
    idempotency_key: str | None,
) -> ReferralStepResult:
    await db.read(referral_row, actor, referral_id)
    handle = client.get_workflow_handle_for(ReferralWorkflow.run, referral_workflow_id(referral_id))
    return await run_case_step(
        db,
        actor,
        handle,
        referral_id,
        update,
        arg,
        body,
        idempotency_key,
        ReferralStepResult,
        closed_zh="转介已办结",
        log_as="referral_id",
    )


@router.post("/{referral_id}/answer", response_model=ReferralStepResult)
async def record_answer(
    referral_id: str,
    body: AnswerIn,
    actor: CountyOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReferralStepResult:
    """A county officer records the department's answer (granted, declined or redirected)."""
    cmd = RecordAnswer(actor=actor, **body.model_dump())
    return await run_step(
        db, client, actor, referral_id, ReferralWorkflow.record_answer, cmd, body, idempotency_key
    )


@router.post("/{referral_id}/withdraw", response_model=ReferralStepResult)
async def withdraw(
    referral_id: str,
    body: WithdrawIn,
    actor: Referrer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReferralStepResult:
    """The referring side withdraws a referral still awaiting an answer, with its reason."""
    cmd = Withdraw(actor=actor, reason_zh=body.reason_zh)
    return await run_step(
        db, client, actor, referral_id, ReferralWorkflow.withdraw, cmd, body, idempotency_key
    )
