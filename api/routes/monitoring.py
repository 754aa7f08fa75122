"""The low-income monitoring population (低收入人口动态监测, 豫政办〔2022〕103号 三, seed 000; 辽宁
2024 意见 二.2, seed 001): who is in it inside my area — 低保, 特困, 边缘, 支出型, refused
applicants, and those who left 低保/特困 less than ``monitoring_after_exit`` ago, each with the
date and the reason — fed automatically by the workflows' read-model writes
(``activities/monitoring/population.py``). ``POST /monitoring/backfill`` is the one-off back-fill
of cases published before the population existed."""

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from activities.monitoring.population import backfill, exit_cutoff, in_population
from api.deps import SessionDep, SettingsDep, ensure_area, require_roles
from api.validators import LongLimit, Offset
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_monitoring import MonitoringSubject
from jiuzhu.policy_store import policy_in_force
from workflows.monitoring.contract import CATEGORY_NAMES_ZH, MonitoringCategory

router = APIRouter(prefix="/monitoring", tags=["monitoring"])

READERS = (
    Role.VILLAGE_ASSISTANT,
    Role.TOWNSHIP_OFFICER,
    Role.COUNTY_OFFICER,
    Role.AUDITOR,
    Role.ADMIN,
)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]


class SubjectOut(BaseModel):
    source_case_id: str
    source_kind: str
    household_id: str
    category: MonitoringCategory
    category_zh: str
    programme: str
    area_code: str
    name: str
    household_size: int
    since: date
    ended_on: date | None
    reason_zh: str | None
    updated_at: datetime


class PopulationPage(BaseModel):
    items: list[SubjectOut]
    total: int
    offset: int
    limit: int
    exits_since: date  # exits on or after this date are still monitored


class BackfillOut(BaseModel):
    written: int


def population_page(
    session: Session,
    scope: str,
    category: MonitoringCategory | None,
    policies_dir: Path,
    offset: int,
    limit: int,
) -> PopulationPage:
    today = beijing_today()
    kept = policy_in_force(session.get_bind(), policies_dir, scope, today).monitoring_after_exit  # type: ignore[arg-type]
    cutoff = exit_cutoff(today, kept)
    query = select(MonitoringSubject).where(*in_population(scope, cutoff))
    if category is not None:
        query = query.where(MonitoringSubject.category == category.value)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(MonitoringSubject.area_code), col(MonitoringSubject.since))
        .offset(offset)
        .limit(limit)
    ).all()
    return PopulationPage(
        items=[
            SubjectOut(
                source_case_id=r.source_case_id,
                source_kind=r.source_kind,
                household_id=r.household_id,
                category=MonitoringCategory(r.category),
                category_zh=CATEGORY_NAMES_ZH[MonitoringCategory(r.category)],
                programme=r.programme,
                area_code=r.area_code,
                name=r.name,
                household_size=r.household_size,
                since=r.since,
                ended_on=r.ended_on,
                reason_zh=r.reason_zh,
                updated_at=r.updated_at,
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
        exits_since=cutoff,
    )


@router.get("", response_model=PopulationPage)
def list_population(
    actor: Reader,
    session: SessionDep,
    settings: SettingsDep,
    area_code: Annotated[str | None, Query(pattern=r"^\d{6}(\d{3}(\d{3})?)?$")] = None,
    category: MonitoringCategory | None = None,
    offset: Offset = 0,
    limit: LongLimit = 100,
) -> PopulationPage:
    """The monitoring population inside my area (or the area given), by category."""
    if area_code:
        ensure_area(actor, area_code)
    return population_page(
        session, area_code or actor.area_code, category, settings.policies_dir, offset, limit
    )


@router.post("/backfill", response_model=BackfillOut)
def run_backfill(actor: Admin, session: SessionDep) -> BackfillOut:
    """The one-off back-fill for my area: cases already in the read model enter the population
    as their publishers would have put them (idempotent: a row is only brought up to date)."""
    written = backfill(session, actor.area_code)
    session.commit()
    return BackfillOut(written=written)
