"""Complaints and reports (投诉举报, 焦民〔2022〕154号 第十二条 三): intake by any officer, the
register with statistics, and the responsible level's steps as workflow Updates.

The complainant is optional and protected: their name and contact are written only to
``complaint_party`` (never to the workflow history, the read model, a list or the reply's
recipients) and read only by county officers and auditors
(``GET /complaints/{id}/complainant``). Every list row is a ``case_record`` of kind
``complaint`` whose ``applicant_name`` stays empty. Steps are idempotent per
``Idempotency-Key``."""

import hashlib
import uuid
from collections import Counter
from datetime import date
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.db import Database, DatabaseDep
from api.deps import (
    IdempotencyKeyHeader,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.updates import case_row, case_state, record_started, run_case_step
from api.validators import (
    FreeText,
    Limit,
    Offset,
    OptionalFreeText,
    OptionalShortText,
    PaperDate,
    PersonName,
)
from jiuzhu.areas import AreaRef
from jiuzhu.clock import beijing_today
from jiuzhu.console import case_static
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.models_supervision import ComplaintParty
from jiuzhu.records import CaseSnapshot
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind
from rules.areas import is_valid_area_code
from workflows.supervision.checks import route
from workflows.supervision.complaint import ComplaintWorkflow
from workflows.supervision.contract import (
    CATEGORY_NAMES_ZH,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintStatus,
    DeliveryChannel,
    ResponsibleLevel,
    complaint_workflow_id,
)
from workflows.supervision.models import (
    ComplaintFindings,
    ComplaintFollowUp,
    ComplaintInput,
    ComplaintReply,
    ComplaintState,
    ComplaintStepResult,
)

router = APIRouter(prefix="/complaints", tags=["complaints"])

INTAKE = (Role.VILLAGE_ASSISTANT, Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
HANDLERS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER)
READERS = (Role.TOWNSHIP_OFFICER, Role.COUNTY_OFFICER, Role.AUDITOR, Role.ADMIN)
REGISTER = (Role.COUNTY_OFFICER, Role.AUDITOR, Role.ADMIN)
Intake = Annotated[Actor, Depends(require_roles(*INTAKE))]
Handler = Annotated[Actor, Depends(require_roles(*HANDLERS))]
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
RegisterReader = Annotated[Actor, Depends(require_roles(*REGISTER))]
Protector = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER, Role.AUDITOR))]


def _invalid(field: str, message_zh: str) -> RefusalError:
    return RefusalError(Refusal(kind=RefusalKind.INVALID_INPUT, message_zh=message_zh, field=field))


class Complainant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName | None = None
    phone: str | None = Field(default=None, pattern=r"^[0-9+\-]{5,20}$")
    address: OptionalShortText = ""

    @model_validator(mode="after")
    def _someone(self) -> "Complainant":
        if not self.name and not self.phone:
            raise ValueError("实名投诉须至少留下姓名或电话 / give a name or a phone number")
        return self


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: ComplaintChannel
    category: ComplaintCategory
    summary_zh: FreeText = Field(min_length=1, max_length=2000)
    subject_case_id: str | None = Field(default=None, min_length=1, max_length=64)
    subject_household_id: str | None = Field(default=None, pattern=r"^H[0-9A-F]{15}$")
    area_code: str | None = Field(default=None, pattern=r"^\d{6}(\d{3}(\d{3})?)?$")
    received_on: PaperDate | None = None
    complainant: Complainant | None = None  # absent: anonymous


class ComplaintCreated(BaseModel):
    complaint_id: str
    status: ComplaintStatus
    level: ResponsibleLevel
    responsible_area: str


class FindingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings_zh: FreeText = Field(min_length=1, max_length=2000)
    substantiated: bool
    investigated_on: PaperDate


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reply_zh: FreeText = Field(min_length=1, max_length=2000)
    channel: DeliveryChannel
    delivered_on: PaperDate


class FollowUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    satisfied: bool
    note_zh: OptionalFreeText = ""
    on: PaperDate


class ComplaintRow(BaseModel):
    """A register line: never the complainant."""

    complaint_id: str
    status: str
    channel: str
    category: str
    level: str
    responsible_area: str
    area_code: str
    subject_case_id: str | None
    subject_household_id: str | None
    anonymous: bool
    received_on: str
    due_date: str | None
    overdue: bool
    escalated: bool
    replied_on: str | None
    replied_on_time: bool | None
    substantiated: bool | None
    satisfied: bool | None


