"""Errors as RFC 9457 problem+json, mapped here and nowhere else. Every 4xx names the offending
field; internal error text never reaches the client.

- A business refusal from any domain (``jiuzhu/refusals.py``: a workflow's Update refused, or a
  ``RefusalError`` raised by the API's own checks) → its kind's status (403/404/409/422) with the
  Chinese message, ``code`` (the refusal kind unless the refusal names one) and the field.
- An Update that failed for any other reason → 503 with ``Retry-After`` (steps are idempotent:
  retrying never pays or notifies twice).
- The database pool exhausted for longer than its timeout → 503 with ``Retry-After``.
- Temporal unreachable or slow (``RPCError``, an Update whose RPC timed out) → 503 with
  ``Retry-After``, never a hang and never a 500."""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from jiuzhu.refusals import Refusal, RefusalError, refusal_of

PROBLEM = "application/problem+json"
log = structlog.get_logger("jiuzhu.api")


class ProblemError(Exception):
    """A business refusal with its HTTP status, e.g. a step in the wrong state (409)."""

    def __init__(
        self, status: int, title: str, detail: str, field: str | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.field, self.extra = (
            status,
            title,
            detail,
            field,
            extra,
        )


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def field_error(field: str, message: str, status: int = 422) -> ProblemError:
    return ProblemError(status, "Unprocessable Content", f"{field}: {message}", field=field)


TITLES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    503: "Service Unavailable",
}
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_ZH = "暂时无法完成此操作，请稍后重试（重试不会重复办理或付款）"


def refusal_problem(refusal: Refusal) -> ProblemError:
    """The one map from a domain refusal to HTTP (403/404/409/422 naming the field)."""
    status = refusal.http_status
    extra = {"code": refusal.kind.value, **refusal.extra}
    return ProblemError(
        status, TITLES.get(status, "Error"), refusal.message_zh, field=refusal.field, **extra
    )


def unavailable(detail: str = UNAVAILABLE_ZH) -> JSONResponse:
    resp = problem(503, TITLES[503], detail)
    resp.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return resp


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            message = str(err.get("msg", "invalid"))
            if err.get("type") == "json_invalid":
                message = "malformed JSON"
            errors.append({"field": _loc(err.get("loc", ())), "message": message})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Unprocessable Content", detail, errors)

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
        return problem(exc.status, exc.title, exc.detail, errors, **exc.extra)

    @app.exception_handler(RefusalError)
    async def _refusal(request: Request, exc: RefusalError) -> JSONResponse:
        return await _problem(request, refusal_problem(exc.refusal))

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_failed(request: Request, exc: WorkflowUpdateFailedError) -> JSONResponse:
        refusal = refusal_of(exc)
        if refusal is not None:
            return await _problem(request, refusal_problem(refusal))
        log.warning("update failed", error_type=type(exc.cause).__name__)
        return unavailable()

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _update_timeout(
        _: Request, exc: WorkflowUpdateRPCTimeoutOrCancelledError
    ) -> JSONResponse:
        log.warning("update timed out", error_type=type(exc).__name__)
        return unavailable()

    @app.exception_handler(PoolTimeout)
    async def _pool(_: Request, exc: PoolTimeout) -> JSONResponse:
        log.warning("database pool exhausted")
        return unavailable("系统繁忙，请稍后重试")

    @app.exception_handler(RPCError)
    async def _rpc(_: Request, exc: RPCError) -> JSONResponse:
        log.warning("temporal unavailable", status=exc.status.name if exc.status else None)
        return unavailable("工作流服务暂时不可用，请稍后重试")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}.get(
            exc.status_code, "Error"
        )
        headers = getattr(exc, "headers", None)
        resp = problem(exc.status_code, title, str(exc.detail))
        if headers:
            resp.headers.update(headers)
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", error_type=type(exc).__name__)
        return problem(500, "Internal Server Error", "an internal error occurred")
