"""Temporary assistance (临时救助, DOMAIN §6): register a case, then each human step as an Update
of its workflow; the answer is the case's live state (queried after the step). Refusals
propagate to the one problem+json map in ``api/errors.py``: wrong state 409, role/area 403, bad
data 422 naming the field; an overdrawn reserve fund or an event already aided 409 with its
``code``."""

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, cast

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.orm import QueryableAttribute, defer
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.temporary.events import already_aided, prior_claims
from activities.temporary.payloads import EventClaim
from api import case_states
from api.db import Database, DatabaseDep
from api.deps import (
    CurrentOfficer,
    IdempotencyKeyHeader,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.idempotency import keyed_step, request_hash, reserve, update_id
from api.schemas.temporary import (
    CloseIn,
    JustificationIn,
    PrepaymentIn,
    PrepaymentSummary,
    RecoveryIn,
    ReferralIn,
    ReviewIn,
    SpecialDecisionIn,
    TemporaryCaseCreate,
    TemporaryCasePage,
    TemporaryCaseSummary,
)
from api.updates import record_started, shared_query
from api.validators import Limit, Offset
from jiuzhu.console import applicant_name, case_static
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.models_temporary import TemporaryPrepayment
from jiuzhu.household_ids import resolve_household_id
from jiuzhu.records import CaseSnapshot
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind
from workflows.applications.contract import ApplicantMember
from workflows.entitlements.contract import CardAccount
from workflows.temporary.contract import (
    OPEN_PREPAYMENT,
    TemporaryProcedure,
    TemporaryStatus,
    start_search_attributes,
    temporary_case_id_for_key,
    temporary_workflow_id,
)
from workflows.temporary.models import (
    AidEvent,
    CloseCase,
    DecideSpecial,
    GrantPrepayment,
    Investigation,
    RecordRecovery,
    ReferToCounty,
    ReviewJustification,
    StagePlan,
    SubmitJustification,
    TemporaryCaseInput,
    TemporaryCaseState,
)
from workflows.temporary.workflow import TemporaryCaseWorkflow

router = APIRouter(prefix="/temporary-cases", tags=["temporary assistance"])
log = structlog.get_logger("jiuzhu.api.temporary")

REGISTER_ROLES = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
Registrar = Annotated[Actor, Depends(require_roles(*REGISTER_ROLES))]
Township = Annotated[Actor, Depends(require_roles(Role.TOWNSHIP_OFFICER))]
County = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER))]
TownshipOrCounty = Annotated[
    Actor, Depends(require_roles(Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER))
]
OPEN_PREPAYMENT_VALUES = [s.value for s in OPEN_PREPAYMENT]
IDEMPOTENCY_SCOPE = "temporary"


def case_row(session: Session, actor: Actor, case_id: str) -> CaseRecord:
    """The read-model row of a case the officer may see (404 unknown, 403 outside their area)."""
    row = session.get(CaseRecord, case_id)
    if row is None or row.case_kind != CaseKind.TEMPORARY.value:
        raise HTTPException(404, f"temporary case {case_id} not found")
    ensure_area(actor, row.area_code)
    return row


def handle_for(
    client: Client, case_id: str
) -> WorkflowHandle[TemporaryCaseWorkflow, TemporaryCaseState]:
    return client.get_workflow_handle_for(TemporaryCaseWorkflow.run, temporary_workflow_id(case_id))


async def live_state(
    client: Client, case_id: str, revision: int | None = None
) -> TemporaryCaseState:
    """The case's state from its workflow; with the read-model ``revision`` just read, the
    query is shared with concurrent readers of the same revision (``shared_query``)."""
    handle = handle_for(client, case_id)
    try:
        if revision is not None:
            state: TemporaryCaseState = await shared_query(
                handle, TemporaryCaseWorkflow.get_state, revision
            )
            return state
        return await handle.query(TemporaryCaseWorkflow.get_state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"temporary case {case_id} not found") from exc
        raise


