"""The in-process stack of the kill-and-restart tests: the worker and the API on the persistent
dev server's client (``tests/conftest.py``: ``persistent_server``). The test kills the server
(SIGKILL) between two such stacks; the worker stops with the block."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import TimeSkipper, TimeSkippingConfig

from api.main import create_app
from jiuzhu.settings import Settings
from worker import make_worker


@asynccontextmanager
async def stack(
    client: Client, settings: Settings, engine: Engine
) -> AsyncIterator[httpx.AsyncClient]:
    """Worker + API on ``client``; yields the API's HTTP client."""
    async with make_worker(client, settings, engine):
        app = create_app(settings=settings, engine=engine, client=client)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as http:
            yield http


async def skip_to(client: Client, handle: WorkflowHandle[Any, Any], at: datetime) -> None:
    """Move the persistent server's clock on to ``at`` (nothing when it is there already), so
    the workflow's timers up to then fire."""
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    now = await skipper.get_current_time(handle)
    if at > now:
        await skipper.fast_forward(handle, at - now)
