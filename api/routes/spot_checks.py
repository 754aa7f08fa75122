"""Spot checks (抽查, 焦民〔2022〕154号 第五条): the county's monthly sample of 低保/特困 decisions.

A county officer starts the round of a month already over (``POST /spot-checks``; one per
county and month); the round draws its sample with a recorded seed and makes each sampled
case a task with a deadline. Lists come from the read model (``case_record`` kind
``spot_check``), the live round from the workflow's query, the recorded draw — with a redraw
from its seed and population that must give the same cases — from ``spot_check_draw``. The
finding on a sampled case is the ``record_spot_check`` Update (idempotent per
``Idempotency-Key``)."""

import hashlib
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.supervision.models import SampledDecision
from api.db import DatabaseDep
from api.deps import (
    IdempotencyKeyHeader,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.updates import case_row, case_state, record_started, run_case_step
from api.validators import FreeText, Limit, Offset, PaperDate, PayrollPeriod
from jiuzhu.clock import beijing_today
from jiuzhu.console import case_static
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.models_supervision import SpotCheckDraw
from jiuzhu.records import CaseSnapshot
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind
from workflows.supervision.contract import CheckOutcome, SpotCheckStatus, spot_check_id
from workflows.supervision.models import (
    RecordSpotCheck,
    SpotCheckInput,
    SpotCheckState,
    SpotCheckStepResult,
)
from workflows.supervision.sampling import draw
from workflows.supervision.spot_check import SpotCheckRoundWorkflow

router = APIRouter(prefix="/spot-checks", tags=["spot-checks"])

READERS = (Role.COUNTY_OFFICER, Role.AUDITOR, Role.ADMIN)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
CountyOfficer = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER))]


class SpotCheckCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    county_code: str = Field(pattern=r"^\d{6}$")
    period: PayrollPeriod
    seed: int | None = Field(default=None, ge=0, lt=2**62)


class SpotCheckStarted(BaseModel):
    round_id: str
    county_code: str
    period: str


class SpotCheckSummary(BaseModel):
    round_id: str
    county_code: str
    period: str
    status: str
    seed: int | None
    population_size: int
    sample_size: int
    pending: int
    reversed: int
    confirmed: int
    strata: list[dict[str, Any]]
    next_deadline: str | None
    overdue: bool


class SpotCheckPage(BaseModel):
    items: list[SpotCheckSummary]
    total: int
    offset: int
    limit: int


class DrawOut(BaseModel):
    """The recorded draw, and whether a redraw from its seed and population gives it again."""

    round_id: str
    county_code: str
    period: str
    seed: int
    population_digest: str
    population: list[SampledDecision]
    sampled: list[str]
    strata: list[dict[str, Any]]
    policy_version_id: str | None
    reproduced: bool


class SpotCheckFinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: CheckOutcome
    findings_zh: FreeText = Field(min_length=1, max_length=2000)
    checked_on: PaperDate
    transfer_check: str | None = Field(default=None, pattern=r"^(dibao|temporary|none_eligible)$")


def _first_of_month(day: date) -> date:
    return day.replace(day=1)


@router.post("", status_code=201, response_model=SpotCheckStarted)
async def start_round(
    body: SpotCheckCreate,
    response: Response,
    actor: CountyOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> SpotCheckStarted:
    """Start the county's spot check of a month's decisions (a month already over)."""
    ensure_area(actor, body.county_code)
    if date(int(body.period[:4]), int(body.period[5:7]), 1) >= _first_of_month(beijing_today()):
        raise RefusalError(
            Refusal(
                kind=RefusalKind.INVALID_INPUT,
                message_zh=f"只能抽查已结束月份的审核确认，{body.period}尚未结束",
                field="period",
            )
        )
    round_id = spot_check_id(body.county_code, body.period)
    structlog.contextvars.bind_contextvars(round_id=round_id)
    text = case_static(
        CaseKind.SPOT_CHECK, area_code=body.county_code, subject_zh=f"{body.period}审核确认抽查"
    )
    try:
        await client.start_workflow(
            SpotCheckRoundWorkflow.run,
            SpotCheckInput(
                round_id=round_id,
                county_code=body.county_code,
                period=body.period,
                seed=body.seed,
                started_by=actor,
            ),
            id=round_id,
            task_queue=settings.task_queue,
            static_summary=text.summary,
            static_details=text.details,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        )
    except WorkflowAlreadyStartedError:
        raise RefusalError(
            Refusal(
                kind=RefusalKind.CONFLICT,
                message_zh=f"{body.county_code}的{body.period}抽查已开展",
                field="period",
                extra={"round_id": round_id},
            )
        ) from None
    await db.write(
        record_started,
        CaseSnapshot(
            case_id=round_id,
            workflow_id=round_id,
            case_kind=CaseKind.SPOT_CHECK.value,
            programme="spot_check",
            status=SpotCheckStatus.OPEN.value,
            area_code=body.county_code,
            household_id="",
            applicant_name=f"{body.period}抽查",
            applicant_id_number="",
            household_size=0,
            revision=0,
            detail={"period": body.period, "seed": body.seed},
        ),
    )
    response.headers["Location"] = f"/spot-checks/{round_id}"
    return SpotCheckStarted(round_id=round_id, county_code=body.county_code, period=body.period)


def _summary(r: CaseRecord) -> SpotCheckSummary:
    d = r.detail or {}
    return SpotCheckSummary(
        round_id=r.case_id,
        county_code=r.county_code,
        period=str(d.get("period", "")),
        status=r.status,
        seed=d.get("seed"),
        population_size=int(d.get("population_size", 0)),
        sample_size=int(d.get("sample_size", 0)),
        pending=int(d.get("pending", 0)),
        reversed=int(d.get("reversed", 0)),
        confirmed=int(d.get("confirmed", 0)),
        strata=list(d.get("strata", [])),
        next_deadline=r.next_deadline.isoformat() if r.next_deadline else None,
        overdue=r.overdue,
    )


def round_page(
    session: Session, scope: str, status: str | None, offset: int, limit: int
) -> SpotCheckPage:
    query = select(CaseRecord).where(
        CaseRecord.case_kind == CaseKind.SPOT_CHECK.value,
        col(CaseRecord.area_code).startswith(scope),
    )
    if status:
        query = query.where(CaseRecord.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(CaseRecord.case_id).desc()).offset(offset).limit(limit)
    ).all()
    return SpotCheckPage(items=[_summary(r) for r in rows], total=total, offset=offset, limit=limit)


