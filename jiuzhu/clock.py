"""Beijing time, defined once for the whole code base.

Every statutory date and deadline is a date or instant in Beijing time (China has kept UTC+8
without daylight saving since 1991, so a fixed offset is exact). A fixed ``timezone`` is also
sandbox-safe: inside the workflow sandbox ``zoneinfo.ZoneInfo`` is a restricted proxy and cannot
serve as a tzinfo. Workflows use :func:`workflow_now`/:func:`workflow_today` (deterministic on
replay); activities, the API and scripts use :func:`beijing_now`/:func:`beijing_today`."""

from datetime import UTC, date, datetime, time, timedelta, timezone

from temporalio import workflow

ZONE_NAME = "Asia/Shanghai"
BEIJING = timezone(timedelta(hours=8), ZONE_NAME)


def workflow_now() -> datetime:
    """``workflow.now()`` in Beijing time (workflow code only)."""
    return workflow.now().astimezone(BEIJING)


def workflow_today() -> date:
    """Today's date in Beijing time, deterministic on replay (workflow code only)."""
    return workflow_now().date()


def beijing_now() -> datetime:
    """The wall clock in Beijing time (activities, API, scripts; never in workflows)."""
    return datetime.now(BEIJING)


def beijing_today() -> date:
    """Today's date in Beijing time (activities, API, scripts; never in workflows)."""
    return beijing_now().date()


def to_beijing(instant: datetime) -> datetime:
    """An aware instant in Beijing time; a naive one is taken as UTC (how SQLite hands it back)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(BEIJING)


def beijing_date(instant: datetime) -> date:
    """The Beijing calendar date of an instant."""
    return to_beijing(instant).date()


def start_of_day(day: date) -> datetime:
    """00:00 Beijing time on ``day``."""
    return datetime.combine(day, time(0, 0), tzinfo=BEIJING)


def end_of_day(day: date) -> datetime:
    """The end of ``day`` in Beijing time (00:00 of the next day): a period "to the end of its
    last day" runs out at this instant."""
    return start_of_day(day + timedelta(days=1))


def at_beijing(day: date, at: time) -> datetime:
    """``day`` at wall time ``at`` in Beijing."""
    return datetime.combine(day, at, tzinfo=BEIJING)
