"""The Jiuzhu worker: runs every workflow and activity on the task queue from settings."""

import asyncio
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.registry import build_activities
from jiuzhu.db.engine import engine_for
from jiuzhu.logging import configure_logging, get_logger
from jiuzhu.policy_files import PolicyFileError
from jiuzhu.settings import Settings, get_settings
from jiuzhu.startup import check_startup
from jiuzhu.temporal import connect
from workflows.registry import WORKFLOWS
from workflows.sandbox import workflow_runner

log = get_logger("jiuzhu.worker")


def make_worker(
    client: Client,
    settings: Settings,
    engine: Engine,
    task_queue: str | None = None,
    extra_workflows: Sequence[type[Any]] = (),
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[*WORKFLOWS, *extra_workflows],
        workflow_runner=workflow_runner(),
        activities=build_activities(engine, settings, client),
        activity_executor=ThreadPoolExecutor(max_workers=64),
        max_concurrent_activities=64,
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    try:  # a bad policy file fails start-up with the file, field and reason (DOMAIN §9)
        check_startup(settings)
    except PolicyFileError:
        raise SystemExit(2) from None
    engine = engine_for(settings)
    client = await connect(settings)
    worker = make_worker(client, settings, engine)
    from jiuzhu.schedules import ensure_payroll_schedules

    counties = await ensure_payroll_schedules(client, settings.task_queue)
    log.info("payroll schedules ensured", counties=counties)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    async with worker:
        await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
