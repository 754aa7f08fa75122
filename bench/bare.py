"""The bare workflow of the application benchmark: the same shape as the approve path on the
light path (the same number of regular and local activities, updates, timers and a child) with
no business in it. Kept apart from ``bench.applications`` so the workflow sandbox imports
nothing else; its input and activity (``bench.bare_parts``) are passed through, as the
application's models and activities are."""

import asyncio
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from bench.bare_parts import BareInput, bench_noop
    from jiuzhu.contract import SA_STATUS

TIMEOUT = timedelta(seconds=30)


# --- the bare workflow: Temporal's own cost for the same shape --------------------------------
@workflow.defn
class BareWorkflow:
    @workflow.init
    def __init__(self, inp: BareInput) -> None:
        self.inp = inp
        self.status = "submitted"
        self.lock = asyncio.Lock()
        self.tasks: list[asyncio.Task[None]] = []

    async def _local(self, n: int) -> None:
        for i in range(n):
            await workflow.execute_local_activity(bench_noop, i, start_to_close_timeout=TIMEOUT)

    def _publish(self, status: str) -> None:
        """The status upserted at each update, when the background work ends and at the close,
        as the case publisher does."""
        self.status = status
        workflow.upsert_search_attributes([SA_STATUS.value_set(status)])

    async def _background(self) -> None:
        for i in range(self.inp.background_regular):
            await workflow.execute_activity(bench_noop, i, start_to_close_timeout=TIMEOUT)
        async with self.lock:
            await self._local(self.inp.background_local)
            self._publish("awaiting_opinion")

    @workflow.run
    async def run(self, inp: BareInput) -> str:
        workflow.patched("bench-baseline")  # one marker, as a case's baseline
        await self._local(inp.on_start)
        await workflow.wait_condition(lambda: self.status == "publicity")
        await workflow.sleep(inp.timer - timedelta(days=1))
        async with self.lock:
            await self._local(inp.first_timer)
        await workflow.sleep(timedelta(days=1))
        async with self.lock:
            await self._local(inp.second_timer)
            self._publish("awaiting_decision")
        await workflow.wait_condition(lambda: self.status == "approved")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status

    @workflow.update
    async def step(self, n: int) -> str:
        async with self.lock:
            await self._local(self.inp.per_update[n])
            if n == 0:
                self._publish("accepted")
            elif n == 1:
                self._publish("verification")
                self.tasks.append(asyncio.create_task(self._background()))
            elif n == 2:
                self._publish("publicity")
            elif n == 3:
                await workflow.start_child_workflow(
                    "EntitlementWorkflow",
                    None,
                    id=f"bench-child-{workflow.info().workflow_id}",
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
                self._publish("approved")
        return self.status

    @workflow.query
    def get_status(self) -> str:
        return self.status
