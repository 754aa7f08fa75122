"""A real worker in its own process, for tests that kill it (SIGKILL) in the middle of a run.
Configured by JIUZHU_* environment variables like the production worker; this domain's workflows
and every activity, as in ``worker.make_worker``, with a sticky queue that times out after a
second, so the server hands the next task to the restarted process at once instead of waiting
for the dead worker's sticky queue. (A workflow cache is needed: short steps run as local
activities, which complete inside a workflow task that must stay cached.)"""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.worker import Worker

from activities.registry import build_activities
from jiuzhu.db.engine import make_engine
from jiuzhu.settings import Settings
from jiuzhu.temporal import connect
from workflows.entitlements.workflow import EntitlementWorkflow
from workflows.payments.campaign import CampaignWorkflow
from workflows.payments.payroll import PayrollWorkflow


async def main() -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    client = await connect(settings)
    async with Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[EntitlementWorkflow, PayrollWorkflow, CampaignWorkflow],
        activities=build_activities(engine, settings, client),
        activity_executor=ThreadPoolExecutor(max_workers=16),
        max_cached_workflows=100,
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=1),
    ):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
