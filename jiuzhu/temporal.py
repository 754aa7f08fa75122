"""Temporal client construction: the pydantic data converter with encrypted payloads
(``jiuzhu/codec.py``), so every client and worker of one deployment shares the key ring; the
request-id interceptor always and the tracing interceptor when tracing is on
(``jiuzhu/telemetry.py``); the worker's runtime with its Prometheus endpoint when given."""

from opentelemetry.sdk.trace import TracerProvider
from temporalio.client import Client
from temporalio.runtime import Runtime

from jiuzhu.codec import data_converter, key_ring
from jiuzhu.settings import Settings
from jiuzhu.telemetry import client_interceptors


async def connect(
    settings: Settings,
    runtime: Runtime | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(key_ring(settings)),
        interceptors=client_interceptors(tracer_provider),
        runtime=runtime,
    )