async def run_step(
    db: Database,
    client: Client,
    actor: Actor,
    case_id: str,
    update: Any,
    arg: Any,
    body: BaseModel,
    idempotency_key: str | None,
) -> TemporaryCaseState:
    """Check the officer may see the case, execute one step (a workflow Update; its refusal
    propagates to the error map), then answer with the case's live state. A closed case's
    workflow is gone: 409 WrongState. With an ``Idempotency-Key`` the step runs once: a retry
    with the same key and body gets the recorded answer, a different body 422."""
    await db.read(case_row, actor, case_id)
    step = getattr(update, "__name__", "step")
    structlog.contextvars.bind_contextvars(case_id=case_id, step=step)
    scope = f"step:{case_id}:{step}"

    async def execute() -> TemporaryCaseState:
        try:
            await handle_for(client, case_id).execute_update(
                update,
                arg,
                id=update_id(actor, scope, idempotency_key) if idempotency_key else None,
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise RefusalError(
                    Refusal(kind=RefusalKind.WRONG_STATE, message_zh="案件已办结")
                ) from None
            raise
        state = await live_state(client, case_id)
        await case_states.keep(db, case_id, state)
        return state

    return await keyed_step(
        db, actor, scope, idempotency_key, body, case_id, execute, TemporaryCaseState
    )


@router.post("", status_code=201, response_model=TemporaryCaseState)
async def create_case(
    body: TemporaryCaseCreate,
    response: Response,
    actor: Registrar,
    db: DatabaseDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """Register a case where the emergency happened (民发〔2018〕23号: 由急难发生地救助) and start
    its workflow. Emergency cases are registered by township or county officers. The same
    ``Idempotency-Key`` is the same case (200); with a different body it is refused (422). The
    key is reserved before the workflow starts, so concurrent duplicates cannot both register."""
    ensure_area(actor, body.area_code)
    if body.procedure is TemporaryProcedure.EMERGENCY and actor.role is Role.VILLAGE_ASSISTANT:
        raise HTTPException(403, "急难型临时救助由乡镇（街道）或县级民政部门登记")
    case_id = (
        temporary_case_id_for_key(actor.officer_id, idempotency_key)
        if idempotency_key
        else "T" + uuid.uuid4().hex[:15].upper()
    )
    structlog.contextvars.bind_contextvars(case_id=case_id)
    members = [ApplicantMember(**m.model_dump()) for m in body.household]
    applicant = next(m for m in members if m.relation == "applicant")
    event = AidEvent(**body.event.model_dump())
    # The same event is not aided twice without a recorded reason: refuse early (the workflow
    # checks again, atomically, when money is committed).
    claim = EventClaim(
        case_id=case_id,
        member_id_numbers=[m.id_number for m in members],
        event_type=event.event_type,
        event_date=event.event_date,
        repeat_reason=body.repeat_reason,
    )
    others = await db.read(prior_claims, claim)
    if others and not body.repeat_reason:
        raise RefusalError(already_aided(claim, others))
    fresh = True
    if idempotency_key:
        held = await db.write(
            reserve, actor, IDEMPOTENCY_SCOPE, idempotency_key, request_hash(body), case_id
        )
        case_id, fresh = held.resource_id, held.fresh
    card = body.card_account
    household_id = await db.read(resolve_household_id, applicant.id_number, body.area_code)
    inp = TemporaryCaseInput(
        case_id=case_id,
        procedure=body.procedure,
        area_code=body.area_code,
        household_id=household_id,
        members=members,
        event=event,
        card_account=CardAccount(
            holder_name=card.holder_name or applicant.name,
            holder_id_number=card.holder_id_number or applicant.id_number,
            account_number=card.account_number,
            bank_code=card.bank_code,
        ),
        requested_amount=body.requested_amount,
        repeat_reason=body.repeat_reason,
        registered_by=actor,
        registered_at=datetime.now(UTC),
    )
    workflow_id = temporary_workflow_id(case_id)
    text = case_static(
        CaseKind.TEMPORARY,
        area_code=inp.area_code,
        programme="temporary",
        applicant_name=applicant_name(inp.members),
    )
    try:
        await client.start_workflow(
            TemporaryCaseWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=start_search_attributes(),
            static_summary=text.summary,
            static_details=text.details,
        )
    except WorkflowAlreadyStartedError:
        pass  # a retry of a case whose workflow has already closed
    await db.write(
        record_started,
        CaseSnapshot(
            case_id=case_id,
            workflow_id=workflow_id,
            case_kind=CaseKind.TEMPORARY.value,
            programme="temporary",
            status=TemporaryStatus.REGISTERED.value,
            area_code=body.area_code,
            household_id=inp.household_id,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
            household_size=len(members),
            revision=0,
            detail={"procedure": body.procedure.value},
        ),
    )
    if fresh:
        log.info("temporary case started", procedure=body.procedure.value, area_code=body.area_code)
    response.headers["Location"] = f"/temporary-cases/{case_id}"
    if not fresh:
        response.status_code = 200  # an idempotent retry: the case already existed
    state = await live_state(client, case_id)
    await case_states.keep(db, case_id, state)
    return state


@router.get("/{case_id}", response_model=TemporaryCaseState)
async def get_case(
    case_id: str, actor: CurrentOfficer, db: DatabaseDep, client: TemporalClientDep
) -> Response:
    """The case's full state: kept at the read model's revision, or asked of its workflow
    (``api/case_states.py``)."""

    def ask(row: CaseRecord) -> Awaitable[TemporaryCaseState]:
        return live_state(client, case_id, row.revision)

    return await case_states.detail(db, case_row, (actor, case_id), ask)


@router.get("", response_model=TemporaryCasePage)
async def list_cases(
    actor: CurrentOfficer,
    db: DatabaseDep,
    open_prepayments: bool = False,
    status: TemporaryStatus | None = None,
    overdue: bool | None = None,
    area_code: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> TemporaryCasePage:
    """Temporary cases in my area from the read model, newest first; with
    ``open_prepayments=true`` the prepayments still awaiting justification or its review,
    by justification due date (earliest first), overdue ones flagged."""
    if area_code:
        ensure_area(actor, area_code)
    return await db.read(
        case_page,
        area_code or actor.area_code,
        open_prepayments,
        status,
        overdue,
        offset,
        limit,
    )


# A list never shows the applicant's ID number: it is not read, so not decrypted.
NOT_LISTED = defer(cast("QueryableAttribute[Any]", CaseRecord.applicant_id_number))


def case_page(
    session: Session,
    scope: str,
    open_prepayments: bool,
    status: TemporaryStatus | None,
    overdue: bool | None,
    offset: int,
    limit: int,
) -> TemporaryCasePage:
    if open_prepayments:
        query = select(TemporaryPrepayment).where(
            col(TemporaryPrepayment.status).in_(OPEN_PREPAYMENT_VALUES),
            col(TemporaryPrepayment.area_code).startswith(scope),
        )
        if overdue is not None:
            query = query.where(TemporaryPrepayment.overdue == overdue)
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        prepayments = session.exec(
            query.order_by(col(TemporaryPrepayment.justification_due).asc())
            .offset(offset)
            .limit(limit)
        ).all()
        rows = {
            r.case_id: r
            for r in session.exec(
                select(CaseRecord)
                .options(NOT_LISTED)
                .where(col(CaseRecord.case_id).in_([p.case_id for p in prepayments]))
            ).all()
        }
        items = [_summary(rows[p.case_id], p) for p in prepayments if p.case_id in rows]
        return TemporaryCasePage(items=items, total=total, offset=offset, limit=limit)
    cquery = select(CaseRecord).where(
        CaseRecord.case_kind == CaseKind.TEMPORARY.value,
        col(CaseRecord.area_code).startswith(scope),
    )
    if status is not None:
        cquery = cquery.where(CaseRecord.status == status.value)
    if overdue is not None:
        cquery = cquery.where(CaseRecord.overdue == overdue)
    total = session.exec(select(func.count()).select_from(cquery.subquery())).one()
    cases = session.exec(
        cquery.options(NOT_LISTED)
        .order_by(col(CaseRecord.created_at).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    registers = {
        p.case_id: p
        for p in session.exec(
            select(TemporaryPrepayment).where(
                col(TemporaryPrepayment.case_id).in_([c.case_id for c in cases])
            )
        ).all()
    }
    return TemporaryCasePage(
        items=[_summary(c, registers.get(c.case_id)) for c in cases],
        total=total,
        offset=offset,
        limit=limit,
    )


def _summary(row: CaseRecord, p: TemporaryPrepayment | None) -> TemporaryCaseSummary:
    return TemporaryCaseSummary(
        case_id=row.case_id,
        procedure=(row.detail or {}).get("procedure"),
        status=row.status,
        area_code=row.area_code,
        applicant_name=row.applicant_name,
        household_size=row.household_size,
        next_deadline=row.next_deadline,
        overdue=row.overdue or (p.overdue if p else False),
        linked_case_id=row.linked_case_id,
        updated_at=row.updated_at,
        prepayment=PrepaymentSummary(
            amount=p.amount,
            granted_at=p.granted_at,
            justification_due=p.justification_due,
            justified_at=p.justified_at,
            status=p.status,
            overdue=p.overdue,
        )
        if p is not None
        else None,
    )


# --- steps --------------------------------------------------------------------------------
@router.post(
    "/{case_id}/prepayment",
    response_model=TemporaryCaseState,
    summary="小金额先行救助 (township officer)",
)
async def grant_prepayment(
    case_id: str,
    body: PrepaymentIn,
    actor: Township,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """小金额先行救助 from the township reserve fund (township officer of the case's area)."""
    return await run_step(
        db,
        client,
        actor,
        case_id,
        TemporaryCaseWorkflow.grant_prepayment,
        GrantPrepayment(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
    )


@router.post(
    "/{case_id}/justification",
    response_model=TemporaryCaseState,
    summary="事后补充说明 (township officer)",
)
async def submit_justification(
    case_id: str,
    body: JustificationIn,
    actor: Township,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """事后补充说明 with the township's signature."""
    data = body.model_dump()
    data["investigation"] = Investigation(**data["investigation"])
    return await run_step(
        db,
        client,
        actor,
        case_id,
        TemporaryCaseWorkflow.submit_justification,
        SubmitJustification(actor=actor, **data),
        body,
        idempotency_key,
    )


@router.post(
    "/{case_id}/justification-review",
    response_model=TemporaryCaseState,
    summary="审核补充说明 (county officer)",
)
async def review_justification(
    case_id: str,
    body: ReviewIn,
    actor: County,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """The county record: accept, or reject (opens recovery)."""
    return await run_step(
        db,
        client,
        actor,
        case_id,
        TemporaryCaseWorkflow.review_justification,
        ReviewJustification(
            actor=actor, accept=body.decision == "accept", reason_zh=body.reason_zh
        ),
        body,
        idempotency_key,
    )


@router.post(
    "/{case_id}/recoveries",
    response_model=TemporaryCaseState,
    summary="登记追回款项 (township officer)",
)
async def record_recovery(
    case_id: str,
    body: RecoveryIn,
    actor: Township,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """A recovered amount, credited back to the reserve fund."""
    return await run_step(
        db,
        client,
        actor,
        case_id,
        TemporaryCaseWorkflow.record_recovery,
        RecordRecovery(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
    )


@router.post(
    "/{case_id}/referral",
    response_model=TemporaryCaseState,
    summary="提请县级一事一议 (township officer)",
)
async def refer_to_county(
    case_id: str,
    body: ReferralIn,
    actor: Township,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """提请县级一事一议 (a need above the township's prepayment cap)."""
    return await run_step(
        db,
        client,
        actor,
        case_id,
        TemporaryCaseWorkflow.refer_to_county,
        ReferToCounty(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
    )


@router.post(
    "/{case_id}/special-decision",
    response_model=TemporaryCaseState,
    summary="一事一议决定 (county officer)",
)
async def decide_special(
    case_id: str,
    body: SpecialDecisionIn,
    actor: County,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """一事一议 decision by the county, optionally in stages (一次审批、分阶段救助)."""
    return await run_step(
        db,
        client,
        actor,
        case_id,
        TemporaryCaseWorkflow.decide_special,
        DecideSpecial(
            actor=actor,
            approve=body.decision == "approve",
            amount=body.amount,
            stages=[StagePlan(pay_on=s.pay_on, amount=s.amount) for s in body.stages],
            meeting_ref=body.meeting_ref,
            reason_zh=body.reason_zh,
            repeat_reason=body.repeat_reason,
        ),
        body,
        idempotency_key,
    )


@router.post(
    "/{case_id}/close",
    response_model=TemporaryCaseState,
    summary="无需救助办结 (township, county)",
)
async def close_case(
    case_id: str,
    body: CloseIn,
    actor: TownshipOrCounty,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TemporaryCaseState:
    """Close a registered case that needs no aid."""
    return await run_step(
        db,
        client,
        actor,
        case_id,
        TemporaryCaseWorkflow.close_case,
        CloseCase(actor=actor, **body.model_dump()),
        body,
        idempotency_key,
    )
