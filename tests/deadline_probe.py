"""A minimal workflow that owns one deadline, to test the deadline mechanism on its own: it keeps
``HasProvisionalDeadline`` up to date and recomputes a provisional deadline on
``calendar_changed``, as the case workflows do."""

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.deadlines import Deadline, DeadlineSpec
    from jiuzhu import clock
    from jiuzhu.contract import SA_PROVISIONAL, Role
    from jiuzhu.timers import Alarm
    from rules.periods import Period, PeriodUnit
    from workflows.deadlines.book import DeadlineBook
    from workflows.deadlines.contract import CalendarChanged


class ProbeState(BaseModel):
    deadlines: list[Deadline] = []
    changes: int = 0


@workflow.defn
class DeadlineProbeWorkflow:
    @workflow.init
    def __init__(self, working_days: int) -> None:
        self.state = ProbeState()
        self.alarm = Alarm()
        self.book = DeadlineBook(
            self.state.deadlines, workflow.info().workflow_id, self._changed, self.alarm
        )
        self.done = False
        self.lock = asyncio.Lock()

    async def _changed(self) -> None:
        self.state.changes += 1
        workflow.upsert_search_attributes([SA_PROVISIONAL.value_set(self.book.has_provisional())])

    @workflow.run
    async def run(self, working_days: int) -> ProbeState:
        start = clock.workflow_today()
        await self.book.start(
            DeadlineSpec(
                name="investigation_start",
                label_zh="入户调查启动",
                start=start,
                period=Period(value=working_days, unit=PeriodUnit.WORKING_DAYS),
                reminder_lead=Period(value=1, unit=PeriodUnit.WORKING_DAYS),
                responsible_role=Role.TOWNSHIP_OFFICER,
                responsible_area="419901001",
                escalation_role=Role.COUNTY_OFFICER,
                escalation_area="419901",
            )
        )
        while not self.done:
            await self.alarm.sleep(lambda: self.done)
            due = self.alarm.pop_due()
            if due:
                async with self.lock:
                    await self.book.on_wake(due)
        await workflow.sleep(timedelta(seconds=1))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.signal(name="calendar_changed")
    async def calendar_changed(self, change: CalendarChanged | None = None) -> None:
        """A year's schedule was loaded: recompute provisional deadlines (DOMAIN §8)."""
        async with self.lock:
            await self.book.recompute_provisional()

    @workflow.update
    async def meet(self) -> None:
        await workflow.wait_condition(lambda: bool(self.state.deadlines))
        await self.book.meet("investigation_start")

    @workflow.query
    def get_state(self) -> ProbeState:
        return self.state
