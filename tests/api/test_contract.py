"""The contract is complete (part 6): every operation documents its error answers as
``application/problem+json`` with the ``Problem`` model, and a bounded schemathesis run over every
operation, against the real app wired to the test Temporal server, worker and database, finds no
5xx and no answer outside the documented schema.

Schemathesis generates the cases (derandomized, ``MAX_EXAMPLES`` per operation and mode) in a
worker thread; each request is sent through the session's ``api`` client on the session's event
loop, where the worker runs, and the answer is checked with ``not_a_server_error`` and
``response_schema_conformance``."""

import asyncio
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import create_app
from jiuzhu.settings import Settings
from tests.conftest import auth

MAX_EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 12}
REQUEST_TIMEOUT_S = 30
PROBLEM = "application/problem+json"

OPENAPI: dict[str, Any] = create_app(
    settings=Settings(environment="test", seed_demo_officers=False)
).openapi()
SCHEMA = schemathesis.openapi.from_dict(OPENAPI)
# ``ok()`` raises for an operation schemathesis cannot read: that fails collection, loudly.
OPERATIONS = [cast(Any, result).ok() for result in SCHEMA.get_all_operations()]


def _has_input(operation: Any) -> bool:
    spec = OPENAPI["paths"][operation.path][operation.method.lower()]
    return bool(spec.get("parameters") or spec.get("requestBody"))


# Negative cases (input outside the schema) only where there is input to break.
RUNS = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (op, GenerationMode.NEGATIVE) for op in OPERATIONS if _has_input(op)
]


def officer_for(method: str, path: str) -> str:
    """A valid token whose role may use the operation (a wrong role is only ever a 403)."""
    if path.startswith(("/admin", "/deaths", "/calendar", "/policies", "/campaigns")) or (
        path.endswith(("/backfill", "/trigger"))
    ):
        return "admin"
    if path.endswith("/funding"):
        return "finance"
    if method == "POST" and path.startswith(("/applications", "/temporary-cases")):
        return "township"
    return "county"


# --- the document ----------------------------------------------------------------------------
def test_every_operation_documents_its_problems() -> None:
    schemas = OPENAPI["components"]["schemas"]
    problem = schemas["Problem"]
    assert set(problem["properties"]) >= {"type", "title", "status", "detail", "errors", "code"}
    assert "HTTPValidationError" not in schemas
    operations = [
        (path, method, op)
        for path, item in OPENAPI["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 40
    for path, method, op in operations:
        responses = op["responses"]
        expected = {"503"}
        if path != "/health":
            expected |= {"401", "403"}
        if "{" in path:
            expected.add("404")
        if "requestBody" in op:
            expected |= {"409", "413", "422"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            content = responses[status]["content"]
            assert list(content) == [PROBLEM], (method, path, status)
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


async def test_openapi_served_with_problems(api: httpx.AsyncClient) -> None:
    r = await api.get("/openapi.json")
    assert r.status_code == 200
    assert r.json()["paths"]["/applications"]["post"]["responses"]["413"]["content"][PROBLEM]


# --- the run ---------------------------------------------------------------------------------
def run_operation(
    operation: Any,
    mode: GenerationMode,
    send: Callable[[dict[str, Any]], httpx.Response],
) -> None:
    """Generate and check the cases of one operation (in a worker thread)."""
    token = auth(officer_for(operation.method.upper(), operation.path))
    failures: list[str] = []

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url="http://jiuzhu.test", headers=token)
        if mode is GenerationMode.POSITIVE:
            kwargs["headers"] = {**kwargs["headers"], **token}
        response = send(kwargs)
        try:
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )
        except AssertionError as exc:  # schemathesis's FailureGroup
            failures.append(f"{case.method} {kwargs['url']}: {str(exc)[:2000]}")

    check()
    assert not failures, "\n\n".join(failures[:5])


def httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The requests-style arguments schemathesis serialises, for httpx."""
    out: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": kwargs.get("headers") or {},
        "params": kwargs.get("params") or None,
        "cookies": kwargs.get("cookies") or None,
    }
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    elif isinstance(kwargs.get("data"), (bytes, str)):
        out["content"] = kwargs["data"]
    elif kwargs.get("data") is not None:
        out["data"] = kwargs["data"]
    return out


@pytest.mark.parametrize(
    ("operation", "mode"), RUNS, ids=[f"{op.label}-{mode.value}" for op, mode in RUNS]
)
async def test_no_server_error_and_schema_conformance(
    api: httpx.AsyncClient, operation: Any, mode: GenerationMode
) -> None:
    loop = asyncio.get_running_loop()

    def send(kwargs: dict[str, Any]) -> httpx.Response:
        request = api.request(**httpx_kwargs(kwargs))
        return asyncio.run_coroutine_threadsafe(request, loop).result(REQUEST_TIMEOUT_S)

    await asyncio.to_thread(run_operation, operation, mode, send)
