"""Payroll schedules: one Temporal Schedule per county (id ``payroll_schedule_id(county)``) starts
the county's payroll on the 1st of every month at 01:00 Beijing time, so the list is compiled
well before the data cut-off (the 5th). Created idempotently at worker start-up for the known
counties; an admin triggers a run now or backfills a month through the schedule (the run
derives its month from the schedule's action time)."""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)

from jiuzhu.clock import ZONE_NAME, at_beijing
from rules.areas import AREAS, AreaLevel
from workflows.payments.contract import PAYROLL_WORKFLOW_TYPE, payroll_schedule_id
from workflows.payments.models import PayrollInput

RUN_DAY = 1
RUN_HOUR = 1


def known_counties() -> list[str]:
    return sorted(code for code, area in AREAS.items() if area.level is AreaLevel.COUNTY)


def payroll_schedule(county_code: str, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PAYROLL_WORKFLOW_TYPE,
            PayrollInput(county_code=county_code),
            id=f"payroll-scheduled-{county_code}",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    day_of_month=[ScheduleRange(RUN_DAY)],
                    hour=[ScheduleRange(RUN_HOUR)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name=ZONE_NAME,
        ),
        # A launcher run only starts the month's payroll (a child with the month's id) and
        # ends, so overlapping launches are harmless; a backfill of several months runs all.
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=timedelta(days=31)
        ),
        state=ScheduleState(note="月度救助金发放（每月1日01:00启动）"),
    )


async def ensure_payroll_schedule(
    client: Client, county_code: str, task_queue: str
) -> ScheduleHandle:
    """Create the county's payroll schedule unless it exists (idempotent)."""
    schedule_id = payroll_schedule_id(county_code)
    try:
        return await client.create_schedule(schedule_id, payroll_schedule(county_code, task_queue))
    except ScheduleAlreadyRunningError:
        return client.get_schedule_handle(schedule_id)


async def ensure_payroll_schedules(
    client: Client, task_queue: str, counties: Iterable[str] | None = None
) -> list[str]:
    created = []
    for county in counties if counties is not None else known_counties():
        await ensure_payroll_schedule(client, county, task_queue)
        created.append(county)
    return created


def month_window(year: int, month: int) -> tuple[datetime, datetime]:
    """The instants around the month's scheduled run (the 1st, 01:00 Beijing time)."""
    run_at = at_beijing(date(year, month, RUN_DAY), time(RUN_HOUR))
    return (run_at - timedelta(minutes=30)).astimezone(UTC), (
        run_at + timedelta(minutes=30)
    ).astimezone(UTC)


async def backfill_month(
    client: Client, county_code: str, task_queue: str, year: int, month: int
) -> None:
    """Run the schedule's action for a past or future month (its action time is that month's
    1st, 01:00 Beijing time, so the run pays that month)."""
    handle = await ensure_payroll_schedule(client, county_code, task_queue)
    start, end = month_window(year, month)
    await handle.backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    )


async def trigger_now(client: Client, county_code: str, task_queue: str) -> None:
    """Run the schedule's action now (pays the current month)."""
    handle = await ensure_payroll_schedule(client, county_code, task_queue)
    await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
