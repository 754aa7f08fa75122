"""The workbench tests' app: the API of the test session (real Temporal server and worker)."""

import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from api.main import create_app
from jiuzhu.settings import Settings


@pytest_asyncio.fixture
async def app(settings: Settings, engine: Engine, client: Client, worker: Worker) -> FastAPI:
    return create_app(settings=settings, engine=engine, client=client)
