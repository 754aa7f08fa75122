"""The working-day calendar in force: the State Council schedules shipped in ``chinese-calendar``
(2004–2026) overlaid by years an admin has loaded (DOMAIN §8). Read only by activities and the
API; workflows receive its results, never the calendar itself."""

from datetime import date
from functools import lru_cache

from sqlalchemy import Engine
from sqlmodel import Session, select

from jiuzhu.db.models import CalendarYear
from rules.calendar import WorkingCalendar, YearSchedule, builtin_schedules


@lru_cache(maxsize=1)
def _builtin() -> dict[int, YearSchedule]:
    return builtin_schedules()


def loaded_years(engine: Engine) -> dict[int, YearSchedule]:
    with Session(engine) as session:
        rows = session.exec(select(CalendarYear)).all()
    return {
        row.year: YearSchedule(
            year=row.year,
            holidays=[date.fromisoformat(d) for d in row.holidays],
            workdays=[date.fromisoformat(d) for d in row.workdays],
        )
        for row in rows
    }


def working_calendar(engine: Engine) -> WorkingCalendar:
    schedules = dict(_builtin())
    schedules.update(loaded_years(engine))
    return WorkingCalendar(schedules)
