"""Applications: create (idempotent), read the live state, list my area's cases."""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import (
    CurrentOfficer,
    SessionDep,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.errors import ProblemError
from api.schemas.applications import ApplicationCreate, ApplicationPage, ApplicationSummary
from jiuzhu.contract import (
    Actor,
    CaseKind,
    Role,
    application_id_for_key,
    application_workflow_id,
    household_id_for,
)
from jiuzhu.db.models import CaseRecord, IdempotencyKey
from jiuzhu.read_model import upsert_case
from jiuzhu.records import CaseSnapshot
from workflows.application import ApplicationWorkflow, initial_search_attributes
from workflows.application_models import (
    ApplicantMember,
    ApplicationInput,
    ApplicationState,
    ApplicationStatus,
)

router = APIRouter(prefix="/applications", tags=["applications"])
log = structlog.get_logger("jiuzhu.api.applications")

APPLY_ROLES = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)


def _request_hash(body: ApplicationCreate) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def case_row(session: Session, actor: Actor, application_id: str) -> CaseRecord:
    """The read-model row of a case the officer may see (404 unknown, 403 outside their area)."""
    row = session.get(CaseRecord, application_id)
    if row is None or row.case_kind != CaseKind.APPLICATION.value:
        raise HTTPException(404, f"application {application_id} not found")
    ensure_area(actor, row.area_code)
    return row


async def live_state(client: Client, application_id: str) -> ApplicationState:
    handle: WorkflowHandle[ApplicationWorkflow, ApplicationState] = client.get_workflow_handle_for(
        ApplicationWorkflow.run, application_workflow_id(application_id)
    )
    try:
        return await handle.query(ApplicationWorkflow.get_state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"application {application_id} not found") from exc
        raise


Applier = Annotated[Actor, Depends(require_roles(*APPLY_ROLES))]


@router.post("", status_code=201, response_model=ApplicationState)
async def create_application(
    body: ApplicationCreate,
    response: Response,
    actor: Applier,
    session: SessionDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ApplicationState:
    """Start one workflow per application. The same ``Idempotency-Key`` from the same officer
    always returns the same application; with a different body it is refused (422)."""
    ensure_area(actor, body.area_code)
    request_hash = _request_hash(body)
    if idempotency_key:
        application_id = application_id_for_key(actor.officer_id, idempotency_key)
        seen = session.exec(
            select(IdempotencyKey).where(
                IdempotencyKey.officer_id == actor.officer_id, IdempotencyKey.key == idempotency_key
            )
        ).first()
        if seen is not None and seen.request_hash != request_hash:
            raise ProblemError(
                422,
                "Unprocessable Content",
                "Idempotency-Key: already used for a different request",
                field="Idempotency-Key",
            )
    else:
        application_id = "A" + uuid.uuid4().hex[:15].upper()
    structlog.contextvars.bind_contextvars(
        application_id=application_id, workflow_id=application_workflow_id(application_id)
    )
    members = [ApplicantMember(**m.model_dump()) for m in body.household]
    applicant = next(m for m in members if m.relation == "applicant")
    inp = ApplicationInput(
        application_id=application_id,
        programme=body.programme,
        area_code=body.area_code,
        household_id=household_id_for(applicant.id_number, body.area_code),
        members=members,
        submitted_by=actor,
        submitted_at=datetime.now(UTC),
    )
    workflow_id = application_workflow_id(application_id)
    try:
        await client.start_workflow(
            ApplicationWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=initial_search_attributes(inp, ApplicationStatus.SUBMITTED.value),
        )
    except WorkflowAlreadyStartedError:
        pass  # a retry of an application whose workflow has already closed
    # Read-your-writes for lists: revision 0 never overwrites what the workflow has written.
    upsert_case(
        session,
        CaseSnapshot(
            case_id=application_id,
            workflow_id=workflow_id,
            case_kind=CaseKind.APPLICATION.value,
            programme=body.programme.value,
            status=ApplicationStatus.SUBMITTED.value,
            area_code=body.area_code,
            household_id=inp.household_id,
            applicant_name=applicant.name,
            applicant_id_number=applicant.id_number,
            household_size=len(members),
            revision=0,
        ),
    )
    if idempotency_key:
        session.add(
            IdempotencyKey(
                officer_id=actor.officer_id,
                key=idempotency_key,
                request_hash=request_hash,
                resource_id=application_id,
            )
        )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # a concurrent retry recorded it first: same application either way
    log.info("application started", programme=body.programme.value, area_code=body.area_code)
    response.headers["Location"] = f"/applications/{application_id}"
    state = await live_state(client, application_id)
    if state.submitted_at != inp.submitted_at:
        response.status_code = 200  # an idempotent retry: the application already existed
    return state


@router.get("/{application_id}", response_model=ApplicationState)
async def get_application(
    application_id: str, actor: CurrentOfficer, session: SessionDep, client: TemporalClientDep
) -> ApplicationState:
    case_row(session, actor, application_id)
    structlog.contextvars.bind_contextvars(application_id=application_id)
    return await live_state(client, application_id)


@router.get("", response_model=ApplicationPage)
def list_applications(
    actor: CurrentOfficer,
    session: SessionDep,
    status: str | None = None,
    programme: str | None = None,
    area_code: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    overdue: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ApplicationPage:
    """Cases inside my area, newest first, from the read model."""
    scope = area_code or actor.area_code
    if area_code:
        ensure_area(actor, area_code)
    query = select(CaseRecord).where(
        CaseRecord.case_kind == CaseKind.APPLICATION.value,
        col(CaseRecord.area_code).startswith(scope),
    )
    if status:
        query = query.where(CaseRecord.status == status)
    if programme:
        query = query.where(CaseRecord.programme == programme)
    if overdue is not None:
        query = query.where(CaseRecord.overdue == overdue)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(CaseRecord.created_at).desc()).offset(offset).limit(limit)
    ).all()
    items = [
        ApplicationSummary(
            application_id=r.case_id,
            programme=r.programme,
            status=r.status,
            area_code=r.area_code,
            applicant_name=r.applicant_name,
            household_size=r.household_size,
            next_deadline=r.next_deadline,
            overdue=r.overdue,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    return ApplicationPage(items=items, total=total, offset=offset, limit=limit)
