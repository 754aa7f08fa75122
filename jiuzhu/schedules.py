"""When the county's payments start.

Payroll: **one workflow per county and month**, with the month's own id
(``payroll_workflow_id``: ``payroll-419901-2026-12``). A Temporal Schedule cannot give a run that
id (it appends the action time), so the month is not scheduled but started ahead: each month's
payroll, when it starts, starts the next month's with a start delay up to the 1st at 01:00
Beijing time (``start_month``), and worker start-up does the same for every known county, so a
broken chain is repaired on the next start. An officer's trigger (the current month) or backfill
(a month or a range) starts the month the same way; a month that already has its workflow —
running, or closed after it compiled or paid — is not started again (``WorkflowIDReusePolicy.
ALLOW_DUPLICATE_FAILED_ONLY``), and the answer says so. The county's old payroll schedule, if a
server still has one, is deleted at start-up.

Daily bank batch: one schedule per county (``daily_batch_schedule_id(county)``) at 17:00 Beijing
every day sends the county's temporary assistance to the bank for the next working day; its
runs are launchers (``launcher_schedule``) that start the day's batch with its own id."""

import dataclasses
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

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
    WorkflowExecutionStatus,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from jiuzhu.clock import ZONE_NAME, at_beijing, to_beijing
from jiuzhu.console import case_static, launcher_static
from jiuzhu.contract import SA_CASE_KIND, SA_COUNTY, SA_STATUS, CaseKind
from rules.areas import AREAS, AreaLevel
from workflows.payments.contract import (
    DAILY_BATCH_WORKFLOW_TYPE,
    PAYROLL_WORKFLOW_TYPE,
    START_NOW,
    PayrollStatus,
    daily_batch_schedule_id,
    payroll_schedule_id,
    payroll_workflow_id,
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


def month_starts_at(year: int, month: int) -> datetime:
    """The instant a month's payroll starts by itself: the 1st, 01:00 Beijing time (UTC)."""
    return at_beijing(date(year, month, RUN_DAY), time(RUN_HOUR)).astimezone(UTC)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


async def start_month(
    client: Client,
    county_code: str,
    task_queue: str,
    year: int,
    month: int,
    *,
    start_delay: timedelta | None = None,
) -> bool:
    """Start the county's payroll of ``year``-``month``: after ``start_delay`` (started ahead),
    else now — and a month already started ahead, still waiting for its 1st, is made to run at
    once (signal-with-start). True if the month runs (or will run) because of this call; False
    if it already had its workflow (running, or closed after anything but a failure): a month
    is never run twice."""
    wid = payroll_workflow_id(county_code, year, month)
    text = case_static(
        CaseKind.PAYROLL, area_code=county_code, subject_zh=f"{year:04d}-{month:02d}月度救助金发放"
    )
    inp = PayrollInput(county_code=county_code, year=year, month=month)
    options: dict[str, Any] = {
        "id": wid,
        "task_queue": task_queue,
        "id_reuse_policy": WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        "search_attributes": TypedSearchAttributes(
            [
                SearchAttributePair(SA_CASE_KIND, CaseKind.PAYROLL.value),
                SearchAttributePair(SA_COUNTY, county_code),
                SearchAttributePair(SA_STATUS, PayrollStatus.STARTED.value),
            ]
        ),
        "static_summary": text.summary,
        "static_details": text.details,
    }
    try:
        await client.start_workflow(
            PAYROLL_WORKFLOW_TYPE,
            inp,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            start_delay=start_delay,
            **options,
        )
        return True
    except WorkflowAlreadyStartedError:
        if start_delay is not None or not await _waiting(client, wid):
            return False
    # Started ahead and waiting for its 1st: a signal-with-start makes it run now.
    await client.start_workflow(PAYROLL_WORKFLOW_TYPE, inp, start_signal=START_NOW, **options)
    return True


async def _waiting(client: Client, workflow_id: str) -> bool:
    """The month's workflow was started ahead and still waits for its first workflow task."""
    desc = await client.get_workflow_handle(workflow_id).describe()
    return (
        desc.status == WorkflowExecutionStatus.RUNNING
        and desc.execution_time is not None
        and desc.execution_time > datetime.now(UTC)
    )


# A month is started ahead at most this long before its 1st, 01:00. A month paid early hands on to
# the one after it: from the first hour of 1 December (or 1 July) the 1st of February (September)
# is 62 days and up to an hour away.
PLAN_AHEAD = timedelta(days=62, hours=1)


async def plan_next_month(
    client: Client,
    county_code: str,
    task_queue: str,
    now: datetime,
    running: tuple[int, int] | None = None,
) -> tuple[int, int, bool] | None:
    """Start the month after the later of ``now``'s month (Beijing) and the ``running`` month
    (a month paid early by a backfill hands on to the one after it), with a start delay up to
    its 1st, 01:00; ``(year, month, started)``, or None if that instant is past or more than
    ``PLAN_AHEAD`` away (never a cascade: a month in the past, or years ahead, is started only
    by an officer's backfill)."""
    today = to_beijing(now)
    base = max((today.year, today.month), running or (today.year, today.month))
    year, month = next_month(*base)
    delay = month_starts_at(year, month) - now
    if delay <= timedelta(0) or delay > PLAN_AHEAD:
        return None
    started = await start_month(client, county_code, task_queue, year, month, start_delay=delay)
    return year, month, started


async def ensure_payroll_months(
    client: Client, task_queue: str, counties: Iterable[str] | None = None
) -> list[str]:
    """Worker start-up: every known county has next month's payroll waiting for its 1st
    (idempotent), and the old per-county payroll schedule is gone."""
    now = datetime.now(UTC)
    planned = []
    for county in counties if counties is not None else known_counties():
        await delete_legacy_payroll_schedule(client, county)
        await plan_next_month(client, county, task_queue, now)
        planned.append(county)
    return planned


async def delete_legacy_payroll_schedule(client: Client, county_code: str) -> None:
    """The payroll schedule of earlier releases launched a second workflow per month; its
    launches stop with it (months it launched keep running)."""
    try:
        await client.get_schedule_handle(payroll_schedule_id(county_code)).delete()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise


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
