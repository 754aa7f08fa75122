"""Payment schedules. Payroll: one Temporal Schedule per county (id
``payroll_schedule_id(county)``) starts the county's payroll on the 1st of every month at 01:00
Beijing time, so the list is compiled well before the data cut-off (the 5th). Daily bank batch:
one schedule per county (``daily_batch_schedule_id(county)``) at 17:00 Beijing every day sends
the county's temporary assistance to the bank for the next working day. Both are created
idempotently at worker start-up for the known counties; an officer triggers a run now or
backfills a month (a day) through the schedule (the run derives its month, or its value date,
from the schedule's action time)."""

import dataclasses
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
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from jiuzhu.clock import ZONE_NAME, at_beijing
from jiuzhu.console import launcher_static
from jiuzhu.contract import SA_CASE_KIND, SA_COUNTY, CaseKind
from rules.areas import AREAS, AreaLevel
from workflows.payments.contract import (
    DAILY_BATCH_WORKFLOW_TYPE,
    PAYROLL_WORKFLOW_TYPE,
    daily_batch_schedule_id,
    payroll_schedule_id,
)
from workflows.payments.models import DailyBatchInput, PayrollInput

RUN_DAY = 1
RUN_HOUR = 1
DAILY_BATCH_HOUR = 17  # the day's temporary-aid instructions go to the bank at 17:00 Beijing


def known_counties() -> list[str]:
    return sorted(code for code, area in AREAS.items() if area.level is AreaLevel.COUNTY)


def launcher_search_attributes(county_code: str) -> TypedSearchAttributes:
    """A scheduled run only starts the period's canonical workflow (its own fixed id) and ends:
    ``CaseKind = 'launcher'``, so ``CaseKind = 'payroll'`` finds one workflow per month."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(SA_CASE_KIND, CaseKind.LAUNCHER.value),
            SearchAttributePair(SA_COUNTY, county_code),
        ]
    )


def calendar_at(hour: int, day_of_month: int | None = None) -> ScheduleCalendarSpec:
    """``hour``:00:00 Beijing time, every day or on ``day_of_month``."""
    every_day = ScheduleCalendarSpec(
        hour=[ScheduleRange(hour)], minute=[ScheduleRange(0)], second=[ScheduleRange(0)]
    )
    if day_of_month is None:
        return every_day
    return dataclasses.replace(every_day, day_of_month=[ScheduleRange(day_of_month)])


def launcher_schedule(
    *,
    workflow_type: str,
    arg: object,
    launcher_id: str,
    county_code: str,
    task_queue: str,
    what_zh: str,
    calendar: ScheduleCalendarSpec,
    catchup: timedelta,
    note: str,
) -> Schedule:
    """A county's schedule of launcher runs (payroll, daily bank batch, spot checks): each run
    only starts its period's canonical workflow (a fixed id) and ends, so overlapping launches
    are harmless and a backfill of several periods runs them all; a missed run is caught up
    within ``catchup``. Marked ``CaseKind = 'launcher'`` with a summary for the Web UI."""
    text = launcher_static(what_zh, county_code)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow_type,
            arg,
            id=launcher_id,
            task_queue=task_queue,
            typed_search_attributes=launcher_search_attributes(county_code),
            static_summary=text.summary,
            static_details=text.details,
        ),
        spec=ScheduleSpec(calendars=[calendar], time_zone_name=ZONE_NAME),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=catchup),
        state=ScheduleState(note=note),
    )


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> ScheduleHandle:
    """Create the schedule unless it exists (idempotent; an existing one is kept as it is)."""
    try:
        return await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:
        return client.get_schedule_handle(schedule_id)


def payroll_schedule(county_code: str, task_queue: str) -> Schedule:
    return launcher_schedule(
        workflow_type=PAYROLL_WORKFLOW_TYPE,
        arg=PayrollInput(county_code=county_code),
        launcher_id=f"payroll-scheduled-{county_code}",
        county_code=county_code,
        task_queue=task_queue,
        what_zh="月度救助金发放",
        calendar=calendar_at(RUN_HOUR, RUN_DAY),
        catchup=timedelta(days=31),
        note="月度救助金发放（每月1日01:00启动）",
    )


async def ensure_payroll_schedule(
    client: Client, county_code: str, task_queue: str
) -> ScheduleHandle:
    """Create the county's payroll schedule unless it exists (idempotent)."""
    return await ensure_schedule(
        client, payroll_schedule_id(county_code), payroll_schedule(county_code, task_queue)
    )


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


# --- the daily bank batch of temporary assistance ----------------------------------------------
def daily_batch_schedule(county_code: str, task_queue: str) -> Schedule:
    """Every day at 17:00 Beijing the county's pending temporary-aid instructions (prepayments,
    awards, 一事一议 stages) go into a bank batch for the next working day; the workflow takes
    the value date from the calendar and completes quietly when there is nothing to pay. A
    missed day is caught up within a week."""
    return launcher_schedule(
        workflow_type=DAILY_BATCH_WORKFLOW_TYPE,
        arg=DailyBatchInput(county_code=county_code),
        launcher_id=f"bank-daily-scheduled-{county_code}",
        county_code=county_code,
        task_queue=task_queue,
        what_zh="临时救助每日代发批次",
        calendar=calendar_at(DAILY_BATCH_HOUR),
        catchup=timedelta(days=7),
        note="临时救助资金每日代发（每日17:00，次一工作日入账）",
    )


async def ensure_daily_batch_schedule(
    client: Client, county_code: str, task_queue: str
) -> ScheduleHandle:
    """Create the county's daily bank-batch schedule unless it exists (idempotent)."""
    return await ensure_schedule(
        client, daily_batch_schedule_id(county_code), daily_batch_schedule(county_code, task_queue)
    )


async def ensure_daily_batch_schedules(
    client: Client, task_queue: str, counties: Iterable[str] | None = None
) -> list[str]:
    created = []
    for county in counties if counties is not None else known_counties():
        await ensure_daily_batch_schedule(client, county, task_queue)
        created.append(county)
    return created


def day_window(day: date) -> tuple[datetime, datetime]:
    """The instants around the day's scheduled run (17:00 Beijing time)."""
    run_at = at_beijing(day, time(DAILY_BATCH_HOUR))
    return (run_at - timedelta(minutes=30)).astimezone(UTC), (
        run_at + timedelta(minutes=30)
    ).astimezone(UTC)


async def backfill_daily_batch(
    client: Client, county_code: str, task_queue: str, day: date
) -> None:
    """Run the daily schedule's action as of ``day`` 17:00 Beijing: the batch of the next
    working day after ``day`` (a batch that already moved money returns its record)."""
    handle = await ensure_daily_batch_schedule(client, county_code, task_queue)
    start, end = day_window(day)
    await handle.backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    )


async def trigger_daily_batch(client: Client, county_code: str, task_queue: str) -> None:
    """Run the county's daily batch now (value date: the next working day after today)."""
    handle = await ensure_daily_batch_schedule(client, county_code, task_queue)
    await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
