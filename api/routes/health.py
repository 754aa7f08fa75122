"""GET /health: Temporal reachable, the worker polling our task queue, the database answering.

Never blocks the event loop and always answers within about ``TIMEOUT_S``: the three checks run
concurrently, each with its timeout, the database ping on a thread of its own (not the request
threadpool, which a burst of requests may fill): a pool exhausted by load reports ``database``
down instead of hanging the process.

A running API checks in the background every ``REFRESH_S`` (``HealthMonitor``, started by the
lifespan) and ``/health`` answers the last result with its ``checked_at``: a probe costs no
Temporal call, and at month-end load it answers as fast as the process can, instead of waiting on
a busy server twice per probe. A result older than ``STALE_S`` (the monitor stuck or not running,
as in tests that skip the lifespan) is checked again in the request."""

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from api.deps import EngineDep, SettingsDep, TemporalClientDep
from jiuzhu.settings import Settings

router = APIRouter(tags=["health"])
TIMEOUT_S = 3.0
REFRESH_S = 1.0  # the background monitor's period
STALE_S = 2 * REFRESH_S + TIMEOUT_S  # older than this, the request checks for itself
# A check in flight for longer than this (a healthy one takes milliseconds; against a server
# just killed it waits out TIMEOUT_S) no longer vouches for the result before it.
SLOW_S = REFRESH_S
_PING_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health-db")


async def _temporal(client: Client, settings: Settings) -> dict[str, Any]:
    try:
        await asyncio.wait_for(client.service_client.check_health(), TIMEOUT_S)
        return {"ok": True, "address": settings.temporal_address}
    except Exception as exc:  # report, never raise: health must answer
        return {"ok": False, "error": type(exc).__name__}


async def _worker(client: Client, settings: Settings) -> dict[str, Any]:
    try:
        resp = await asyncio.wait_for(
            client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=client.namespace,
                    task_queue=TaskQueue(name=settings.task_queue),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                )
            ),
            TIMEOUT_S,
        )
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    pollers = len(resp.pollers)
    return {"ok": pollers > 0, "task_queue": settings.task_queue, "pollers": pollers}


def _ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _database(engine: Engine) -> dict[str, Any]:
    try:
        ping = asyncio.get_running_loop().run_in_executor(_PING_THREADS, _ping, engine)
        await asyncio.wait_for(ping, TIMEOUT_S)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


async def check(client: Client, settings: Settings, engine: Engine) -> dict[str, Any]:
    """The three checks, concurrently: ``{"status", "checks", "checked_at"}``."""
    temporal, worker, database = await asyncio.gather(
        _temporal(client, settings), _worker(client, settings), _database(engine)
    )
    checks = {"temporal": temporal, "worker": worker, "database": database}
    ok = all(c["ok"] for c in checks.values())
    return {
        "status": "ok" if ok else "unavailable",
        "checks": checks,
        "checked_at": datetime.now(UTC).isoformat(),
    }


class HealthMonitor:
    """Runs ``check`` every ``REFRESH_S`` on the API's event loop and keeps the last result."""

    def __init__(self, checks: Callable[[], Any]) -> None:
        self._checks = checks
        self._last: tuple[float, dict[str, Any]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._checking_since: float | None = None

    def fresh(self) -> dict[str, Any] | None:
        """The last result if it is younger than ``STALE_S`` and no check has been running
        for longer than ``SLOW_S`` since (a server that stopped answering after that result
        is then checked in the request, not reported healthy for seconds)."""
        now = time.monotonic()
        if self._last is None or now - self._last[0] > STALE_S:
            return None
        if self._checking_since is not None and now - self._checking_since > SLOW_S:
            return None
        return self._last[1]

    def keep(self, result: dict[str, Any]) -> None:
        self._last = (time.monotonic(), result)

    async def _run(self) -> None:
        while True:
            self._checking_since = time.monotonic()
            try:
                result = await self._checks()
            finally:
                self._checking_since = None
            self.keep(result)
            await asyncio.sleep(REFRESH_S)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="health-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


@router.get("/health")
async def health(
    request: Request, settings: SettingsDep, engine: EngineDep, client: TemporalClientDep
) -> JSONResponse:
    monitor: HealthMonitor | None = getattr(request.app.state, "health_monitor", None)
    result = monitor.fresh() if monitor is not None else None
    if result is None:
        result = await check(client, settings, engine)
        if monitor is not None:
            monitor.keep(result)
    return JSONResponse(result, 200 if result["status"] == "ok" else 503)
