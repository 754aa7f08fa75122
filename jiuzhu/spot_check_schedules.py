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
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
)

from jiuzhu.clock import ZONE_NAME
from jiuzhu.console import launcher_static
from jiuzhu.schedules import known_counties, launcher_search_attributes
from workflows.supervision.contract import SPOT_CHECK_WORKFLOW_TYPE, spot_check_schedule_id
from workflows.supervision.models import SpotCheckInput

RUN_DAY = 1
RUN_HOUR = 2  # after the payroll launch at 01:00


def spot_check_schedule(county_code: str, task_queue: str) -> Schedule:
    text = launcher_static("月度审核确认抽查", county_code)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SPOT_CHECK_WORKFLOW_TYPE,
            SpotCheckInput(county_code=county_code),
            id=f"spot-check-scheduled-{county_code}",
            task_queue=task_queue,
            typed_search_attributes=launcher_search_attributes(county_code),
            static_summary=text.summary,
            static_details=text.details,
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
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.ALLOW_ALL, catchup_window=timedelta(days=31)
        ),
        state=ScheduleState(note="县级月度抽查（每月1日02:00抽取上月审核确认）"),
    )


async def ensure_spot_check_schedule(
    client: Client, county_code: str, task_queue: str
) -> ScheduleHandle:
    """Create the county's spot-check schedule unless it exists (idempotent)."""
    schedule_id = spot_check_schedule_id(county_code)
    try:
        return await client.create_schedule(
            schedule_id, spot_check_schedule(county_code, task_queue)
        )
    except ScheduleAlreadyRunningError:
        return client.get_schedule_handle(schedule_id)


async def ensure_spot_check_schedules(
    client: Client, task_queue: str, counties: Iterable[str] | None = None
) -> list[str]:
    created = []
    for county in counties if counties is not None else known_counties():
        await ensure_spot_check_schedule(client, county, task_queue)
        created.append(county)
    return created