class ComplaintPage(BaseModel):
    items: list[ComplaintRow]
    total: int
    offset: int
    limit: int


class ComplaintStatistics(BaseModel):
    """The county register's figures over complaints received in ``[date_from, date_to]``."""

    scope: str
    date_from: date | None
    date_to: date | None
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    by_level: dict[str, int]
    anonymous: int
    overdue_open: int
    escalated: int
    replied: int
    replied_on_time: int
    substantiated: int
    satisfied: int
    dissatisfied: int


class ComplainantOut(BaseModel):
    complaint_id: str
    name: str
    phone: str
    address: str


# --- intake --------------------------------------------------------------------------------
def subject_of(session: Session, body: ComplaintCreate) -> tuple[str, str | None, str]:
    """The area, household and programme the complaint concerns, from its subject case, else
    its subject household's cases, else the area given."""
    if body.subject_case_id:
        row = session.get(CaseRecord, body.subject_case_id)
        if row is None or row.case_kind in (CaseKind.COMPLAINT.value, CaseKind.SPOT_CHECK.value):
            raise _invalid("subject_case_id", f"没有案件{body.subject_case_id}")
        return row.area_code, row.household_id or None, row.programme
    if body.subject_household_id:
        row = session.exec(
            select(CaseRecord)
            .where(CaseRecord.household_id == body.subject_household_id)
            .order_by(col(CaseRecord.updated_at).desc())
        ).first()
        if row is not None:
            return row.area_code, body.subject_household_id, row.programme
        if not body.area_code:
            raise _invalid("subject_household_id", "没有该户的案件，请同时填写所在地区area_code")
        return body.area_code, body.subject_household_id, ""
    if not body.area_code:
        raise _invalid("subject_case_id", "请填写投诉举报涉及的案件、家庭或地区")
    return body.area_code, None, ""


def save_party(session: Session, complaint_id: str, who: Complainant, actor: Actor) -> None:
    if session.get(ComplaintParty, complaint_id) is None:
        session.add(
            ComplaintParty(
                complaint_id=complaint_id,
                name=who.name or "",
                phone=who.phone or "",
                address=who.address,
                recorded_by=actor.officer_id,
            )
        )


def complaint_id_for(actor: Actor, key: str | None) -> str:
    if key is None:
        return "C" + uuid.uuid4().hex[:15].upper()
    digest = hashlib.sha256(f"{actor.officer_id}\x1fcomplaint\x1f{key}".encode()).hexdigest()
    return f"C{digest[:15].upper()}"


