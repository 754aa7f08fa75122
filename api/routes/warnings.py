"""Monitoring warnings (动态监测预警): data-comparison loads per area that raise warnings by rule,
and each warning's home-visit task (``MonitoringWarningWorkflow``).

- ``POST /warnings/imports``: a county officer (or the admin) loads one kind of comparison data
  (income, assets, deaths, hospitalisation, disability, vehicles, business registrations) for
  people inside their area (``api/scoping.py``; others refused and counted — 焦民〔2022〕154号 一,
  seed 002: 县（市、区）民政局与有关部门每月至少进行1次信息比对). Each record of a member of the
  monitoring population that meets a rule (``workflows/monitoring/rules.py``, thresholds from the
  policy in force) starts one warning; the same record loaded again finds it.
- ``GET /warnings``, ``GET /warnings/{id}``: the list from the read model, the live state from
  the workflow's query.
- ``POST /warnings/{id}/visit``: the township's home visit and its outcome (an Update; once per
  ``Idempotency-Key``).

No route here changes a payment: a warning only asks for a visit (seed 002)."""

import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from activities.monitoring.population import exit_cutoff
from api.db import Database, DatabaseDep
from api.deps import (
    IdempotencyKeyHeader,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.scoping import people_in_area
from api.updates import case_row, case_state, record_started, run_case_step
from api.validators import (
    FreeText,
    IdNumber,
    Limit,
    Money,
    Offset,
    OptionalFreeText,
    OptionalShortText,
    PaperDate,
    PersonName,
    ShortText,
)
from jiuzhu.clock import beijing_today
from jiuzhu.console import case_static
from jiuzhu.contract import Actor, CaseKind, Role
from jiuzhu.db.models import CaseRecord
from jiuzhu.db.models_monitoring import (
    MonitoringImport,
    MonitoringObservation,
    MonitoringSubject,
)
from jiuzhu.db.models_payments import EntitlementMember
from jiuzhu.db.sealing import blind_indexes
from jiuzhu.policy_store import policy_in_force
from jiuzhu.records import CaseSnapshot
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind
from rules.id_number import validate_id_number
from rules.policy import Policy
from rules.programmes import Programme
from workflows.entitlements.contract import entitlement_workflow_id
from workflows.monitoring.contract import (
    AMOUNT_KINDS,
    DATA_NAMES_ZH,
    RECIPIENT_CATEGORIES,
    DataKind,
    MonitoringCategory,
    VisitOutcome,
    WarningStatus,
    warning_id_for,
    warning_workflow_id,
)
from workflows.monitoring.models import RecordVisit, WarningInput, WarningState, WarningStepResult
from workflows.monitoring.rules import warning_rule
from workflows.monitoring.workflow import MonitoringWarningWorkflow

router = APIRouter(prefix="/warnings", tags=["warnings"])

READERS = (
    Role.TOWNSHIP_OFFICER,
    Role.COUNTY_OFFICER,
    Role.AUDITOR,
    Role.ADMIN,
)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
Loader = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER, Role.ADMIN))]
Visitor = Annotated[Actor, Depends(require_roles(Role.TOWNSHIP_OFFICER))]

# Who comes first when a person is in several population rows: the household being paid.
_RANK = {
    MonitoringCategory.DIBAO.value: 0,
    MonitoringCategory.TEKUN.value: 0,
    MonitoringCategory.DIBAO_EDGE.value: 1,
    MonitoringCategory.RIGID_EXPENSE.value: 1,
    MonitoringCategory.REFUSED.value: 2,
    MonitoringCategory.EXITED.value: 3,
}


class ObservationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_number: IdNumber
    amount: Money | None = None
    observed_on: PaperDate
    note: OptionalShortText = ""

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str) -> str:
        return validate_id_number(v)

    @field_validator("observed_on")
    @classmethod
    def _past(cls, v: date) -> date:
        if v > beijing_today():
            raise ValueError("observed_on is in the future / 比对日期晚于今天")
        return v


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DataKind
    source: ShortText = Field(min_length=1, max_length=100)  # e.g. 税务、医保、公安车管
    records: list[ObservationIn] = Field(min_length=1, max_length=10_000)


