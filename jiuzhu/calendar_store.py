"""The working-day calendar in force: the State Council schedules shipped in ``chinese-calendar``
(2004–2026) overlaid by years an admin has loaded (DOMAIN §8). Read only by activities and the
API; workflows receive its results, never the calendar itself."""

import json
from datetime import date
from functools import lru_cache
from threading import Lock

from sqlalchemy import Engine, text

from rules.calendar import WorkingCalendar, YearSchedule, builtin_schedules


@lru_cache(maxsize=1)
def _builtin() -> dict[int, YearSchedule]:
    return builtin_schedules()


def _rows(engine: Engine) -> list[tuple[int, object, object]]:
    with engine.connect() as conn:
        result = conn.execute(
            text("SELECT year, holidays, workdays FROM calendar_year ORDER BY year")
        )
        return [(int(r[0]), r[1], r[2]) for r in result]


def _dates(raw: object) -> list[date]:
    values = json.loads(raw) if isinstance(raw, str | bytes) else raw  # SQLite: JSON text
    return [date.fromisoformat(d) for d in values]  # type: ignore[union-attr]


def _schedules(rows: list[tuple[int, object, object]]) -> dict[int, YearSchedule]:
    return {
        year: YearSchedule(year=year, holidays=_dates(holidays), workdays=_dates(workdays))
        for year, holidays, workdays in rows
    }


_last: tuple[str, WorkingCalendar] | None = None
_last_lock = Lock()


def working_calendar(engine: Engine) -> WorkingCalendar:
    """The calendar in force: the shipped schedules overlaid by the loaded years. Every call
    reads the loaded years (a year loaded a moment ago counts at once); the calendar built
    from them is reused while they read the same (every deadline of every case asks for it)."""
    global _last
    rows = _rows(engine)
    key = repr(rows)
    with _last_lock:
        if _last is not None and _last[0] == key:
            return _last[1]
    schedules = dict(_builtin())
    schedules.update(_schedules(rows))
    built = WorkingCalendar(schedules)
    with _last_lock:
        _last = (key, built)
    return built
