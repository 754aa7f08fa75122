"""The in-process stack of the kill-and-restart tests: the worker and the API on the persistent
dev server's client (``tests/conftest.py``: ``persistent_server``). The test kills the server
(SIGKILL) between two such stacks; the worker stops with the block."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

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
