"""Telemetry: the worker's Prometheus endpoint serves the SDK's runtime metrics; tracing is off
by default and, when on, one trace runs from the API request through the workflow to its
activities; the API's request id reaches the activities the request causes and their logs."""

import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
import structlog
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Engine
from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from api.main import create_app
from jiuzhu.logging import configure_logging
from jiuzhu.request_ids import RequestIdInterceptor, bind_request_id, current_request_id
from jiuzhu.settings import Settings
from jiuzhu.telemetry import client_interceptors, tracer_provider, worker_runtime
from tests.application.helpers import create, step
from tests.conftest import auth, free_port
from tests.factories import application_body
from tests.telemetry_probe import ProbeWorkflow, probe_activity
from worker import make_worker
from workflows.sandbox import workflow_runner


# --- the worker's runtime metrics ----------------------------------------------------------
async def test_worker_runtime_serves_sdk_metrics(env: WorkflowEnvironment) -> None:
    port = free_port()
    runtime = worker_runtime(Settings(worker_metrics_port=port))
    assert runtime is not None
    client = await Client.connect(
        env.client.service_client.config.target_host,
        namespace=env.client.namespace,
        runtime=runtime,
    )
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        activities=[probe_activity],
    ):
        result = await client.execute_workflow(
            ProbeWorkflow.run, "x", id=f"probe-{uuid.uuid4().hex}", task_queue=queue
        )
        assert result == "probed x"
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    for name in (
        "temporal_workflow_completed",
        "temporal_workflow_task_schedule_to_start_latency",
        "temporal_activity_execution_latency",
        "temporal_worker_task_slots_available",
    ):
        assert name in text, name


def test_worker_metrics_port_zero_is_off() -> None:
    assert worker_runtime(Settings(worker_metrics_port=0)) is None
    assert Settings().worker_metrics_port == 9464


# --- tracing -----------------------------------------------------------------------------
def test_tracing_off_by_default(settings: Settings, engine: Engine, client: Client) -> None:
    assert Settings().otlp_endpoint == ""
    assert tracer_provider(settings, "jiuzhu-api") is None
    interceptors = client_interceptors(None)
    assert [type(i) for i in interceptors] == [RequestIdInterceptor]
    app = create_app(settings=settings, engine=engine, client=client)
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)


def test_tracing_on_with_an_endpoint() -> None:
    provider = tracer_provider(Settings(otlp_endpoint="http://127.0.0.1:4318"), "jiuzhu-api")
    assert provider is not None
    try:
        kinds = [type(i) for i in client_interceptors(provider)]
        assert kinds == [TracingInterceptor, RequestIdInterceptor]
        assert provider.resource.attributes["service.name"] == "jiuzhu-api"
    finally:
        provider.shutdown()  # nothing recorded: nothing sent


@dataclass
class Stack:
    http: httpx.AsyncClient
    spans: InMemorySpanExporter
    seen: list[tuple[str, str | None]]


class _Recorder(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, seen: list[Any]) -> None:
        super().__init__(next)
        self.seen = seen

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self.seen.append((activity.info().activity_type, current_request_id()))
        return await super().execute_activity(input)


class RecordRequestIds(Interceptor):
    """Records the request id each activity runs under (after ``RequestIdInterceptor``)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Recorder(next, self.seen)


@pytest_asyncio.fixture(scope="module")
async def stack(
    settings: Settings, engine: Engine, env: WorkflowEnvironment
) -> AsyncIterator[Stack]:
    """API, client and worker (own task queue) as the processes build them with tracing on,
    the spans kept in memory."""
    spans = InMemorySpanExporter()
    provider = tracer_provider(settings, "jiuzhu-test", exporter=spans)
    assert provider is not None
    own = settings.model_copy(update={"task_queue": f"traced-{uuid.uuid4().hex[:8]}"})
    config = env.client.config()
    config["interceptors"] = client_interceptors(provider)
    client = Client(**config)
    recorder = RecordRequestIds()
    app = create_app(settings=own, engine=engine, client=client, tracer_provider=provider)
    async with make_worker(client, own, engine, interceptors=[recorder]):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://jiuzhu.test") as h:
            yield Stack(h, spans, recorder.seen)
    provider.shutdown()


def names(spans: tuple[ReadableSpan, ...], trace_id: int) -> set[str]:
    return {s.name for s in spans if s.context is not None and s.context.trace_id == trace_id}


async def test_one_trace_from_the_api_to_the_activities(stack: Stack) -> None:
    """The request that creates a case and the workflow it starts share one trace down to the
    activities; a later step's request traces its update (the SDK links the handler's own span to
    the workflow's trace)."""
    stack.spans.clear()
    app_id, _ = await create(stack.http)
    await step(stack.http, app_id, "accept", {})
    spans = stack.spans.get_finished_spans()

    def trace_of(name: str) -> set[str]:
        found = [s for s in spans if s.name == name and s.context is not None]
        assert found, sorted({s.name for s in spans})
        return names(spans, found[0].context.trace_id)

    created = trace_of("POST /applications")
    assert {"StartWorkflow:ApplicationWorkflow", "RunWorkflow:ApplicationWorkflow"} <= created
    assert any(n.startswith("RunActivity:") for n in created), created
    assert "HandleUpdate:accept" in {s.name for s in spans}
    accepted = trace_of("POST /applications/{application_id}/accept")
    assert "StartWorkflowUpdate:accept" in accepted, accepted
    # /metrics and /health are not traced
    await stack.http.get("/metrics")
    await stack.http.get("/health")
    late = {s.name for s in stack.spans.get_finished_spans()}
    assert not {n for n in late if n.startswith(("GET /metrics", "GET /health"))}


