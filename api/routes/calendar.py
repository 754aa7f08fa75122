"""The working-day calendar (DOMAIN §8): a year's official schedule (load and read) and date
arithmetic for officers and clients — working days, calendar days, months, payment cut-offs.

Years 2004–2026 come from ``chinese-calendar``; later years are loaded by an admin
(``PUT /calendar/years/{year}``). A result that counts days in a year with no schedule uses
weekdays only and says ``provisional: true``. Loading a year signals ``calendar_changed`` to
every running workflow with a provisional deadline, which recomputes it through an activity
(``DeadlineBook.recompute_provisional``), so replays stay deterministic.
"""

import asyncio
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.client import Client
from temporalio.service import RPCError

from api.deps import CurrentOfficer, EngineDep, TemporalClientDep, require_roles
from api.errors import ProblemError
from api.routes.policies import RulesRoute, unprocessable
from api.schemas.rules import (
    CalendarDate,
    CalendarYearIn,
    CalendarYearLoaded,
    CalendarYearOut,
    WorkingDayOut,
)
from jiuzhu.calendar_store import working_calendar
from jiuzhu.contract import SA_PROVISIONAL, Actor, Role
from jiuzhu.db.models import CalendarYear
from rules.calendar import YearSchedule, add_months, builtin_schedules
from workflows.deadlines.contract import CALENDAR_CHANGED, CalendarChanged

router = APIRouter(prefix="/calendar", tags=["calendar"], route_class=RulesRoute)
log = structlog.get_logger("jiuzhu.api.calendar")

Admin = Annotated[Actor, Depends(require_roles(Role.ADMIN))]

"""Signal name every case workflow with deadlines handles by recomputing provisional ones."""
PROVISIONAL_RUNNING_QUERY = f"{SA_PROVISIONAL.name} = true AND ExecutionStatus = 'Running'"
SIGNAL_CONCURRENCY = 32

YEAR_MIN, YEAR_MAX = 1900, 2199
Year = Annotated[int, Path(ge=YEAR_MIN, le=YEAR_MAX, description="Calendar year")]
MAX_WORKING_DAYS = 3660
MAX_CALENDAR_DAYS = 36600
MAX_MONTHS = 1200


@cache
def _builtin() -> dict[int, YearSchedule]:
    return builtin_schedules()


def _year_out(engine: Engine, year: int) -> CalendarYearOut:
    with Session(engine) as session:
        row = session.get(CalendarYear, year)
    if row is not None:
        return CalendarYearOut(
            year=year,
            source="loaded",
            holidays=sorted(date.fromisoformat(d) for d in row.holidays),
            workdays=sorted(date.fromisoformat(d) for d in row.workdays),
            loaded_by=row.loaded_by,
            loaded_at=row.loaded_at,
        )
    builtin = _builtin().get(year)
    if builtin is not None:
        return CalendarYearOut(
            year=year, source="builtin", holidays=builtin.holidays, workdays=builtin.workdays
        )
    return CalendarYearOut(year=year, source="none", holidays=[], workdays=[])


