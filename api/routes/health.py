"""GET /health: Temporal reachable, the worker polling our task queue, the database answering."""

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.deps import EngineDep, SettingsDep, TemporalClientDep

router = APIRouter(tags=["health"])
TIMEOUT_S = 3.0


@router.get("/health")
async def health(
    settings: SettingsDep, engine: EngineDep, client: TemporalClientDep
) -> JSONResponse:
    checks: dict[str, dict[str, Any]] = {}
    try:
        await asyncio.wait_for(client.service_client.check_health(), TIMEOUT_S)
        checks["temporal"] = {"ok": True, "address": settings.temporal_address}
    except Exception as exc:  # report, never raise: health must answer
        checks["temporal"] = {"ok": False, "error": type(exc).__name__}
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
        pollers = len(resp.pollers)
        checks["worker"] = {
            "ok": pollers > 0,
            "task_queue": settings.task_queue,
            "pollers": pollers,
        }
    except Exception as exc:
        checks["worker"] = {"ok": False, "error": type(exc).__name__}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    ok = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
    )
