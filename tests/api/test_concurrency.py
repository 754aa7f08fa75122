"""A whole county at once: the API holds under concurrent officers.

No request holds a pooled database connection while it waits on Temporal, and nothing blocks the
event loop: 100 concurrent case reads (each a database check and a workflow query) all answer,
and ``/health`` answers in the middle of the burst. Not timed: a loop blocked by a synchronous
session, or a pool drained by requests parked on Temporal, shows up as 5xx or a hang here. A
structural test keeps it so: no ``async def`` endpoint, nor any of its dependencies, takes a
``Session``."""

import asyncio
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.routing import BaseRoute

from api.main import create_app
from tests.conftest import auth
from tests.factories import application_body

BURST = 100


async def test_100_concurrent_case_reads_all_answer_and_health_answers_meanwhile(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post("/applications", json=application_body(), headers=auth("township"))
    assert r.status_code == 201, r.text
    app_id = r.json()["application_id"]

    async def read(i: int) -> httpx.Response:
        who = "township" if i % 2 else "county"
        return await api.get(f"/applications/{app_id}", headers=auth(who))

    async def health_during_burst() -> httpx.Response:
        await asyncio.sleep(0)  # let the burst start first
        return await api.get("/health")

    health_task = asyncio.create_task(health_during_burst())
    reads = await asyncio.gather(*(read(i) for i in range(BURST)))
    health = await health_task

    statuses = [resp.status_code for resp in reads]
    assert statuses == [200] * BURST, sorted(set(statuses))
    assert {resp.json()["application_id"] for resp in reads} == {app_id}
    assert health.status_code == 200, health.text
    assert health.json()["checks"]["database"]["ok"] is True


async def test_concurrent_reads_mixed_with_lists_and_steps(api: httpx.AsyncClient) -> None:
    """Lists (plain ``def`` routes in the threadpool), reads and steps (Updates) side by side."""
    created = await asyncio.gather(
        *(
            api.post("/applications", json=application_body(), headers=auth("township"))
            for _ in range(5)
        )
    )
    assert [c.status_code for c in created] == [201] * 5
    ids = [c.json()["application_id"] for c in created]
    calls = [
        *(api.post(f"/applications/{i}/accept", json={}, headers=auth("township")) for i in ids),
        *(api.get(f"/applications/{ids[n % 5]}", headers=auth("county")) for n in range(40)),
        *(api.get("/applications", headers=auth("county")) for _ in range(20)),
        *(api.get("/me/messages", headers=auth("township")) for _ in range(10)),
        api.get("/health"),
    ]
    answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * len(calls), [
        (a.request.url.path, a.status_code) for a in answers if a.status_code != 200
    ]


# --- structure: no Session on the event loop ------------------------------------------------
def _takes_session(call: Callable[..., Any]) -> list[str]:
    """The parameters of ``call`` whose type is a ``Session`` (bare or ``Annotated``)."""
    try:
        hints = get_type_hints(call, include_extras=True)
    except Exception:  # a callable without resolvable hints: look at the raw annotations
        hints = {p.name: p.annotation for p in inspect.signature(call).parameters.values()}
    found = []
    for name, hint in hints.items():
        if name == "return":
            continue
        if get_origin(hint) is Annotated:
            hint = get_args(hint)[0]
        if isinstance(hint, type) and issubclass(hint, Session):
            found.append(name)
    return found


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every ``APIRoute``, also inside included routers (kept nested by recent FastAPI)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        original = getattr(route, "original_router", None)  # FastAPI's included router
        if original is not None:
            yield from _api_routes(original.routes)


def _is_async(call: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(
        getattr(call, "__call__", None)  # noqa: B004 - a callable instance's method
    )


def test_no_async_endpoint_or_its_dependencies_take_a_session() -> None:
    app = create_app()
    offenders: list[str] = []
    checked = 0
    for route in _api_routes(app.routes):
        if not _is_async(route.endpoint):
            continue
        checked += 1
        where = f"{sorted(route.methods or ())} {route.path}"
        for name in _takes_session(route.endpoint):
            offenders.append(f"{where}: endpoint {route.endpoint.__name__}({name}: Session)")
        for dep in _dependencies(route.dependant):
            if dep.call is None:
                continue
            for name in _takes_session(dep.call):
                dep_name = getattr(dep.call, "__name__", repr(dep.call))
                offenders.append(f"{where}: dependency {dep_name}({name}: Session)")
    assert checked >= 20, "the walk must see the async routes"
    assert not offenders, "\n".join(offenders)


def test_the_walk_catches_a_session_in_an_async_route() -> None:
    """The structural test is not vacuous: an async route with ``SessionDep`` is caught."""
    from fastapi import APIRouter

    from api.deps import SessionDep

    router = APIRouter()

    @router.get("/bad")
    async def bad(session: SessionDep) -> None:
        return None

    route = next(r for r in router.routes if isinstance(r, APIRoute))
    assert _takes_session(route.endpoint) == ["session"]
