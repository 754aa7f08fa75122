"""A workflow and an activity that log one line each, for the telemetry tests (a module of its
own: the sandbox re-imports a workflow's module)."""

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def probe_activity(name: str) -> str:
    activity.logger.info("probe activity ran")
    return f"probed {name}"


@workflow.defn
class ProbeWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        workflow.logger.info("probe workflow ran")
        return await workflow.execute_activity(
            probe_activity, name, start_to_close_timeout=timedelta(seconds=10)
        )
