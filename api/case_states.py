"""Case detail answered from the state kept at the read model's revision (issue 10).

``GET /applications/{id}`` and ``GET /temporary-cases/{id}`` answer with the case's full state,
which only its workflow has: a ``get_state`` query, i.e. a task on the worker. Under a county's
load most detail reads ask again about a case that has not moved since the last one, and the
worker (which also runs every case's steps) became the bottleneck of every read.

So the answer is kept: each query's answer is stored, sealed whole, in ``case_state`` under the
revision it carries (the workflow bumps ``revision`` with every read-model write, in the same
step). A detail read loads the read-model row and the kept state in one short session; when
the kept revision is the row's, the kept answer is returned as it was serialized, and the
worker is not asked. Otherwise the workflow is queried (shared with concurrent readers,
``shared_query``) and its answer kept for the next reader.

What changes a case without a new revision: only a deadline's reminder (the workflow records
``reminded_at`` and writes nothing else). A kept answer is therefore valid until the first
reminder or escalation instant of its open deadlines (``valid_until``); a read after it asks
the workflow again.

Read-your-writes holds: a step's Update returns after the workflow has written the row's new
revision, so a read after it never gets the kept answer from before it. The state a step (or a
start) answers with is kept too, so that read does not ask again. A row at revision 0 (written
by the route that started the case, before the workflow's first write) is always asked."""

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from typing import Any, Protocol, TypeVar, cast

import structlog
from fastapi import Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from activities.deadlines import Deadline
from api.db import Database
from jiuzhu.db.engine import dialect_name, insert_for
from jiuzhu.db.models import CaseRecord, CaseState, utcnow

log = structlog.get_logger()

M = TypeVar("M", bound=BaseModel)
JSON = "application/json"
_KEPT = CaseState.__table__  # type: ignore[attr-defined]


class KeptState(Protocol):
    """What a kept state carries: the read-model revision and the case's deadlines."""

    revision: int
    deadlines: list[Deadline]

    def model_dump_json(self) -> str: ...


def valid_until(deadlines: list[Deadline]) -> datetime | None:
    """The first instant a reminder or escalation of an open deadline is still to come (the
    workflow records it without a new revision); None when none is."""
    instants = [
        at
        for d in deadlines
        if d.is_open
        for at, done in ((d.remind_at, d.reminded_at), (d.due_at, d.escalated_at))
        if done is None
    ]
    return min(instants) if instants else None


def kept_answer(session: Session, row: CaseRecord) -> bytes | None:
    """The kept state of ``row``'s case as JSON, if it was kept at the row's revision and is
    still valid. Never at revision 0: that row is written by the route that started the case
    (read your writes for lists) before the workflow's own first write, so the workflow is
    asked."""
    if row.revision == 0:  # the API's own row at the start: the workflow has not written yet
        return None
    kept = session.get(CaseState, row.case_id)
    if kept is None or kept.revision != row.revision:
        return None
    if kept.valid_until is not None and utcnow() >= kept.valid_until:
        return None
    return kept.state.encode()


@cache
def _keep(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (case_id) DO UPDATE … WHERE revision <= the new one``: one
    statement settles concurrent readers keeping the same case (``jiuzhu.read_model``)."""
    insert = insert_for(dialect)(_KEPT)
    return insert.on_conflict_do_update(
        index_elements=[_KEPT.c.case_id],
        set_={
            key: insert.excluded[key] for key in ("revision", "state", "valid_until", "stored_at")
        },
        where=_KEPT.c.revision <= insert.excluded.revision,
    )


def keep_answer(
    session: Session, case_id: str, revision: int, body: str, until: datetime | None
) -> None:
    """Store (or replace) the kept state of a case; an older revision never replaces a newer
    one."""
    session.execute(
        _keep(dialect_name(session)),
        {
            "case_id": case_id,
            "revision": revision,
            "state": body,
            "valid_until": until,
            "stored_at": utcnow(),
        },
    )


def read_row_and_kept(
    session: Session,
    find_row: Callable[..., CaseRecord],
    *args: Any,
) -> tuple[CaseRecord, bytes | None]:
    """``find_row(session, *args)`` (its 404/403 propagate) and the kept answer, in one session."""
    row = find_row(session, *args)
    return row, kept_answer(session, row)


async def detail(
    db: Database,
    find_row: Callable[..., CaseRecord],
    find_args: tuple[Any, ...],
    ask: Callable[[CaseRecord], Awaitable[KeptState]],
) -> Response:
    """A case's detail as a JSON response: the kept answer at the row's revision, or ``ask``'s
    (the workflow query) kept for the next reader."""
    row, body = await db.read(read_row_and_kept, find_row, *find_args)
    if body is None:
        body = await _ask_and_keep(db, row, ask)
    return Response(body, media_type=JSON)


async def current_state(
    db: Database, row: CaseRecord, model: type[M], ask: Callable[[CaseRecord], Awaitable[M]]
) -> M:
    """The case's state as ``model`` (a page that renders it): kept, or asked and kept."""
    body = await db.read(kept_answer, row)
    if body is None:  # every case state model carries ``revision`` and ``deadlines``
        body = await _ask_and_keep(db, row, cast(Callable[[CaseRecord], Awaitable[KeptState]], ask))
    return model.model_validate_json(body)


async def _ask_and_keep(
    db: Database, row: CaseRecord, ask: Callable[[CaseRecord], Awaitable[KeptState]]
) -> bytes:
    """``ask``'s answer as JSON, kept under its own revision."""
    state = await ask(row)
    return await keep(db, row.case_id, state)


async def keep(db: Database, case_id: str, state: KeptState) -> bytes:
    """Keep a state just asked of the workflow (a detail read's, or the one a step or a start
    answers with, so the next reader does not ask again); its JSON. A failure to keep it is
    logged and the answer still given (the next reader asks again)."""
    text = state.model_dump_json()
    try:
        await db.write(keep_answer, case_id, state.revision, text, valid_until(state.deadlines))
    except SQLAlchemyError as exc:
        log.warning("case state not kept", case_id=case_id, error=type(exc).__name__)
    return text.encode()
