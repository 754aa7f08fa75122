"""Workflow-time helpers: dates and deadlines are in Asia/Shanghai, from ``workflow.now()``."""

from datetime import date, datetime, timedelta, timezone

from temporalio import workflow

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact. It is
# also sandbox-safe: a workflow module inside this package that does ``from workflows import
# clock`` re-imports this module inside the workflow sandbox (its parent package is sandboxed),
# where ``zoneinfo.ZoneInfo`` is a restricted proxy and cannot be used as a tzinfo.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def now() -> datetime:
    return workflow.now().astimezone(SHANGHAI)


def today() -> date:
    """Today's date in Beijing time, deterministic on replay."""
    return now().date()
