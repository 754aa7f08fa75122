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

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from jiuzhu.refusals import Refusal, RefusalError, refusal_of

PROBLEM = "application/problem+json"
log = structlog.get_logger("jiuzhu.api")


class FieldProblem(BaseModel):
    """One offending input: the field's dotted path (``household.0.name``, ``body`` for the
    request as a whole) and what is wrong with it (Chinese first)."""

    field: str
    message: str


class Problem(BaseModel):
    """An error answer (RFC 9457 ``application/problem+json``)."""

    type: str = Field(default="about:blank", description="always about:blank")
    title: str = Field(description="the HTTP status's name, e.g. Unprocessable Content")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong, Chinese first")
    errors: list[FieldProblem] | None = Field(
        default=None, description="the offending fields (validation and refusals)"
    )
    code: str | None = Field(
        default=None, description="a business refusal's kind (wrong_state, forbidden …)"
    )


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
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    405: "Method Not Allowed",
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


_UNPARSABLE_BODY = "There was an error parsing the body"  # FastAPI's 400 detail
_VALUE_ERROR = "Value error, "  # pydantic's prefix on a validator's ValueError message


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def field_problems(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as ``{"field": dotted path, "message": …}``, worded once for every
    answer: the JSON API's 422 and the workbench's messages beside its inputs."""
    out = []
    for err in errors:
        message = str(err.get("msg", "invalid")).removeprefix(_VALUE_ERROR)
        if err.get("type") == "json_invalid":
            message = "malformed JSON"
        out.append({"field": _loc(err.get("loc", ())), "message": message})
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_problems(exc.errors())
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
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
            # FastAPI's answer to a body that is not even text (e.g. not UTF-8): bad input like
            # malformed JSON, so the same 422 naming the body.
            message = "请求体不是有效的JSON / malformed JSON"
            return problem(
                422, TITLES[422], f"body: {message}", [{"field": "body", "message": message}]
            )
        title = TITLES.get(exc.status_code, "Error")
        headers = getattr(exc, "headers", None)
        resp = problem(exc.status_code, title, str(exc.detail))
        if headers:
            resp.headers.update(headers)
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", error_type=type(exc).__name__)
        return problem(500, "Internal Server Error", "an internal error occurred")


# --- the contract: every operation's error answers, added once to the OpenAPI document --------
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    401: "未登录或令牌无效 / missing or invalid bearer token",
    403: "角色或辖区不符 / wrong role, or outside the officer's area",
    404: "不存在 / no such resource (or not yet)",
    409: "案件状态不允许此操作 / the case's state does not allow this step",
    413: "请求体过大 / request body too large",
    422: "输入不合规，指明字段 / invalid input, naming the field",
    503: "暂时不可用，可按 Retry-After 重试 / temporarily unavailable, retry after Retry-After",
}


def problem_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error answers an operation may give: 401/403 when it needs a bearer token, 404 with
    a path parameter, 409 for a write, 413 with a body, 422 with any input, 503 always (Temporal
    or the database pool unavailable)."""
    statuses = []
    if operation.get("security"):
        statuses += [401, 403]
    if "{" in path:
        statuses.append(404)
    if method not in ("get", "head", "options"):
        statuses.append(409)
    if "requestBody" in operation:
        statuses.append(413)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append(422)
    statuses.append(503)
    return statuses


def add_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Document every operation's error answers as ``application/problem+json`` with the
    ``Problem`` model, replacing FastAPI's default 422 (``HTTPValidationError``). Idempotent."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in problem_statuses(path, method, operation):
                responses[str(status)] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {PROBLEM: {"schema": _PROBLEM_REF}},
                }
            for status, response in responses.items():  # declared by the route itself
                if status.startswith(("4", "5")) and "content" not in response:
                    response["content"] = {PROBLEM: {"schema": _PROBLEM_REF}}
    text = repr(schema.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}'" not in text:
            schemas.pop(unused, None)
    return schema