@router.post("", status_code=201, response_model=ComplaintCreated)
async def create_complaint(
    body: ComplaintCreate,
    response: Response,
    actor: Intake,
    db: DatabaseDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ComplaintCreated:
    """Intake by any officer of the county concerned; routed to the responsible level with a
    reply deadline. The same ``Idempotency-Key`` addresses the same complaint."""
    area_code, household_id, programme = await db.read(subject_of, body)
    if not is_valid_area_code(area_code):
        raise _invalid("area_code", f"地区代码{area_code}无效")
    if area_code[:6] != actor.area_code[:6]:
        raise HTTPException(403, f"area {area_code} is outside your county {actor.area_code[:6]}")
    today = beijing_today()
    received_on = body.received_on or today
    if received_on > today:
        raise _invalid("received_on", f"受理日期{received_on}晚于今天")
    complaint_id = complaint_id_for(actor, idempotency_key)
    structlog.contextvars.bind_contextvars(complaint_id=complaint_id)
    if body.complainant is not None:
        await db.write(save_party, complaint_id, body.complainant, actor)
    inp = ComplaintInput(
        complaint_id=complaint_id,
        channel=body.channel,
        category=body.category,
        summary_zh=body.summary_zh,
        area_code=area_code,
        subject_case_id=body.subject_case_id,
        subject_household_id=household_id,
        programme=programme,
        anonymous=body.complainant is None,
        received_on=received_on,
        received_by=actor,
    )
    text = case_static(
        CaseKind.COMPLAINT,
        area_code=area_code,
        programme=programme,
        subject_zh=CATEGORY_NAMES_ZH[body.category],
    )
    try:
        await client.start_workflow(
            ComplaintWorkflow.run,
            inp,
            id=complaint_workflow_id(complaint_id),
            task_queue=settings.task_queue,
            static_summary=text.summary,
            static_details=text.details,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        pass  # a retry of a complaint already closed
    level, responsible = route(body.category, AreaRef.of(area_code))
    await db.write(
        record_started,
        CaseSnapshot(
            case_id=complaint_id,
            workflow_id=complaint_workflow_id(complaint_id),
            case_kind=CaseKind.COMPLAINT.value,
            programme=programme or "complaint",
            status=ComplaintStatus.INVESTIGATING.value,
            area_code=area_code,
            household_id=household_id or "",
            applicant_name="",
            applicant_id_number="",
            household_size=0,
            linked_case_id=body.subject_case_id,
            revision=0,
            detail={
                "channel": body.channel.value,
                "category": body.category.value,
                "level": level.value,
                "responsible_area": responsible,
                "anonymous": body.complainant is None,
                "received_on": received_on.isoformat(),
            },
        ),
    )
    response.headers["Location"] = f"/complaints/{complaint_id}"
    return ComplaintCreated(
        complaint_id=complaint_id,
        status=ComplaintStatus.INVESTIGATING,
        level=level,
        responsible_area=responsible,
    )


# --- the register --------------------------------------------------------------------------
def _row(r: CaseRecord) -> ComplaintRow:
    d: dict[str, Any] = r.detail or {}
    return ComplaintRow(
        complaint_id=r.case_id,
        status=r.status,
        channel=str(d.get("channel")),
        category=str(d.get("category")),
        level=str(d.get("level")),
        responsible_area=str(d.get("responsible_area")),
        area_code=r.area_code,
        subject_case_id=r.linked_case_id,
        subject_household_id=r.household_id or None,
        anonymous=bool(d.get("anonymous")),
        received_on=str(d.get("received_on")),
        due_date=d.get("due_date"),
        overdue=r.overdue,
        escalated=bool(d.get("escalated")),
        replied_on=d.get("replied_on"),
        replied_on_time=d.get("replied_on_time"),
        substantiated=d.get("substantiated"),
        satisfied=d.get("satisfied"),
    )


def _rows(session: Session, scope: str) -> Any:
    return select(CaseRecord).where(
        CaseRecord.case_kind == CaseKind.COMPLAINT.value,
        col(CaseRecord.area_code).startswith(scope),
    )


def complaint_page(
    session: Session,
    scope: str,
    status: str | None,
    overdue: bool | None,
    offset: int,
    limit: int,
) -> ComplaintPage:
    query = _rows(session, scope)
    if status:
        query = query.where(CaseRecord.status == status)
    if overdue is not None:
        query = query.where(CaseRecord.overdue == overdue)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(CaseRecord.created_at).desc()).offset(offset).limit(limit)
    ).all()
    return ComplaintPage(items=[_row(r) for r in rows], total=total, offset=offset, limit=limit)