@router.get("", response_model=SpotCheckPage)
async def list_rounds(
    actor: Reader,
    db: DatabaseDep,
    county_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    status: SpotCheckStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> SpotCheckPage:
    """The rounds inside my area (or the county given), latest month first."""
    if county_code:
        ensure_area(actor, county_code)
    scope = county_code or actor.area_code
    return await db.read(round_page, scope, status.value if status else None, offset, limit)


def round_row(session: Session, actor: Actor, round_id: str) -> CaseRecord:
    return case_row(
        session, actor, CaseKind.SPOT_CHECK, round_id, f"spot check {round_id} not found"
    )


@router.get("/{round_id}", response_model=SpotCheckState)
async def get_round(
    round_id: str, actor: Reader, db: DatabaseDep, client: TemporalClientDep
) -> SpotCheckState:
    """The live round: population, seed, strata, the sampled tasks with their deadlines."""
    await db.read(round_row, actor, round_id)
    handle = client.get_workflow_handle_for(SpotCheckRoundWorkflow.run, round_id)
    state: SpotCheckState = await case_state(
        handle, SpotCheckRoundWorkflow.get_state, f"spot check {round_id} not found"
    )
    return state


def draw_row(session: Session, actor: Actor, round_id: str) -> SpotCheckDraw:
    row = session.get(SpotCheckDraw, round_id)
    if row is None:
        raise HTTPException(404, f"spot check draw {round_id} not found")
    ensure_area(actor, row.county_code)
    return row


@router.get("/{round_id}/draw", response_model=DrawOut)
async def get_draw(round_id: str, actor: Reader, db: DatabaseDep) -> DrawOut:
    """The recorded draw (seed, population, sample) and a redraw from them: ``reproduced`` is
    true when the same seed and population give the same sample under the rates recorded."""
    row = await db.read(draw_row, actor, round_id)
    population = [SampledDecision.model_validate(x) for x in row.population]
    rates = {s["name"]: Decimal(str(s["rate"])) for s in row.strata}
    redrawn = draw(
        population, row.seed, rates.get("others", Decimal(1)), rates.get("relatives", Decimal(1))
    )
    digest = hashlib.sha256("\n".join(sorted(d.case_id for d in population)).encode()).hexdigest()
    return DrawOut(
        round_id=row.round_id,
        county_code=row.county_code,
        period=row.period,
        seed=row.seed,
        population_digest=row.population_digest,
        population=population,
        sampled=list(row.sampled),
        strata=list(row.strata),
        policy_version_id=row.policy_version_id,
        reproduced=redrawn.sampled == list(row.sampled) and digest == row.population_digest,
    )


@router.post("/{round_id}/tasks/{case_id}", response_model=SpotCheckStepResult)
async def record_finding(
    round_id: str,
    case_id: str,
    body: SpotCheckFinding,
    actor: CountyOfficer,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> SpotCheckStepResult:
    """The county's finding on a sampled case: confirmed, or reversed (the case re-opens on its
    statutory path: an approval's entitlement stops after its review; a refusal is decided
    again in a new application linked to it)."""
    await db.read(round_row, actor, round_id)
    structlog.contextvars.bind_contextvars(round_id=round_id, case_id=case_id)
    cmd = RecordSpotCheck(actor=actor, case_id=case_id, **body.model_dump())
    handle = client.get_workflow_handle_for(SpotCheckRoundWorkflow.run, round_id)
    return await run_case_step(
        db,
        actor,
        handle,
        round_id,
        SpotCheckRoundWorkflow.record_spot_check,
        cmd,
        body,
        idempotency_key,
        SpotCheckStepResult,
        closed_zh="本次抽查已全部办结",
        log_as="round_id",
        step=case_id,  # one key scope per sampled case: step:{round}:{case}
    )
