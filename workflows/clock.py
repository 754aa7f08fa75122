"""Workflow-time helpers: dates and deadlines are in Asia/Shanghai, from ``workflow.now()``."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from temporalio import workflow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return workflow.now().astimezone(SHANGHAI)


def today() -> date:
    """Today's date in Beijing time, deterministic on replay."""
    return now().date()
