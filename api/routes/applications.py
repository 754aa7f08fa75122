"""Applications: create (idempotent), read the live state, list my area's cases, drive every
statutory step (one POST per step, each a Workflow Update whose validator decides), and download
the case's notices."""

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from activities.applications.notices import html_for, pdf_for
from api import case_states
from api.db import Database, DatabaseDep
from api.deps import (
    CurrentOfficer,
    EngineDep,
    IdempotencyKeyHeader,
    Instant,
    SessionDep,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.idempotency import keyed_step, request_hash, reserve, update_id
from api.idempotency import release as release_key
from api.routes.policies import unprocessable
from api.schemas.applications import (
    AcceptBody,
    ApplicationCreate,
    ApplicationPage,
    ApplicationSummary,
    AppraisalBody,
    CountyVisitBody,
    DecisionBody,
    DeliveryBody,
    EdgeConsentBody,
    EndReviewBody,
    FilingBody,
    InvestigationBody,
    MissingDocumentsBody,
    NoticeList,
    NoticeSummary,
    OpinionBody,
    PublicityObjectionBody,
    SpecialDeadlineBody,
    SupplementBody,
    VerificationObjectionBody,
    WithdrawBody,
)
from api.updates import shared_query
from api.validators import Limit, Offset
from jiuzhu.console import case_static
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.models_application import ApplicationNotice
from jiuzhu.household_ids import resolve_household_id
from jiuzhu.membership import MemberClaim, applies_to, claim, release
from jiuzhu.notices_pdf import MissingGlyphs, glyph_message
from jiuzhu.read_model import upsert_case
from jiuzhu.records import CaseSnapshot
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind
from workflows.applications.contract import (
    ApplicantMember,
    ApplicationStatus,
    application_id_for_key,
    application_workflow_id,
    initial_search_attributes,
)
from workflows.applications.models import (
    AcceptInput,
    ApplicationInput,
    ApplicationState,
    AppraisalInput,
    CountyVisitInput,
    DecisionInput,
    DeliveryInput,
    EdgeConsentInput,
    EndReviewInput,
    FilingInput,
    InvestigationInput,
    MissingDocumentsInput,
    OpinionInput,
    PublicityObjectionInput,
    SpecialDeadlineInput,
    StepResult,
    SupplementInput,
    VerificationObjectionInput,
    WithdrawInput,
)
from workflows.applications.workflow import ApplicationWorkflow

router = APIRouter(prefix="/applications", tags=["applications"])
log = structlog.get_logger("jiuzhu.api.applications")

IDEMPOTENCY_SCOPE = "application"
APPLY_ROLES = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)


def case_row(session: Session, actor: Actor, application_id: str) -> CaseRecord:
    """The read-model row of a case the officer may see (404 unknown, 403 outside their area)."""
    row = session.get(CaseRecord, application_id)
    if row is None or row.case_kind != CaseKind.APPLICATION.value:
        raise HTTPException(404, f"application {application_id} not found")
    ensure_area(actor, row.area_code)
    return row


async def live_state(
    client: Client, application_id: str, revision: int | None = None
) -> ApplicationState:
    """The case's state from its workflow; with the read-model ``revision`` just read, the
    query is shared with concurrent readers of the same revision (``shared_query``)."""
    handle: WorkflowHandle[ApplicationWorkflow, ApplicationState] = client.get_workflow_handle_for(
        ApplicationWorkflow.run, application_workflow_id(application_id)
    )
    try:
        if revision is not None:
            state: ApplicationState = await shared_query(
                handle, ApplicationWorkflow.get_state, revision
            )
            return state
        return await handle.query(ApplicationWorkflow.get_state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, f"application {application_id} not found") from exc
        raise


Applier = Annotated[Actor, Depends(require_roles(*APPLY_ROLES))]


def record_submitted(session: Session, snap: CaseSnapshot) -> None:
    """Read-your-writes for lists: revision 0 never overwrites what the workflow has written."""
    if session.get(CaseRecord, snap.case_id) is not None:
        return
    upsert_case(session, snap)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # the workflow (or a concurrent retry) wrote it first


def release_claims(session: Session, application_id: str) -> None:
    release(session, application_id)


