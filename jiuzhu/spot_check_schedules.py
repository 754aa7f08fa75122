"""The monthly spot-check schedule (焦民〔2022〕154号 第五条: the county samples the townships'
decisions): one Temporal Schedule per county (id ``spot_check_schedule_id(county)``) on the 1st
of every month at 02:00 Beijing time starts a launcher run of ``SpotCheckRoundWorkflow`` without
a period, which starts the previous month's round under its own id (``spot-check-<county>-
<YYYY-MM>``) — so a round a county officer already started by hand is not drawn twice. Created
idempotently at worker start-up for the known counties, like the payroll schedules
(``jiuzhu/schedules.py``)."""

from collections.abc import Iterable
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleHandle,
)

from jiuzhu.schedules import calendar_at, ensure_schedule, known_counties, launcher_schedule
from workflows.supervision.contract import SPOT_CHECK_WORKFLOW_TYPE, spot_check_schedule_id
from workflows.supervision.models import SpotCheckInput

RUN_DAY = 1
RUN_HOUR = 2  # after the payroll launch at 01:00


def spot_check_schedule(county_code: str, task_queue: str) -> Schedule:
    return launcher_schedule(
        workflow_type=SPOT_CHECK_WORKFLOW_TYPE,
        arg=SpotCheckInput(county_code=county_code),
        launcher_id=f"spot-check-scheduled-{county_code}",
        county_code=county_code,
        task_queue=task_queue,
        what_zh="月度审核确认抽查",
        calendar=calendar_at(RUN_HOUR, RUN_DAY),
        catchup=timedelta(days=31),
        note="县级月度抽查（每月1日02:00抽取上月审核确认）",
    )


async def ensure_spot_check_schedule(
    client: Client, county_code: str, task_queue: str
) -> ScheduleHandle:
    """Create the county's spot-check schedule unless it exists (idempotent)."""
    return await ensure_schedule(
        client, spot_check_schedule_id(county_code), spot_check_schedule(county_code, task_queue)
    )


async def ensure_spot_check_schedules(
    client: Client, task_queue: str, counties: Iterable[str] | None = None
) -> list[str]:
    created = []
    for county in counties if counties is not None else known_counties():
        await ensure_spot_check_schedule(client, county, task_queue)
        created.append(county)
    return created
