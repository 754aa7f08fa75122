"""One logging set-up for API, worker and activities: structlog processors shared with stdlib
logging (Temporal's ``workflow.logger``/``activity.logger`` and uvicorn), JSON in production and a
readable console in development, chosen by setting."""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from jiuzhu.request_ids import current_request_id


def _request_id(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The API request behind a workflow or activity line (``jiuzhu/request_ids.py``)."""
    request_id = current_request_id()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    _request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=False),
]


def _temporal_context(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Lift Temporal's ``temporal_workflow``/``temporal_activity`` extras into flat fields so every
    line from a workflow or activity carries its workflow id."""
    for key in ("temporal_workflow", "temporal_activity"):
        info = event.pop(key, None)
        if isinstance(info, dict):
            if "workflow_id" in info:
                event.setdefault("workflow_id", info["workflow_id"])
            if "workflow_type" in info:
                event.setdefault("workflow_type", info["workflow_type"])
            if "activity_type" in info:
                event.setdefault("activity_type", info["activity_type"])
    return event


def configure_logging(fmt: str = "console", level: str = "INFO") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder(), _temporal_context],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _temporal_context,
            # JSON lines carry the traceback of ``log.exception`` as a field; the console
            # renderer prints it itself.
            *([structlog.processors.dict_tracebacks] if fmt == "json" else []),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        # ``uvicorn --no-access-log`` leaves the access logger with no handler and not
        # propagating: it stays off (a line per request costs as much as a small request).
        off = name == "uvicorn.access" and not logger.propagate and not logger.handlers
        logger.handlers[:] = []
        logger.propagate = not off


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
