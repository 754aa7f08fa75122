"""Database work from the API: short sessions, off the event loop.

An ``async def`` route never touches a ``Session`` itself. It hands a function to
``Database.read``/``Database.write``, which runs it in the threadpool with a session of its own
that is closed (and committed, for ``write``) before the route awaits anything else — so no
request holds a pooled connection while it waits on Temporal, and a slow or exhausted pool
blocks a worker thread, never the event loop. A pool that stays exhausted for
``JIUZHU_DB_POOL_TIMEOUT_S`` answers 503 with ``Retry-After`` (``api/errors.py``).

Plain ``def`` routes (pure reads of the read model) may take ``SessionDep``: FastAPI runs them
in the threadpool already."""

from collections.abc import Callable
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlmodel import Session

from jiuzhu.db.engine import unit_of_work

P = ParamSpec("P")
R = TypeVar("R")


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def read(
        self, fn: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """``fn(session, *args, **kwargs)`` in the threadpool; nothing is committed."""

        def work() -> R:
            with Session(self.engine, expire_on_commit=False) as session:
                return fn(session, *args, **kwargs)

        return await run_in_threadpool(work)

    async def write(
        self, fn: Callable[Concatenate[Session, P], R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """``fn(session, *args, **kwargs)`` in the threadpool, committed together (or not at
        all) before the route goes on."""

        def work() -> R:
            with unit_of_work(self.engine) as session:
                return fn(session, *args, **kwargs)

        return await run_in_threadpool(work)


async def get_database(request: Request) -> Database:
    """Pure (no I/O): ``async`` so that FastAPI does not spend a threadpool hop on it."""
    db: Database | None = getattr(request.app.state, "database", None)
    if db is None or db.engine is not request.app.state.engine:
        db = request.app.state.database = Database(request.app.state.engine)
    return db


DatabaseDep = Annotated[Database, Depends(get_database)]
