"""The API's request id, carried into the workflows and activities it causes.

The API's ``RequestContext`` middleware sets the request id of the request being served
(``bind_request_id``). A Temporal interceptor (client and worker, ``RequestIdInterceptor``)
carries it as the header ``jiuzhu-request-id`` on every workflow start, signal, query and
update the client sends; the worker sets it again while the workflow code handling that message
runs, and passes it on to the activities and child workflows that code starts. Every log line
emitted meanwhile carries ``request_id`` (``jiuzhu/logging.py`` reads ``current_request_id``).

Only ids made of ``[A-Za-z0-9._:-]`` (at most 100) travel: headers are not encrypted by the
payload codec, so a caller-supplied id that could hold anything else stays in the API's logs.
"""

import contextvars
import re
from collections.abc import Mapping
from typing import Any, NoReturn

import temporalio.client
import temporalio.worker
from temporalio.api.common.v1 import Payload

HEADER = "jiuzhu-request-id"
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_ENCODING = b"json/plain"

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "jiuzhu_request_id", default=None
)


def current_request_id() -> str | None:
    """The request id of the request, workflow message or activity being handled, if any."""
    return _current.get()


def bind_request_id(request_id: str | None) -> None:
    """Set the request id for the rest of the current task (and the tasks it starts)."""
    _current.set(request_id)


def _payload(request_id: str) -> Payload:
    return Payload(metadata={"encoding": _ENCODING}, data=f'"{request_id}"'.encode("ascii"))


def _with_id(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    request_id = _current.get()
    if request_id is None or HEADER in headers or not _SAFE.fullmatch(request_id):
        return headers
    return {**headers, HEADER: _payload(request_id)}


def _read(headers: Mapping[str, Payload] | None) -> str | None:
    payload = (headers or {}).get(HEADER)
    if payload is None:
        return None
    text = payload.data.decode("ascii", errors="replace").strip('"')
    return text if _SAFE.fullmatch(text) else None


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(
        self, input: temporalio.client.StartWorkflowInput
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        input.headers = _with_id(input.headers)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        input.headers = _with_id(input.headers)
        await super().signal_workflow(input)

    async def query_workflow(self, input: temporalio.client.QueryWorkflowInput) -> Any:
        input.headers = _with_id(input.headers)
        return await super().query_workflow(input)

    async def start_workflow_update(
        self, input: temporalio.client.StartWorkflowUpdateInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        input.headers = _with_id(input.headers)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporalio.client.StartWorkflowUpdateWithStartInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        input.start_workflow_input.headers = _with_id(input.start_workflow_input.headers)
        input.update_workflow_input.headers = _with_id(input.update_workflow_input.headers)
        return await super().start_update_with_start_workflow(input)


class _ActivityInbound(temporalio.worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
        # Set before the activity runs: a sync activity runs in a copy of this context.
        token = _current.set(_read(input.headers))
        try:
            return await super().execute_activity(input)
        finally:
            _current.reset(token)


class _WorkflowInbound(temporalio.worker.WorkflowInboundInterceptor):
    """Each message runs in its own task: the id set here is that message's, and what the
    handler starts (activities, child workflows) inherits it."""

    def init(self, outbound: temporalio.worker.WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound))

    async def execute_workflow(self, input: temporalio.worker.ExecuteWorkflowInput) -> Any:
        _current.set(_read(input.headers))
        return await super().execute_workflow(input)

    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        _current.set(_read(input.headers))
        await super().handle_signal(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        _current.set(_read(input.headers))
        return await super().handle_update_handler(input)


class _WorkflowOutbound(temporalio.worker.WorkflowOutboundInterceptor):
    def start_activity(self, input: temporalio.worker.StartActivityInput) -> Any:
        input.headers = _with_id(input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: temporalio.worker.StartLocalActivityInput) -> Any:
        input.headers = _with_id(input.headers)
        return super().start_local_activity(input)

    async def start_child_workflow(self, input: temporalio.worker.StartChildWorkflowInput) -> Any:
        input.headers = _with_id(input.headers)
        return await super().start_child_workflow(input)

    async def signal_child_workflow(
        self, input: temporalio.worker.SignalChildWorkflowInput
    ) -> None:
        input.headers = _with_id(input.headers)
        await super().signal_child_workflow(input)

    async def signal_external_workflow(
        self, input: temporalio.worker.SignalExternalWorkflowInput
    ) -> None:
        input.headers = _with_id(input.headers)
        await super().signal_external_workflow(input)

    def continue_as_new(self, input: temporalio.worker.ContinueAsNewInput) -> NoReturn:
        input.headers = _with_id(input.headers)
        super().continue_as_new(input)


class RequestIdInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
    """Client and worker interceptor carrying the request id (module docstring). On the
    client given to a ``Worker`` it serves the worker too."""

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next)

    def intercept_activity(
        self, next: temporalio.worker.ActivityInboundInterceptor
    ) -> temporalio.worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        return _WorkflowInbound
