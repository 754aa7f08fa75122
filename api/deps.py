"""Dependencies: settings, DB, Temporal client, and the officer behind the bearer token, with
role and area checks chained from it."""

from collections.abc import Callable, Iterator
from typing import Annotated

import structlog
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from jiuzhu.contract import Actor, Role
from jiuzhu.officers import officer_for_token
from jiuzhu.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_client(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
TemporalClientDep = Annotated[Client, Depends(get_client)]


def current_officer(
    engine: EngineDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    actor = officer_for_token(engine, creds.credentials)
    if actor is None:
        raise HTTPException(401, "invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    structlog.contextvars.bind_contextvars(officer_id=actor.officer_id, role=actor.role.value)
    return actor


CurrentOfficer = Annotated[Actor, Depends(current_officer)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency admitting only officers of ``roles`` (403 otherwise)."""

    def _check(actor: CurrentOfficer) -> Actor:
        if actor.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise HTTPException(403, f"role {actor.role.value} may not do this (needs {allowed})")
        return actor

    return _check


def ensure_area(actor: Actor, area_code: str) -> None:
    """An officer acts only on cases inside their area (403 otherwise)."""
    if not actor.covers(area_code):
        raise HTTPException(403, f"area {area_code} is outside your area {actor.area_code}")
