"""A real worker in its own process, so a test can SIGKILL it. Configured by JIUZHU_* variables
like the production worker; no workflow cache, so after a kill the server hands the next task to
the restarted process at once (no wait on the dead worker's sticky queue). The sandbox is the
production worker's (``workflows.sandbox``)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from temporalio.worker import Worker

from activities.registry import build_activities
from jiuzhu.db.engine import make_engine
from jiuzhu.settings import Settings
from jiuzhu.temporal import connect
from workflows.registry import WORKFLOWS
from workflows.sandbox import workflow_runner


async def main() -> None:
    settings = Settings()
    engine = make_engine(settings.database_url)
    client = await connect(settings)
    async with Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        activities=build_activities(engine, settings, client),
        activity_executor=ThreadPoolExecutor(max_workers=16),
        max_cached_workflows=0,
    ):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