@router.get("", response_model=ComplaintPage)
async def list_complaints(
    actor: Reader,
    db: DatabaseDep,
    area_code: Annotated[str | None, Query(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")] = None,
    status: ComplaintStatus | None = None,
    overdue: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ComplaintPage:
    """The register inside my area (or the area given), newest first."""
    if area_code:
        ensure_area(actor, area_code)
    scope = area_code or actor.area_code
    return await db.read(
        complaint_page, scope, status.value if status else None, overdue, offset, limit
    )


def statistics(
    session: Session, scope: str, date_from: date | None, date_to: date | None
) -> ComplaintStatistics:
    rows = [_row(r) for r in session.exec(_rows(session, scope)).all()]
    if date_from:
        rows = [r for r in rows if r.received_on >= date_from.isoformat()]
    if date_to:
        rows = [r for r in rows if r.received_on <= date_to.isoformat()]
    return ComplaintStatistics(
        scope=scope,
        date_from=date_from,
        date_to=date_to,
        total=len(rows),
        by_status=dict(Counter(r.status for r in rows)),
        by_category=dict(Counter(r.category for r in rows)),
        by_channel=dict(Counter(r.channel for r in rows)),
        by_level=dict(Counter(r.level for r in rows)),
        anonymous=sum(r.anonymous for r in rows),
        overdue_open=sum(r.overdue and r.status != ComplaintStatus.CLOSED for r in rows),
        escalated=sum(r.escalated for r in rows),
        replied=sum(r.replied_on is not None for r in rows),
        replied_on_time=sum(bool(r.replied_on_time) for r in rows),
        substantiated=sum(bool(r.substantiated) for r in rows),
        satisfied=sum(r.satisfied is True for r in rows),
        dissatisfied=sum(r.satisfied is False for r in rows),
    )


@router.get("/statistics", response_model=ComplaintStatistics)
async def complaint_statistics(
    actor: RegisterReader,
    db: DatabaseDep,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> ComplaintStatistics:
    """The county register's statistics: by status, category, channel and level; overdue,
    escalated, replied (on time), substantiated, satisfied."""
    if county_code:
        ensure_area(actor, county_code)
    if date_from and date_to and date_from > date_to:
        raise _invalid("from", "起始日期晚于截止日期")
    scope = county_code or actor.area_code
    return await db.read(statistics, scope, date_from, date_to)


def complaint_row(session: Session, actor: Actor, complaint_id: str) -> CaseRecord:
    return case_row(
        session, actor, CaseKind.COMPLAINT, complaint_id, f"complaint {complaint_id} not found"
    )


@router.get("/{complaint_id}", response_model=ComplaintState)
async def get_complaint(
    complaint_id: str, actor: Reader, db: DatabaseDep, client: TemporalClientDep
) -> ComplaintState:
    """The complaint's live record: routing, deadline, findings, replies, follow-ups."""
    await db.read(complaint_row, actor, complaint_id)
    handle = client.get_workflow_handle_for(
        ComplaintWorkflow.run, complaint_workflow_id(complaint_id)
    )
    state: ComplaintState = await case_state(
        handle, ComplaintWorkflow.get_state, f"complaint {complaint_id} not found"
    )
    return state


def party(session: Session, actor: Actor, complaint_id: str) -> ComplainantOut:
    complaint_row(session, actor, complaint_id)
    row = session.get(ComplaintParty, complaint_id)
    if row is None:
        raise HTTPException(404, f"complaint {complaint_id} is anonymous")
    return ComplainantOut(
        complaint_id=complaint_id, name=row.name, phone=row.phone, address=row.address
    )


@router.get("/{complaint_id}/complainant", response_model=ComplainantOut)
async def get_complainant(complaint_id: str, actor: Protector, db: DatabaseDep) -> ComplainantOut:
    """The complainant's identity: county officers and auditors only."""
    return await db.read(party, actor, complaint_id)


# --- steps -----------------------------------------------------------------------------------
async def run_step(
    db: Database,
    client: Client,
    actor: Actor,
    complaint_id: str,
    update: object,
    arg: BaseModel,
    body: BaseModel,
    idempotency_key: str | None,
) -> ComplaintStepResult:
    await db.read(complaint_row, actor, complaint_id)
    handle = client.get_workflow_handle_for(
        ComplaintWorkflow.run, complaint_workflow_id(complaint_id)
    )
    return await run_case_step(
        db,
        actor,
        handle,
        complaint_id,
        update,
        arg,
        body,
        idempotency_key,
        ComplaintStepResult,
        closed_zh="投诉举报已办结",
        log_as="complaint_id",
    )


@router.post("/{complaint_id}/findings", response_model=ComplaintStepResult)
async def record_findings(
    complaint_id: str,
    body: FindingsIn,
    actor: Handler,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ComplaintStepResult:
    """The responsible level records its investigation's findings."""
    cmd = ComplaintFindings(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        complaint_id,
        ComplaintWorkflow.record_findings,
        cmd,
        body,
        idempotency_key,
    )


@router.post("/{complaint_id}/reply", response_model=ComplaintStepResult)
async def record_reply(
    complaint_id: str,
    body: ReplyIn,
    actor: Handler,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ComplaintStepResult:
    """The reply and how it reached the complainant (anonymous: on the record)."""
    cmd = ComplaintReply(actor=actor, **body.model_dump())
    return await run_step(
        db, client, actor, complaint_id, ComplaintWorkflow.record_reply, cmd, body, idempotency_key
    )


@router.post("/{complaint_id}/follow-up", response_model=ComplaintStepResult)
async def record_follow_up(
    complaint_id: str,
    body: FollowUpIn,
    actor: Intake,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ComplaintStepResult:
    """The complainant's follow-up (回访): satisfied, or not (the county re-examines)."""
    cmd = ComplaintFollowUp(actor=actor, **body.model_dump())
    return await run_step(
        db,
        client,
        actor,
        complaint_id,
        ComplaintWorkflow.record_follow_up,
        cmd,
        body,
        idempotency_key,
    )
