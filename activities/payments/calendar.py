"""The payroll's calendar: each month's payroll, when it starts, starts the next month's with a
start delay up to its 1st, 01:00 Beijing time (``jiuzhu.schedules.plan_next_month``), so every
month has exactly one workflow with the month's own id and nothing but that workflow."""

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import Client

from jiuzhu.schedules import plan_next_month


class NextMonthRequest(BaseModel):
    """The county whose next month is to be started ahead, from the month now running
    (``year``/``month``; None: from today's month)."""

    county_code: str = Field(pattern=r"^\d{6}$")
    year: int | None = None
    month: int | None = None


class NextMonthPlanned(BaseModel):
    """Which month waits for its 1st (``None``: its start is already past, nothing started) and
    whether this call started it (False: it already had its workflow)."""

    period: str | None = None
    started: bool = False


class PayrollCalendarActivities:
    def __init__(self, client: Client | None, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue

    @activity.defn
    async def plan_next_month(self, req: NextMonthRequest) -> NextMonthPlanned:
        if self.client is None:  # planning ahead is off (tests), or no client: nothing to do
            return NextMonthPlanned()
        running = (req.year, req.month) if req.year and req.month else None
        planned = await plan_next_month(
            self.client, req.county_code, self.task_queue, datetime.now(UTC), running
        )
        if planned is None:
            return NextMonthPlanned()
        year, month, started = planned
        return NextMonthPlanned(period=f"{year:04d}-{month:02d}", started=started)