class ImportOut(BaseModel):
    import_id: str
    kind: DataKind
    record_count: int
    warnings_raised: int
    already_raised: int
    not_monitored: int  # inside the area but not in the monitoring population
    below_threshold: int = 0  # monitored, but the record crosses no warning rule
    refused_out_of_area: int
    refused: list[str] = Field(default_factory=list)  # their fields, e.g. "records.3.id_number"
    warning_ids: list[str] = Field(default_factory=list)


class WarningSummary(BaseModel):
    warning_id: str
    status: str
    kind: str
    category: str
    area_code: str
    household_id: str
    person_name: str
    rule_zh: str
    due_date: str | None
    overdue: bool
    updated_at: datetime


class WarningPage(BaseModel):
    items: list[WarningSummary]
    total: int
    offset: int
    limit: int


class VisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visited_on: PaperDate
    # Two people visit, as for an application's home investigation (its ``investigators``).
    visitors: list[PersonName] = Field(min_length=2, max_length=10)
    finding_zh: FreeText = Field(min_length=1, max_length=2000)
    outcome: VisitOutcome
    programme: Programme | None = None
    reason_zh: OptionalFreeText = Field(default="", max_length=1000)


def _bad(field: str, message: str) -> RefusalError:
    return RefusalError(
        Refusal(kind=RefusalKind.INVALID_INPUT, message_zh=f"{field}: {message}", field=field)
    )


class _Plan(BaseModel):
    import_id: str
    warnings: list[WarningInput]
    not_monitored: int
    below_threshold: int = 0
    refused: list[str]


def _subjects(
    session: Session, ids: set[str], scope: str, today: date, policies: "_Policies"
) -> dict[str, tuple[MonitoringSubject, str]]:
    """Each ID number's monitoring row (the best one) and the person's name."""
    found: dict[str, list[tuple[MonitoringSubject, str]]] = {}
    indexes = blind_indexes(ids)  # the numbers are sealed: matched by their blind index
    heads = session.exec(
        select(MonitoringSubject).where(
            col(MonitoringSubject.id_number_index).in_(indexes),
            col(MonitoringSubject.area_code).startswith(scope),
        )
    ).all()
    for row in heads:
        found.setdefault(row.id_number, []).append((row, row.name))
    members = session.exec(
        select(EntitlementMember, MonitoringSubject)
        .join(
            MonitoringSubject,
            col(MonitoringSubject.source_case_id) == col(EntitlementMember.case_id),
        )
        .where(
            col(EntitlementMember.id_number_index).in_(indexes),
            col(MonitoringSubject.area_code).startswith(scope),
        )
    ).all()
    for member, row in members:
        if member.id_number != row.id_number:
            found.setdefault(member.id_number, []).append((row, member.name))
    best: dict[str, tuple[MonitoringSubject, str]] = {}
    for id_number, rows in found.items():
        current = [
            (row, name)
            for row, name in rows
            if row.category != MonitoringCategory.EXITED.value
            or (
                row.ended_on is not None
                and row.ended_on
                >= exit_cutoff(today, policies.get(row.area_code).monitoring_after_exit)
            )
        ]
        if current:
            best[id_number] = min(current, key=lambda rn: (_RANK[rn[0].category], rn[0].since))
    return best


class _Policies:
    def __init__(self, session: Session, policies_dir: Path, today: date) -> None:
        self.engine = session.get_bind()
        self.dir = policies_dir
        self.today = today
        self._cache: dict[str, Policy] = {}

    def get(self, area_code: str) -> Policy:
        if area_code not in self._cache:
            self._cache[area_code] = policy_in_force(
                self.engine,  # type: ignore[arg-type]
                self.dir,
                area_code,
                self.today,
            )
        return self._cache[area_code]


