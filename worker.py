"""The Jiuzhu worker: runs every workflow and activity on the task queue from settings."""

import asyncio
import signal
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker

from activities.registry import build_activities
from jiuzhu.db.engine import engine_for
from jiuzhu.gc_tuning import tune_gc
from jiuzhu.logging import configure_logging, get_logger
from jiuzhu.policy_files import PolicyFileError
from jiuzhu.request_ids import RequestIdInterceptor
from jiuzhu.settings import Settings, get_settings
from jiuzhu.startup import check_startup
from jiuzhu.telemetry import tracer_provider, worker_runtime
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
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    # The request id reaches workflow and activity logs (jiuzhu/request_ids.py); a client from
    # ``connect`` already carries the interceptor, and a worker uses its client's.
    own = [] if _has_request_ids(client) else [RequestIdInterceptor()]
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[*WORKFLOWS, *extra_workflows],
        workflow_runner=workflow_runner(),
        activities=build_activities(engine, settings, client),
        activity_executor=ThreadPoolExecutor(max_workers=64),
        max_concurrent_activities=64,
        interceptors=[*own, *interceptors],
    )


def _has_request_ids(client: Client) -> bool:
    return any(isinstance(i, RequestIdInterceptor) for i in client.config()["interceptors"])


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    try:  # a bad policy file fails start-up with the file, field and reason (DOMAIN §9)
        check_startup(settings)
    except PolicyFileError:
        raise SystemExit(2) from None
    engine = engine_for(settings)
    try:  # the SDK's metrics on the metrics port (JIUZHU_WORKER_METRICS_PORT; 0 = off)
        runtime = worker_runtime(settings)
    except ValueError:  # the port is in use: the worker runs on, without its metrics endpoint
        log.exception("worker metrics endpoint not started", port=settings.worker_metrics_port)
        runtime = None
    tracing = tracer_provider(settings, "jiuzhu-worker")
    client = await connect(settings, runtime=runtime, tracer_provider=tracing)
    worker = make_worker(client, settings, engine)
    from jiuzhu.schedules import ensure_daily_batch_schedules, ensure_payroll_months

    if settings.plans_payroll_ahead:
        counties = await ensure_payroll_months(client, settings.task_queue)
        log.info("next month's payroll waiting for its 1st", counties=counties)
    counties = await ensure_daily_batch_schedules(client, settings.task_queue)
    log.info("daily bank batch schedules ensured", counties=counties)
    from jiuzhu.spot_check_schedules import ensure_spot_check_schedules

    counties = await ensure_spot_check_schedules(client, settings.task_queue)
    log.info("spot-check schedules ensured", counties=counties)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    tune_gc()
    async with worker:
        await stop.wait()
    if tracing is not None:
        tracing.shutdown()  # flush the spans still batched
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