def case_exists(session: Session, case_id: str) -> bool:
    return session.get(CaseRecord, case_id) is not None


async def claim_household(
    db: Database,
    actor: Actor,
    body: ApplicationCreate,
    inp: ApplicationInput,
    fresh: bool,
    idempotency_key: str | None,
    digest: str,
) -> bool:
    """Claim every member for the programme before the workflow starts (one person, one active
    household per programme — 低保办法 Art. 6, DOMAIN §7). A member held by another case is
    refused with 409 naming that case and ``household[i].id_number``; nothing is written (a
    fresh ``Idempotency-Key`` is given back). An idempotent retry claims only when its first
    request never got as far as the read model. True when this request claimed."""
    if not applies_to(body.programme.value):
        return False
    if not fresh and await db.read(case_exists, inp.application_id):
        return False
    members = [
        MemberClaim(id_number=m.id_number, name=m.name, field=f"household[{i}].id_number")
        for i, m in enumerate(body.household)
    ]
    clash = await db.write(
        claim, body.programme.value, inp.application_id, inp.household_id, members
    )
    if clash is None:
        return True
    if idempotency_key and fresh:
        await db.write(release_key, actor, IDEMPOTENCY_SCOPE, idempotency_key, digest)
    log.info("household member already claimed", other_case_id=clash.other_case_id)
    raise RefusalError(
        Refusal(
            kind=RefusalKind.CONFLICT,
            message_zh=clash.message_zh(),
            field=clash.field,
            extra={
                "other_case_id": clash.other_case_id,
                "other_case_kind": clash.other_case_kind,
            },
        )
    )