def prepare_import(session: Session, actor: Actor, body: ImportIn, policies_dir: Path) -> _Plan:
    """Scope, match and apply the rules; write the load and its records (one transaction)."""
    today = beijing_today()
    policies = _Policies(session, policies_dir, today)
    inside = people_in_area(session, actor, (r.id_number for r in body.records))
    refused = [
        f"records.{i}.id_number" for i, r in enumerate(body.records) if r.id_number not in inside
    ]
    subjects = _subjects(session, inside, actor.area_code, today, policies)
    import_id = "M" + uuid.uuid4().hex[:15].upper()
    warnings: dict[str, WarningInput] = {}
    not_monitored = below_threshold = 0
    for record in body.records:
        if record.id_number not in inside:
            continue
        hit = subjects.get(record.id_number)
        rule = None
        if hit is not None:
            subject, name = hit
            category = MonitoringCategory(subject.category)
            rule = warning_rule(body.kind, record.amount, category, policies.get(subject.area_code))
        warning_id = None
        if hit is not None and rule is not None:
            warning_id = warning_id_for(
                record.id_number, body.kind.value, record.observed_on, subject.area_code
            )
            paid = category in RECIPIENT_CATEGORIES
            warnings.setdefault(
                warning_id,
                WarningInput(
                    warning_id=warning_id,
                    import_id=import_id,
                    kind=body.kind,
                    rule_zh=rule,
                    amount=record.amount,
                    observed_on=record.observed_on,
                    note=record.note,
                    person_id_number=record.id_number,
                    person_name=name,
                    household_id=subject.household_id,
                    household_size=subject.household_size,
                    area_code=subject.area_code,
                    category=category,
                    programme=subject.programme,
                    source_case_id=subject.source_case_id,
                    entitlement_workflow_id=(
                        entitlement_workflow_id(subject.household_id, subject.programme)
                        if paid
                        else None
                    ),
                    raised_by=actor,
                ),
            )
        elif hit is None:
            not_monitored += 1
        else:
            below_threshold += 1
        session.add(
            MonitoringObservation(
                import_id=import_id,
                kind=body.kind.value,
                id_number=record.id_number,
                amount=record.amount,
                observed_on=record.observed_on,
                note=record.note,
                warning_id=warning_id,
            )
        )
    session.add(
        MonitoringImport(
            import_id=import_id,
            kind=body.kind.value,
            source=body.source,
            area_code=actor.area_code,
            loaded_by=actor.officer_id,
            record_count=len(body.records),
            not_monitored=not_monitored,
            refused_out_of_area=len(refused),
        )
    )
    return _Plan(
        import_id=import_id,
        warnings=list(warnings.values()),
        not_monitored=not_monitored,
        below_threshold=below_threshold,
        refused=refused,
    )


def _count(session: Session, import_id: str, raised: int, already: int) -> None:
    row = session.get(MonitoringImport, import_id)
    if row is not None:
        row.warnings_raised, row.already_raised = raised, already
        session.add(row)


def _first_row(inp: WarningInput) -> CaseSnapshot:
    """The warning's revision-0 read-model row, written as it starts (``record_started``)."""
    return CaseSnapshot(
        case_id=inp.warning_id,
        workflow_id=warning_workflow_id(inp.warning_id),
        case_kind=CaseKind.WARNING.value,
        programme=inp.programme,
        status=WarningStatus.AWAITING_VISIT.value,
        area_code=inp.area_code,
        household_id=inp.household_id,
        applicant_name=inp.person_name,
        applicant_id_number=inp.person_id_number,
        household_size=inp.household_size,
        linked_case_id=inp.source_case_id,
        revision=0,
        detail={
            "kind": inp.kind.value,
            "category": inp.category.value,
            "rule_zh": inp.rule_zh,
            "import_id": inp.import_id,
            "observed_on": inp.observed_on.isoformat(),
        },
    )


