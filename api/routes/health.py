"""GET /health: Temporal reachable, the worker polling our task queue, the database answering.

Never blocks the event loop and always answers within about ``TIMEOUT_S``: the three checks run
concurrently, each with its timeout, the database ping on a thread of its own (not the request
threadpool, which a burst of requests may fill): a pool exhausted by load reports ``database``
down instead of hanging the process."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter
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


@router.get("/health")
async def health(
    settings: SettingsDep, engine: EngineDep, client: TemporalClientDep
) -> JSONResponse:
    temporal, worker, database = await asyncio.gather(
        _temporal(client, settings), _worker(client, settings), _database(engine)
    )
    checks = {"temporal": temporal, "worker": worker, "database": database}
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
    )
