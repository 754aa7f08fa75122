"""Dependencies: settings, DB, Temporal client, and the officer behind the bearer token, with
role and area checks chained from it.

No dependency touches the database on the event loop: a plain ``def`` one runs in the
threadpool, and ``current_officer`` looks a token up there (keeping it for a few seconds).
``SessionDep`` is for plain ``def`` routes only; an ``async def`` route reaches the database
through ``DatabaseDep`` (``api/db.py``), so that no request holds a pooled connection while it
waits on Temporal (``tests/api/test_concurrency.py`` walks the routes to keep it so)."""

import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Annotated

import structlog
from fastapi import Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, Field
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from jiuzhu.clock import BEIJING
from jiuzhu.contract import Actor, Role
from jiuzhu.officers import hash_token, officer_for_token
from jiuzhu.settings import Settings

_bearer = HTTPBearer(auto_error=False)


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


async def get_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalClientDep = Annotated[Client, Depends(get_client)]


OFFICER_CACHE_TTL_S = 10.0
OFFICER_CACHE_MAX = 10_000


class OfficerCache:
    """Officers by bearer token (kept as its SHA-256) for ``OFFICER_CACHE_TTL_S``: a county's
    officers send many requests a minute, and looking each token up again would cost every
    request a threadpool hop, a pooled connection and a query. A deactivated officer or a new
    role takes effect within the TTL; an unknown token is never kept."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._actors: dict[str, tuple[float, Actor]] = {}

    def get(self, token: str) -> Actor | None:
        hit = self._actors.get(hash_token(token))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, token: str, actor: Actor) -> None:
        if len(self._actors) >= OFFICER_CACHE_MAX:
            now = time.monotonic()
            self._actors = {k: v for k, v in self._actors.items() if v[0] >= now}
            if len(self._actors) >= OFFICER_CACHE_MAX:
                self._actors.clear()
        self._actors[hash_token(token)] = (time.monotonic() + OFFICER_CACHE_TTL_S, actor)

    def forget_all(self) -> None:
        """After a deactivation or a token rotation: look every token up again."""
        self._actors.clear()


def _officer_cache(request: Request) -> OfficerCache:
    cache: OfficerCache | None = getattr(request.app.state, "officer_cache", None)
    engine: Engine = request.app.state.engine
    if cache is None or cache.engine is not engine:
        cache = request.app.state.officer_cache = OfficerCache(engine)
    return cache


async def current_officer(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The officer behind the bearer token (401 otherwise). A token seen in the last
    ``OFFICER_CACHE_TTL_S`` is answered from memory; otherwise it is looked up in the
    threadpool, never on the event loop."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    cache = _officer_cache(request)
    actor = cache.get(creds.credentials)
    if actor is None:
        actor = await run_in_threadpool(officer_for_token, cache.engine, creds.credentials)
        if actor is not None:
            cache.put(creds.credentials, actor)
    if actor is None:
        raise HTTPException(401, "invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    structlog.contextvars.bind_contextvars(officer_id=actor.officer_id, role=actor.role.value)
    request.state.actor = actor  # whose role masks the answer (api/masking.py)
    return actor


CurrentOfficer = Annotated[Actor, Depends(current_officer)]


def require_roles(*roles: Role) -> Callable[[Actor], Awaitable[Actor]]:
    """A dependency admitting only officers of ``roles`` (403 otherwise)."""

    async def _check(actor: CurrentOfficer) -> Actor:
        if actor.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(403, f"role {actor.role.value} may not do this (needs {allowed})")
        return actor

    return _check


def ensure_area(actor: Actor, area_code: str) -> None:
    """An officer acts only on cases inside their area (403 otherwise)."""
    if not actor.covers(area_code):
        raise HTTPException(403, f"area {area_code} is outside your area {actor.area_code}")


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="The same key with the same body is the same request (answered once); "
        "with a different body it is refused (422).",
    ),
]


def _aware(value: datetime) -> datetime:
    """An instant with an offset as given; one without is Beijing time (officers' wall time)."""
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


Instant = Annotated[
    datetime,
    AfterValidator(_aware),
    Field(
        description="An instant in RFC 3339, e.g. 2026-12-02T17:00:00Z or "
        "2026-12-03T01:00:00+08:00; without an offset it is Beijing time."
    ),
]
"""A query instant, compared as an instant (the tables store UTC; ``UtcDateTime``)."""