def _schedule(year: int, body: CalendarYearIn) -> YearSchedule:
    """The body as a ``YearSchedule``, or 422 naming the field and the date at fault: a date
    outside the year, listed twice, both a holiday and a working day, or a make-up working day
    that is not a Saturday or Sunday (调休 moves work onto weekend days)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    holidays = set(body.holidays)
    for name, days in (("holidays", body.holidays), ("workdays", body.workdays)):
        seen: set[date] = set()
        for index, day in enumerate(days):
            loc = ("body", name, index)
            iso = day.isoformat()
            if day.year != year:
                problems.append((loc, f"日期{iso}不在{year}年内 / date {iso} is outside {year}"))
            if day in seen:
                problems.append((loc, f"日期重复：{iso} / date listed twice: {iso}"))
            seen.add(day)
            if name == "workdays" and day in holidays:
                problems.append(
                    (
                        loc,
                        f"{iso}既是节假日又是工作日 / {iso} is both a holiday and a working day",
                    )
                )
            if name == "workdays" and day.weekday() < 5:
                problems.append(
                    (
                        loc,
                        f"{iso}不是周末，无需调休 / {iso} is a weekday: a make-up working day "
                        f"must be a Saturday or Sunday",
                    )
                )
    if problems:
        raise unprocessable(problems)
    try:
        return YearSchedule(year=year, holidays=body.holidays, workdays=body.workdays)
    except ValidationError as exc:  # pragma: no cover - the checks above are stricter
        raise unprocessable(
            [(("body",), str(e["msg"])) for e in exc.errors(include_url=False)]
        ) from None


def _store(engine: Engine, schedule: YearSchedule, officer_id: str) -> CalendarYearOut:
    """Upsert the year: a re-load replaces it."""
    holidays = [d.isoformat() for d in schedule.holidays]
    workdays = [d.isoformat() for d in schedule.workdays]
    for attempt in range(2):
        with Session(engine) as session:
            row = session.get(CalendarYear, schedule.year)
            if row is None:
                row = CalendarYear(
                    year=schedule.year, holidays=holidays, workdays=workdays, loaded_by=officer_id
                )
            else:
                row.holidays, row.workdays = holidays, workdays
                row.loaded_by, row.loaded_at = officer_id, datetime.now(UTC)
            session.add(row)
            try:
                session.commit()
                break
            except IntegrityError:  # a concurrent first load of the same year: update it
                session.rollback()
                if attempt == 1:
                    raise
    return _year_out(engine, schedule.year)


async def signal_provisional_workflows(client: Client, year: int | None = None) -> tuple[int, int]:
    """Send ``calendar_changed`` to every running workflow whose search attributes say it has a
    provisional deadline. Returns (signalled, failed). Visibility is eventually consistent: a
    workflow that became provisional a moment ago may be missed (a re-load reaches it)."""
    semaphore = asyncio.Semaphore(SIGNAL_CONCURRENCY)
    change = CalendarChanged(year=year)

    async def signal(workflow_id: str) -> bool:
        async with semaphore:
            try:
                await client.get_workflow_handle(workflow_id).signal(CALENDAR_CHANGED, change)
                return True
            except RPCError as exc:  # closed meanwhile, or the server refused: report, go on
                log.warning(
                    "calendar_changed not delivered",
                    workflow_id=workflow_id,
                    error=type(exc).__name__,
                    status=exc.status.name,
                )
                return False

    tasks: list[asyncio.Task[bool]] = []
    try:
        async for execution in client.list_workflows(PROVISIONAL_RUNNING_QUERY):
            tasks.append(asyncio.create_task(signal(execution.id)))
    except RPCError as exc:
        log.error("cannot list provisional workflows", error=type(exc).__name__)
        await asyncio.gather(*tasks)
        raise ProblemError(
            503,
            "Service Unavailable",
            "年度日历已保存，但未能通知有暂定期限的工作流，请重新提交 / the year is stored but "
            "workflows with provisional deadlines could not be listed: repeat the PUT",
        ) from None
    results = await asyncio.gather(*tasks)
    delivered = sum(results)
    return delivered, len(results) - delivered


@router.get("/years/{year}", response_model=CalendarYearOut)
def get_year(year: Year, actor: CurrentOfficer, engine: EngineDep) -> CalendarYearOut:
    """A year's schedule and where it comes from: builtin (chinese-calendar), loaded (by an
    admin, overriding builtin) or none (weekdays only; results provisional)."""
    return _year_out(engine, year)


@router.put("/years/{year}", response_model=CalendarYearLoaded)
async def load_year(
    year: Year,
    body: CalendarYearIn,
    actor: Admin,
    engine: EngineDep,
    client: TemporalClientDep,
) -> CalendarYearLoaded:
    """Load (or replace) a year's holidays and make-up working days (admin; DOMAIN §8), then
    signal ``calendar_changed`` to every running workflow with a provisional deadline so it
    recomputes it. Returns the stored year and how many workflows were signalled."""
    schedule = _schedule(year, body)
    stored = await run_in_threadpool(_store, engine, schedule, actor.officer_id)
    signalled, failed = await signal_provisional_workflows(client, year)
    log.info(
        "calendar year loaded",
        year=year,
        holidays=len(schedule.holidays),
        workdays=len(schedule.workdays),
        signalled=signalled,
        signal_failures=failed,
    )
    return CalendarYearLoaded(**stored.model_dump(), signalled=signalled, signal_failures=failed)


@router.get("/add-working-days", response_model=CalendarDate)
def get_add_working_days(
    actor: CurrentOfficer,
    engine: EngineDep,
    start: date,
    days: Annotated[int, Query(ge=0, le=MAX_WORKING_DAYS)],
) -> CalendarDate:
    """ "Within N working days of ``start``": the Nth working day after it (the start day is not
    counted, 《民法典》第二百零一条). ``provisional`` if a counted day lies in a year with no
    schedule."""
    try:
        result = working_calendar(engine).add_working_days(start, days)
    except OverflowError:
        raise unprocessable([(("query", "days"), "result is past 9999-12-31")]) from None
    return CalendarDate(date=result.date, provisional=result.provisional)


@router.get("/add-days", response_model=CalendarDate)
def get_add_days(
    actor: CurrentOfficer,
    start: date,
    days: Annotated[int, Query(ge=-MAX_CALENDAR_DAYS, le=MAX_CALENDAR_DAYS)],
) -> CalendarDate:
    """``start`` + N calendar days (start day not counted); never provisional."""
    try:
        return CalendarDate(date=date.fromordinal(start.toordinal() + days), provisional=False)
    except (OverflowError, ValueError):
        raise unprocessable([(("query", "days"), "result is outside 0001–9999")]) from None


@router.get("/add-months", response_model=CalendarDate)
def get_add_months(
    actor: CurrentOfficer,
    start: date,
    months: Annotated[int, Query(ge=-MAX_MONTHS, le=MAX_MONTHS)],
) -> CalendarDate:
    """``start`` + N months, on the corresponding day or the month's last day if it has none
    (《民法典》第二百零二条): 2024-01-31 + 1 → 2024-02-29; 2025-01-31 + 1 → 2025-02-28."""
    try:
        return CalendarDate(date=add_months(start, months), provisional=False)
    except (OverflowError, ValueError):
        raise unprocessable([(("query", "months"), "result is outside 0001–9999")]) from None


@router.get("/payment-cutoff", response_model=CalendarDate)
def get_payment_cutoff(
    actor: CurrentOfficer,
    engine: EngineDep,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)],
    month: Annotated[int, Query(ge=1, le=12)],
    day: Annotated[int, Query(ge=1, le=31)],
) -> CalendarDate:
    """ "By the Nth of the month": the Nth, or the last working day before it if the Nth is not
    a working day (payment cut-offs 5th/8th/10th, earlier before holidays — 焦民〔2022〕154号
    第六条). A day past the month's end means its last day."""
    result = working_calendar(engine).nth_of_month_or_earlier(year, month, day)
    return CalendarDate(date=result.date, provisional=result.provisional)


@router.get("/is-working-day", response_model=WorkingDayOut)
def get_is_working_day(
    actor: CurrentOfficer,
    engine: EngineDep,
    day: Annotated[date, Query(alias="date")],
) -> WorkingDayOut:
    """Whether ``date`` is a working day (DOMAIN §8: a weekday that is not a public holiday, or
    a weekend day declared a working day)."""
    cal = working_calendar(engine)
    working = cal.is_working_day(day)
    return WorkingDayOut(
        date=day,
        working_day=working,
        holiday=cal.is_holiday(day),
        make_up_working_day=working and day.weekday() >= 5,
        provisional=not cal.has_schedule(day.year),
    )
