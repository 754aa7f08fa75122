"""Bank batches (DOMAIN §5–6): every file handed to the paying bank, and the county's daily batch
of temporary assistance (prepayments, awards, 一事一议 stages) — its status, totals per kind and
status, and the reserve-fund credit-backs of refused prepayments; trigger and backfill of the
daily batch through the county's Temporal Schedule (17:00 Beijing, value date the next working
day)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlmodel import col, select

from api.deps import (
    EngineDep,
    SessionDep,
    SettingsDep,
    TemporalClientDep,
    ensure_area,
    require_roles,
)
from api.errors import field_error
from api.routes.payroll import county_checked
from api.validators import LongLimit, Offset
from jiuzhu.calendar_store import working_calendar
from jiuzhu.clock import beijing_today
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_payments import BankBatch
from jiuzhu.schedules import backfill_daily_batch, trigger_daily_batch
from workflows.payments.contract import daily_batch_id, daily_batch_schedule_id

router = APIRouter(prefix="/bank-batches", tags=["bank batches"])

READERS = (Role.COUNTY_OFFICER, Role.FINANCE, Role.AUDITOR, Role.ADMIN)
Reader = Annotated[Actor, Depends(require_roles(*READERS))]
# County civil affairs compiles the lists, county finance funds the bank (DOMAIN §2).
Sender = Annotated[Actor, Depends(require_roles(Role.COUNTY_OFFICER, Role.FINANCE, Role.ADMIN))]


class KindStatusTotal(BaseModel):
    kind: str
    status: str
    count: int
    total: Decimal


class BankBatchOut(BaseModel):
    batch: BankBatch
    totals: list[KindStatusTotal]


class DailyBackfillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: date = Field(
        description="the day the batch is made (its value date: the next working day)"
    )


class DailyAccepted(BaseModel):
    schedule_id: str
    value_date: date
    batch_id: str
    value_date_provisional: bool


def _accepted(engine: EngineDep, county: str, day: date) -> DailyAccepted:
    found = working_calendar(engine).first_working_day_on_or_after(day + timedelta(days=1))
    return DailyAccepted(
        schedule_id=daily_batch_schedule_id(county),
        value_date=found.date,
        batch_id=daily_batch_id(county, found.date),
        value_date_provisional=found.provisional,
    )


@router.get("", response_model=list[BankBatch])
def list_batches(
    actor: Reader,
    session: SessionDep,
    county_code: Annotated[str, Query(pattern=r"^\d{6}$")],
    kind: Annotated[str | None, Query(max_length=20)] = None,
    offset: Offset = 0,
    limit: LongLimit = 60,
) -> list[BankBatch]:
    """The county's bank batches, latest value date first (``kind=temporary``: the daily
    batches of temporary assistance)."""
    ensure_area(actor, county_code)
    query = select(BankBatch).where(BankBatch.county_code == county_code)
    if kind is not None:
        query = query.where(BankBatch.kind == kind)
    return list(
        session.exec(
            query.order_by(col(BankBatch.value_date).desc(), col(BankBatch.batch_id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    )


@router.get("/{batch_id}", response_model=BankBatchOut)
def get_batch(batch_id: str, actor: Reader, session: SessionDep) -> BankBatchOut:
    """One batch: its record (status, file, reconciliation, credit-backs) and its lines'
    totals per kind and status."""
    row = session.get(BankBatch, batch_id)
    if row is None:
        raise HTTPException(404, f"银行批次{batch_id}不存在")
    ensure_area(actor, row.county_code)
    rows = session.execute(
        text(
            "SELECT kind, status, COUNT(*), SUM(amount) FROM payment_instruction "
            "WHERE payroll_id = :b GROUP BY kind, status ORDER BY kind, status"
        ),
        {"b": batch_id},
    ).all()
    return BankBatchOut(
        batch=row,
        totals=[
            KindStatusTotal(
                kind=r[0],
                status=r[1],
                count=int(r[2]),
                total=Decimal(str(r[3] or 0)).quantize(Decimal("0.01")),
            )
            for r in rows
        ],
    )


@router.post("/daily/{county_code}/trigger", status_code=202, response_model=DailyAccepted)
async def trigger(
    county_code: str,
    actor: Sender,
    client: TemporalClientDep,
    settings: SettingsDep,
    engine: EngineDep,
) -> DailyAccepted:
    """Run the county's daily batch now: today's pending temporary aid, for the next working
    day (a batch of that value date that already moved money returns its record)."""
    county_checked(actor, county_code)
    await trigger_daily_batch(client, county_code, settings.task_queue)
    return _accepted(engine, county_code, beijing_today())


@router.post("/daily/{county_code}/backfill", status_code=202, response_model=DailyAccepted)
async def backfill(
    county_code: str,
    body: DailyBackfillIn,
    actor: Sender,
    client: TemporalClientDep,
    settings: SettingsDep,
    engine: EngineDep,
) -> DailyAccepted:
    """Run the daily batch as of ``day`` 17:00 Beijing (e.g. a day the schedule missed): the
    batch of the next working day after ``day``."""
    county_checked(actor, county_code)
    if body.day > beijing_today():
        raise field_error("day", "补发日期不能晚于今天")
    await backfill_daily_batch(client, county_code, settings.task_queue, body.day)
    return _accepted(engine, county_code, body.day)
