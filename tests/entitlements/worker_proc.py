"""A real worker in its own process, for tests that kill it (SIGKILL) in the middle of a run.
Configured by JIUZHU_* environment variables like the production worker; the same workflows and
activities as ``worker.make_worker``, without a workflow cache, so the server hands the next task
to the restarted process at once instead of waiting for the dead worker's sticky queue."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from activities.registry import build_activities
from jiuzhu.db.engine import make_engine
from jiuzhu.settings import Settings
from jiuzhu.temporal import connect
from workflows.registry import WORKFLOWS


async def main() -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    client = await connect(settings)
    async with Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(engine, settings, client),
        activity_executor=ThreadPoolExecutor(max_workers=16),
        max_cached_workflows=0,
    ):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