async def test_request_id_reaches_the_activities(stack: Stack) -> None:
    stack.seen.clear()
    r = await stack.http.post(
        "/applications",
        json=application_body(),
        headers={**auth("township"), "X-Request-ID": "req-create-1"},
    )
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"] == "req-create-1"
    app_id = r.json()["application_id"]
    r = await stack.http.post(
        f"/applications/{app_id}/accept",
        json={},
        headers={**auth("township"), "X-Request-ID": "req-accept-1"},
    )
    assert r.status_code == 200, r.text
    ids = {request_id for _, request_id in stack.seen}
    assert {"req-create-1", "req-accept-1"} <= ids, stack.seen


async def test_unsafe_request_id_stays_in_the_api(stack: Stack) -> None:
    """A caller's id with characters outside ``[A-Za-z0-9._:-]`` is answered and logged by the
    API but not carried (Temporal headers are not encrypted)."""
    stack.seen.clear()
    r = await stack.http.post(
        "/applications",
        json=application_body(),
        headers={**auth("township"), "X-Request-ID": "id 419901197005171012"},
    )
    assert r.status_code == 201, r.text
    assert stack.seen and all(rid is None for _, rid in stack.seen), stack.seen


# --- logs --------------------------------------------------------------------------------
class _Seen(logging.Handler):
    """Notes the request id each workflow or activity log line is emitted under."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, str | None] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.seen[record.getMessage().split(" (")[0]] = current_request_id()


async def test_workflow_and_activity_logs_carry_the_request_id(env: WorkflowEnvironment) -> None:
    """The id bound by the API travels in the header to the workflow and on to its activity;
    their log lines are emitted under it (``jiuzhu/logging.py`` adds it to each line)."""
    config = env.client.config()
    config["interceptors"] = [RequestIdInterceptor()]
    client = Client(**config)
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    handler = _Seen()
    temporal_logger = logging.getLogger("temporalio")
    level = temporal_logger.level
    temporal_logger.setLevel(logging.INFO)
    temporal_logger.addHandler(handler)
    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[ProbeWorkflow],
            activities=[probe_activity],
            workflow_runner=workflow_runner(),
        ):
            bind_request_id("req-wf-1")
            try:
                await client.execute_workflow(
                    ProbeWorkflow.run, "y", id=f"probe-{uuid.uuid4().hex}", task_queue=queue
                )
            finally:
                bind_request_id(None)
    finally:
        temporal_logger.removeHandler(handler)
        temporal_logger.setLevel(level)
    assert handler.seen.get("probe workflow ran") == "req-wf-1", handler.seen
    assert handler.seen.get("probe activity ran") == "req-wf-1", handler.seen


@pytest.fixture
def json_logs() -> Iterator[None]:
    yield
    structlog.contextvars.clear_contextvars()
    bind_request_id(None)


def test_log_lines_carry_the_request_id(
    capsys: pytest.CaptureFixture[str], json_logs: None
) -> None:
    """A line logged by workflow or activity code (stdlib ``temporalio`` loggers) carries the
    request id set by the interceptor, without structlog's context."""
    configure_logging("json", "INFO")
    bind_request_id("req-log-1")
    logging.getLogger("temporalio.activity").info("outbox message")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["request_id"] == "req-log-1" and line["event"] == "outbox message"
