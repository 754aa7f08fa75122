"""The FastAPI application. Settings, engine and Temporal client are built in the lifespan (or
injected by tests), never at import."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine
from temporalio.client import Client

from api.errors import install_error_handlers
from api.routes.registry import ROUTERS
from jiuzhu.db.engine import engine_for
from jiuzhu.logging import configure_logging, get_logger
from jiuzhu.settings import Settings, get_settings
from jiuzhu.startup import check_startup
from jiuzhu.temporal import connect

log = get_logger("jiuzhu.api")


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, client: Client | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings is None:
            app.state.settings = get_settings()
            configure_logging(app.state.settings.effective_log_format, app.state.settings.log_level)
        check_startup(app.state.settings)  # a bad policy file fails start-up (file, field)
        if engine is None:
            app.state.engine = engine_for(app.state.settings)
        if client is None:
            app.state.temporal = await connect(app.state.settings)
        yield
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="Jiuzhu 救助",
        summary="Social-assistance cases from application to payment",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Injected dependencies (tests) are usable at once, without running the lifespan.
    if settings is not None:
        app.state.settings = settings
    if engine is not None:
        app.state.engine = engine
    if client is not None:
        app.state.temporal = client

    @app.middleware("http")
    async def bind_request(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        structlog.contextvars.clear_contextvars()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id, path=request.url.path)
        response = await call_next(request)
        response.headers["x-request-id"] = request_id
        return response

    for router in ROUTERS:
        app.include_router(router)
    return app
