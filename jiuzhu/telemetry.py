"""Telemetry of the processes: the Temporal SDK runtime with its Prometheus endpoint (the worker's
metrics port), and OpenTelemetry tracing (off unless ``JIUZHU_OTLP_ENDPOINT`` is set).

Nothing here sets a process-wide global: the runtime is handed to the client the worker uses,
the tracer provider to the Temporal interceptor and the FastAPI instrumentation, so tests can
build several of each in one process."""

from collections.abc import Sequence

import temporalio.client
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from jiuzhu.request_ids import RequestIdInterceptor
from jiuzhu.settings import Settings

TRACER_NAME = "jiuzhu"


def worker_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime whose Prometheus endpoint (``http://host:port/metrics``) serves the
    SDK's metrics — workflow and activity task latencies, schedule-to-start latencies, free
    task slots, polls, request failures — or ``None`` when ``JIUZHU_WORKER_METRICS_PORT`` is 0.
    Only the worker process calls this: test workers share the default runtime."""
    if settings.worker_metrics_port == 0:
        return None
    address = f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))


def tracer_provider(
    settings: Settings, service_name: str, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """The tracer provider of a process (``jiuzhu-api``, ``jiuzhu-worker``): spans batched to
    ``JIUZHU_OTLP_ENDPOINT`` by OTLP over HTTP; ``None`` (no tracing) when it is empty. A test
    passes its own ``exporter`` (e.g. in memory), which receives each span as it ends."""
    if exporter is not None:
        processor: BatchSpanProcessor | SimpleSpanProcessor = SimpleSpanProcessor(exporter)
    elif settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))
    else:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(processor)
    return provider


def client_interceptors(
    provider: TracerProvider | None,
) -> Sequence[temporalio.client.Interceptor]:
    """The interceptors of every Jiuzhu client (and of the worker built on it): the request id
    always, the OpenTelemetry spans of workflows and activities when tracing is on."""
    interceptors: list[temporalio.client.Interceptor] = [RequestIdInterceptor()]
    if provider is not None:
        interceptors.insert(0, TracingInterceptor(provider.get_tracer(TRACER_NAME)))
    return interceptors