@router.post("", status_code=201, response_model=ApplicationState)
async def create_application(
    body: ApplicationCreate,
    response: Response,
    actor: Applier,
    db: DatabaseDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """Start one workflow per application. The same ``Idempotency-Key`` from the same officer
    always returns the same application (200); with a different body it is refused (422). The
    key is reserved before the workflow starts, so concurrent duplicates cannot both create."""
    ensure_area(actor, body.area_code)
    fresh = True
    digest = request_hash(body)
    if idempotency_key:
        held = await db.write(
            reserve,
            actor,
            IDEMPOTENCY_SCOPE,
            idempotency_key,
            digest,
            application_id_for_key(actor.officer_id, idempotency_key),
        )
        application_id, fresh = held.resource_id, held.fresh
    else:
        application_id = "A" + uuid.uuid4().hex[:15].upper()
    structlog.contextvars.bind_contextvars(
        application_id=application_id, workflow_id=application_workflow_id(application_id)
    )
    members = [ApplicantMember(**m.model_dump()) for m in body.household]
    applicant = next(m for m in members if m.relation == "applicant")
    household_id = await db.read(resolve_household_id, applicant.id_number, body.area_code)
    inp = ApplicationInput(
        application_id=application_id,
        programme=body.programme,
        area_code=body.area_code,
        household_id=household_id,
        members=members,
        submitted_by=actor,
        submitted_at=datetime.now(UTC),
        applied_on=body.applied_on,
        history_bound=settings.application_history_bound,
    )
    workflow_id = application_workflow_id(application_id)
    claimed = await claim_household(db, actor, body, inp, fresh, idempotency_key, digest)
    text = case_static(
        CaseKind.APPLICATION,
        area_code=body.area_code,
        programme=body.programme.value,
        applicant_name=applicant.name,
    )
    try:
        # A duplicate starts it too (the reserver may have failed before starting it): the
        # same id with USE_EXISTING is the same workflow.
        await client.start_workflow(
            ApplicationWorkflow.run,
            inp,
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=initial_search_attributes(inp, ApplicationStatus.SUBMITTED.value),
            static_summary=text.summary,
            static_details=text.details,
        )
    except WorkflowAlreadyStartedError:
        pass  # a retry of an application whose workflow has already closed
    except BaseException:
        if claimed:  # not started: the claims (and a fresh key) are given back
            await db.write(release_claims, application_id)
            if idempotency_key and fresh:
                await db.write(release_key, actor, IDEMPOTENCY_SCOPE, idempotency_key, digest)
        raise
    await db.write(
        record_submitted,
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
    if fresh:
        log.info("application started", programme=body.programme.value, area_code=body.area_code)
    response.headers["Location"] = f"/applications/{application_id}"
    if not fresh:
        response.status_code = 200  # an idempotent retry: the application already existed
    state = await live_state(client, application_id)
    await case_states.keep(db, application_id, state)
    return state


@router.get("/{application_id}", response_model=ApplicationState)
async def get_application(
    application_id: str, actor: CurrentOfficer, db: DatabaseDep, client: TemporalClientDep
) -> Response:
    """The case's full state: kept at the read model's revision, or asked of its workflow
    (``api/case_states.py``)."""
    structlog.contextvars.bind_contextvars(application_id=application_id)

    def ask(row: CaseRecord) -> Awaitable[ApplicationState]:
        return live_state(client, application_id, row.revision)

    return await case_states.detail(db, case_row, (actor, application_id), ask)


@router.get("", response_model=ApplicationPage)
async def list_applications(
    actor: CurrentOfficer,
    db: DatabaseDep,
    status: str | None = None,
    programme: str | None = None,
    area_code: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    overdue: bool | None = None,
    deadline_before: Instant | None = None,
    household_id: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ApplicationPage:
    """Cases inside my area, newest first, from the read model; ``deadline_before`` finds cases
    whose next deadline falls before an instant (e.g. the end of this week), compared as an
    instant: ``2026-12-02T17:00:00Z`` and ``2026-12-03T01:00:00+08:00`` are the same filter, and
    one without an offset is Beijing time. Instants are answered with their offset."""
    if area_code:
        ensure_area(actor, area_code)
    return await db.read(
        application_page,
        actor,
        status=status,
        programme=programme,
        area_code=area_code,
        overdue=overdue,
        deadline_before=deadline_before,
        household_id=household_id,
        offset=offset,
        limit=limit,
    )


def application_page(
    session: Session,
    actor: Actor,
    *,
    status: str | None,
    programme: str | None,
    area_code: str | None,
    overdue: bool | None,
    deadline_before: datetime | None,
    household_id: str | None,
    offset: int,
    limit: int,
) -> ApplicationPage:
    c = CaseRecord
    where: list[Any] = [
        c.case_kind == CaseKind.APPLICATION.value,
        col(c.area_code).startswith(area_code or actor.area_code),
    ]
    if status:
        where.append(c.status == status)
    if programme:
        where.append(c.programme == programme)
    if overdue is not None:
        where.append(c.overdue == overdue)
    if deadline_before is not None:
        where.append(col(c.next_deadline) < deadline_before)
    if household_id:
        where.append(c.household_id == household_id)
    total = session.exec(select(func.count()).select_from(c).where(*where)).one()
    # The shown columns only: the applicant's sealed ID number is never decrypted for a list.
    rows = session.execute(
        sa.select(
            col(c.case_id),
            col(c.programme),
            col(c.status),
            col(c.area_code),
            col(c.applicant_name),
            col(c.household_size),
            col(c.next_deadline),
            col(c.overdue),
            col(c.updated_at),
            col(c.linked_case_id),
            col(c.policy_version_id),
            col(c.detail),
        )
        .where(*where)
        .order_by(col(c.created_at).desc())
        .offset(offset)
        .limit(limit)
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
            linked_case_id=r.linked_case_id,
            policy_version_id=r.policy_version_id,
            approved_amount=(r.detail or {}).get("approved_amount"),
        )
        for r in rows
    ]
    return ApplicationPage(items=items, total=total, offset=offset, limit=limit)


# --- steps ----------------------------------------------------------------------------------
Inp = TypeVar("Inp", bound=BaseModel)


async def run_step(
    db: Database,
    client: Client,
    actor: Actor,
    application_id: str,
    update: UpdateMethodMultiParam[[ApplicationWorkflow, Inp], StepResult],
    inp: Inp,
    body: BaseModel,
    idempotency_key: str | None,
) -> ApplicationState:
    """Send one step to the case's workflow as an Update, then read the case it left behind
    (the Update answers with a small ``StepResult``; the HTTP answer is the full state). A
    refused step propagates to the one refusal handler of ``api/errors.py``. With an
    ``Idempotency-Key`` the step runs once: a retry with the same key and body gets the recorded
    answer (200), a different body under the same key 422."""
    await db.read(case_row, actor, application_id)
    step = getattr(update, "__name__", "step")
    structlog.contextvars.bind_contextvars(application_id=application_id, step=step)
    scope = f"step:{application_id}:{step}"

    async def execute() -> ApplicationState:
        handle = client.get_workflow_handle_for(
            ApplicationWorkflow.run, application_workflow_id(application_id)
        )
        try:
            result = await handle.execute_update(
                update,
                inp,
                id=update_id(actor, scope, idempotency_key) if idempotency_key else None,
            )
        except RPCError as exc:
            if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                raise RefusalError(
                    Refusal(
                        kind=RefusalKind.WRONG_STATE,
                        message_zh=f"案件{application_id}已办结，不能再办理此事项",
                    )
                ) from exc
            raise
        log.info("step recorded", status=result.status.value, revision=result.revision)
        state = await live_state(client, application_id)
        await case_states.keep(db, application_id, state)
        return state

    return await keyed_step(
        db, actor, scope, idempotency_key, body, application_id, execute, ApplicationState
    )


def _step_doc(text: str) -> dict[str, Any]:
    return {"response_model": ApplicationState, "summary": text}


@router.post("/{application_id}/accept", **_step_doc("受理 (township officer)"))
async def accept(
    application_id: str,
    body: AcceptBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 10: acceptance starts the statutory clock (runs under the policy in force on
    ``accepted_on``)."""
    inp = AcceptInput(actor=actor, **body.model_dump())
    return await run_step(
        db, client, actor, application_id, ApplicationWorkflow.accept, inp, body, idempotency_key
    )


@router.post("/{application_id}/missing-documents", **_step_doc("一次性告知 (township officer)"))
async def request_documents(
    application_id: str,
    body: MissingDocumentsBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 10: one notice listing everything missing (once per application)."""
    inp = MissingDocumentsInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.request_documents,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/supplement", **_step_doc("补齐材料 (township, village)"))
async def supplement(
    application_id: str,
    body: SupplementBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    inp = SupplementInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.supplement,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/investigation", **_step_doc("入户调查 (township officer)"))
async def investigation(
    application_id: str,
    body: InvestigationBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 15–16: home visit by ≥ 2 investigators with the household's findings; data
    verification follows automatically."""
    inp = InvestigationInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.record_investigation,
        inp,
        body,
        idempotency_key,
    )


@router.post(
    "/{application_id}/verification-objection", **_step_doc("信息核对异议/复查 (township, county)")
)
async def verification_objection(
    application_id: str,
    body: VerificationObjectionBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 18: an objection with evidence triggers a re-check."""
    inp = VerificationObjectionInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.object_to_verification,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/appraisal", **_step_doc("民主评议 (township officer)"))
async def appraisal(
    application_id: str,
    body: AppraisalBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    inp = AppraisalInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.record_appraisal,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/initial-opinion", **_step_doc("初审 (township officer)"))
async def initial_opinion(
    application_id: str,
    body: OpinionBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 19: a proposed approval is published for the publicity period."""
    inp = OpinionInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.initial_opinion,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/publicity-objection", **_step_doc("公示异议 (township, village)"))
async def publicity_objection(
    application_id: str,
    body: PublicityObjectionBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    inp = PublicityObjectionInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.publicity_objection,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/county-visit", **_step_doc("县级入户核查 (county officer)"))
async def county_visit(
    application_id: str,
    body: CountyVisitBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    inp = CountyVisitInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.county_visit,
        inp,
        body,
        idempotency_key,
    )


@router.post(
    "/{application_id}/special-deadline", **_step_doc("特殊情况延长时限 (township, county)")
)
async def special_deadline(
    application_id: str,
    body: SpecialDeadlineBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 22: 45 working days in special cases, with the reason recorded."""
    inp = SpecialDeadlineInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.extend_deadline,
        inp,
        body,
        idempotency_key,
    )


@router.post(
    "/{application_id}/decision", **_step_doc("审核确认 (county, or township if delegated)")
)
async def decision(
    application_id: str,
    body: DecisionBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 20–21; 特困办法 Art. 16–17; temporary aid up to the policy's limit by the
    township (then a county record)."""
    inp = DecisionInput(actor=actor, **body.model_dump())
    return await run_step(
        db, client, actor, application_id, ApplicationWorkflow.decide, inp, body, idempotency_key
    )


@router.post("/{application_id}/filing", **_step_doc("县级备案 (county officer)"))
async def filing(
    application_id: str,
    body: FilingBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    inp = FilingInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.record_filing,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/deliver-notice", **_step_doc("送达通知书 (township officer)"))
async def deliver_notice(
    application_id: str,
    body: DeliveryBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 21: the refusal notice is delivered within 3 working days of the decision."""
    inp = DeliveryInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.deliver_notice,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/edge-consent", **_step_doc("低保边缘认定意愿 (township, village)"))
async def edge_consent(
    application_id: str,
    body: EdgeConsentBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    inp = EdgeConsentInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.edge_consent,
        inp,
        body,
        idempotency_key,
    )


@router.post("/{application_id}/withdraw", **_step_doc("撤回申请 (township, village)"))
async def withdraw(
    application_id: str,
    body: WithdrawBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    inp = WithdrawInput(actor=actor, **body.model_dump())
    return await run_step(
        db, client, actor, application_id, ApplicationWorkflow.withdraw, inp, body, idempotency_key
    )


@router.post("/{application_id}/end-review", **_step_doc("拒不配合终止审核 (township, county)"))
async def end_review(
    application_id: str,
    body: EndReviewBody,
    actor: CurrentOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ApplicationState:
    """低保办法 Art. 29: refusal to cooperate ends the review with a written notice."""
    inp = EndReviewInput(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        application_id,
        ApplicationWorkflow.end_review,
        inp,
        body,
        idempotency_key,
    )


# --- notices --------------------------------------------------------------------------------
@router.get("/{application_id}/notices", response_model=NoticeList)
def list_notices(application_id: str, actor: CurrentOfficer, session: SessionDep) -> NoticeList:
    """The notices issued in a case, oldest first."""
    case_row(session, actor, application_id)
    rows = session.exec(
        select(ApplicationNotice)
        .where(ApplicationNotice.case_id == application_id)
        .order_by(col(ApplicationNotice.notice_id))
    ).all()
    return NoticeList(
        items=[
            NoticeSummary(
                notice_id=r.notice_id,
                kind=r.kind,
                title=r.title,
                issued_at=r.issued_at,
                delivered_on=r.delivered_on,
                delivery_method=r.delivery_method,
                delivered_to=r.delivered_to,
                href=f"/applications/{application_id}/notices/{r.notice_id}",
            )
            for r in rows
        ]
    )


@router.get(
    "/{application_id}/notices/{notice_id}",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def get_notice(
    application_id: str,
    notice_id: str,
    request: Request,
    actor: CurrentOfficer,
    session: SessionDep,
    engine: EngineDep,
    format: Annotated[Literal["html", "pdf"] | None, Query()] = None,
) -> Response:
    """A notice as issued: HTML, or PDF with ``?format=pdf`` or ``Accept: application/pdf``
    (422 naming the notice's field when a character of it cannot be printed)."""
    case_row(session, actor, application_id)
    row = session.get(ApplicationNotice, notice_id)
    if row is None or row.case_id != application_id:
        raise HTTPException(404, f"notice {notice_id} not found")
    wants_pdf = format == "pdf" or (
        format is None and "application/pdf" in request.headers.get("accept", "")
    )
    if not wants_pdf:
        html = row.html or html_for(engine, notice_id)
        return HTMLResponse(html or "")
    try:
        pdf = pdf_for(engine, notice_id)
    except MissingGlyphs as exc:  # a character no embedded font has: never silently dropped
        raise unprocessable([(loc, glyph_message(chars)) for loc, chars in exc.problems]) from None
    if pdf is None:
        raise HTTPException(404, f"notice {notice_id} not found")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{notice_id}.pdf"'},
    )
