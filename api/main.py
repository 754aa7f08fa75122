"""The FastAPI application. Settings, engine and Temporal client are built in the lifespan (or
injected by tests), never at import."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders, State
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from api.docs import install_offline_docs
from api.errors import add_problem_responses, install_error_handlers
from api.masking import MaskPersonalData
from api.metrics import HttpMetrics, metrics_registry
from api.routes.codec import codec_origins
from api.routes.health import HealthMonitor, check
from api.routes.registry import ROUTERS
from api.validators import BodySizeLimit, UrlHygiene
from api.workbench import router as workbench_router
from api.workbench.routes import STATIC_DIR as WORKBENCH_STATIC
from jiuzhu.db.engine import engine_for
from jiuzhu.logging import configure_logging, get_logger
from jiuzhu.request_ids import bind_request_id
from jiuzhu.settings import Settings, get_settings
from jiuzhu.startup import check_startup
from jiuzhu.telemetry import tracer_provider as build_tracer_provider
from jiuzhu.temporal import connect

log = get_logger("jiuzhu.api")


class _BodyLimitFromSettings:
    """``BodySizeLimit`` with the limit of the app's settings (``JIUZHU_MAX_BODY_BYTES``), read
    on the first request: the settings are built in the lifespan unless injected."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state
        self.limited: BodySizeLimit | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.limited is None:
            settings: Settings = self.state.settings
            self.limited = BodySizeLimit(self.app, max_bytes=settings.max_body_bytes)
        await self.limited(scope, receive, send)


class RequestContext:
    """Binds a request id (the caller's ``X-Request-ID`` or a new one) and the path to every log
    line of the request, and returns the id in the answer. Plain ASGI: no per-request task or
    body buffering as with ``BaseHTTPMiddleware``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given[:100] or uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, path=scope.get("path", ""))
        bind_request_id(request_id)  # carried into the workflows and activities it causes

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


def create_app(
    settings: Settings | None = None,
    engine: Engine | None = None,
    client: Client | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The API. Tests inject settings, engine and client, and a ``tracer_provider`` to see the
    spans; otherwise tracing follows ``JIUZHU_OTLP_ENDPOINT`` (off when empty)."""
    configured = settings or get_settings()
    tracing = tracer_provider or build_tracer_provider(configured, "jiuzhu-api")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings is None:
            app.state.settings = get_settings()
            configure_logging(app.state.settings.effective_log_format, app.state.settings.log_level)
        check_startup(app.state.settings)  # a bad policy file fails start-up (file, field)
        if engine is None:
            app.state.engine = engine_for(app.state.settings)
        if client is None:
            app.state.temporal = await connect(app.state.settings, tracer_provider=tracing)
        monitor = HealthMonitor(
            lambda: check(app.state.temporal, app.state.settings, app.state.engine)
        )
        app.state.health_monitor = monitor
        monitor.start()
        yield
        await monitor.stop()
        if engine is None:
            app.state.engine.dispose()
        if tracing is not None and tracer_provider is None:
            tracing.shutdown()  # flush the spans still batched

    app = FastAPI(
        title="Jiuzhu 救助",
        summary="Social-assistance cases from application to payment",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_offline_docs(app)
    install_error_handlers(app)
    # Injected dependencies (tests) are usable at once, without running the lifespan.
    if settings is not None:
        app.state.settings = settings
    if engine is not None:
        app.state.engine = engine
    if client is not None:
        app.state.temporal = client

    # Requests by route template and status, with latencies (api/metrics.py); inside the body
    # limit, so a 413 is not counted.
    app.state.metrics_registry = metrics_registry(
        lambda: app.state.engine, configured.metrics_cache_s
    )
    app.add_middleware(HttpMetrics, registry=app.state.metrics_registry)
    # ID numbers and accounts masked by role in every JSON answer; unmasked reads of a person's
    # file recorded in the access log (api/masking.py).
    app.add_middleware(MaskPersonalData)
    app.add_middleware(RequestContext)
    # The Temporal Web UI calls the codec endpoint from its own origin, with credentials (the
    # operator's codec cookie, scoped to /codec): only its origins are admitted.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=codec_origins(configured),
        allow_credentials=True,
        allow_methods=["POST", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Namespace", "X-Workflow-Id"],
    )

    # A control character in the path or the query is a 422 before any route reads it.
    app.add_middleware(UrlHygiene)
    # Outermost: an over-long body is answered 413 before anything reads or parses it.
    app.add_middleware(_BodyLimitFromSettings, state=app.state)

    for router in ROUTERS:
        app.include_router(router)
    # The officers' workbench: pages and their one stylesheet, from this package (no CDN).
    app.include_router(workbench_router)
    app.mount("/workbench/static", StaticFiles(directory=WORKBENCH_STATIC), name="workbench-static")

    if configured.metrics_enabled:
        registry = app.state.metrics_registry

        # A sync route: the business gauges query the database in the threadpool.
        @app.get("/metrics", include_in_schema=False)
        def metrics() -> Response:
            """Prometheus text format; counts only, no personal data (JIUZHU_METRICS_ENABLED)."""
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    if tracing is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=tracing, excluded_urls="/metrics,/health"
        )

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problem_responses(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