@router.post("/imports", status_code=201, response_model=ImportOut)
async def load_comparison(
    body: ImportIn,
    actor: Loader,
    db: DatabaseDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> ImportOut:
    """Load one kind of comparison data for my area; raise a warning for each record of a
    monitored person that meets its rule (the same record again finds its warning)."""
    if body.kind in AMOUNT_KINDS:
        for i, record in enumerate(body.records):
            if record.amount is None:
                raise _bad(f"records.{i}.amount", f"{DATA_NAMES_ZH[body.kind]}比对记录须有金额")
    plan = await db.write(prepare_import, actor, body, settings.policies_dir)
    raised: list[str] = []
    started: list[CaseSnapshot] = []
    already = 0
    for inp in plan.warnings:
        text = case_static(
            CaseKind.WARNING,
            area_code=inp.area_code,
            applicant_name=inp.person_name,
            subject_zh=DATA_NAMES_ZH[inp.kind],
        )
        try:
            await client.start_workflow(
                MonitoringWarningWorkflow.run,
                inp,
                id=warning_workflow_id(inp.warning_id),
                task_queue=settings.task_queue,
                static_summary=text.summary,
                static_details=text.details,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
            raised.append(inp.warning_id)
            started.append(_first_row(inp))
        except WorkflowAlreadyStartedError:
            already += 1
    await db.write(record_started, *started)
    await db.write(_count, plan.import_id, len(raised), already)
    structlog.get_logger("jiuzhu.api").info(
        "comparison loaded", import_id=plan.import_id, raised=len(raised), already=already
    )
    return ImportOut(
        import_id=plan.import_id,
        kind=body.kind,
        record_count=len(body.records),
        warnings_raised=len(raised),
        already_raised=already,
        not_monitored=plan.not_monitored,
        below_threshold=plan.below_threshold,
        refused_out_of_area=len(plan.refused),
        refused=plan.refused[:100],
        warning_ids=raised,
    )


def warning_page(
    session: Session,
    scope: str,
    status: str | None,
    kind: str | None,
    offset: int,
    limit: int,
) -> WarningPage:
    query = select(CaseRecord).where(
        CaseRecord.case_kind == CaseKind.WARNING.value,
        col(CaseRecord.area_code).startswith(scope),
    )
    if status:
        query = query.where(CaseRecord.status == status)
    if kind:
        query = query.where(col(CaseRecord.detail)["kind"].as_string() == kind)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(CaseRecord.updated_at).desc()).offset(offset).limit(limit)
    ).all()
    return WarningPage(
        items=[
            WarningSummary(
                warning_id=r.case_id,
                status=r.status,
                kind=str(r.detail.get("kind", "")),
                category=str(r.detail.get("category", "")),
                area_code=r.area_code,
                household_id=r.household_id,
                person_name=r.applicant_name,
                rule_zh=str(r.detail.get("rule_zh", "")),
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


@router.get("", response_model=WarningPage)
async def list_warnings(
    actor: Reader,
    db: DatabaseDep,
    area_code: Annotated[str | None, Query(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")] = None,
    status: WarningStatus | None = None,
    kind: DataKind | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> WarningPage:
    """Warnings inside my area (or the area given), newest first."""
    if area_code:
        ensure_area(actor, area_code)
    return await db.read(
        warning_page,
        area_code or actor.area_code,
        status.value if status else None,
        kind.value if kind else None,
        offset,
        limit,
    )


def warning_row(session: Session, actor: Actor, warning_id: str) -> CaseRecord:
    return case_row(session, actor, CaseKind.WARNING, warning_id, f"warning {warning_id} not found")


async def live_state(client: Client, warning_id: str) -> WarningState:
    handle = client.get_workflow_handle_for(
        MonitoringWarningWorkflow.run, warning_workflow_id(warning_id)
    )
    state: WarningState = await case_state(
        handle, MonitoringWarningWorkflow.get_state, f"warning {warning_id} not found"
    )
    return state


@router.get("/{warning_id}", response_model=WarningState)
async def get_warning(
    warning_id: str, actor: Reader, db: DatabaseDep, client: TemporalClientDep
) -> WarningState:
    """The warning's live state: the rule met, the evidence, the visit deadline, the outcome."""
    await db.read(warning_row, actor, warning_id)
    return await live_state(client, warning_id)


async def _run_visit(
    db: Database,
    client: Client,
    actor: Actor,
    warning_id: str,
    cmd: RecordVisit,
    body: BaseModel,
    idempotency_key: str | None,
) -> WarningStepResult:
    await db.read(warning_row, actor, warning_id)
    handle = client.get_workflow_handle_for(
        MonitoringWarningWorkflow.run, warning_workflow_id(warning_id)
    )
    return await run_case_step(
        db,
        actor,
        handle,
        warning_id,
        MonitoringWarningWorkflow.record_visit,
        cmd,
        body,
        idempotency_key,
        WarningStepResult,
        closed_zh="预警已处置",
        log_as="warning_id",
        step="visit",
    )


@router.post("/{warning_id}/visit", response_model=WarningStepResult)
async def record_visit(
    warning_id: str,
    body: VisitIn,
    actor: Visitor,
    db: DatabaseDep,
    client: TemporalClientDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> WarningStepResult:
    """The township officer records the home visit and its outcome: an application offered,
    a change investigation of the entitlement, temporary aid, or closed with a reason."""
    cmd = RecordVisit(actor=actor, **body.model_dump())
    return await _run_visit(db, client, actor, warning_id, cmd, body, idempotency_key)
