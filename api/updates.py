"""One way the API finds a case, runs a step on its workflow and reads its live state, for the
case houses whose steps share it (recoveries, referrals, warnings, complaints, spot checks).

- ``record_started``: the case's first read-model row (revision 0), written by the route that
  started its workflow, so the officer's next call finds the case before the workflow's own
  first write lands (read your writes); it never overwrites what the workflow wrote.
- ``case_row``: the case's read-model row, of the kind the route serves, inside the officer's
  area (else 404 / 403).
- ``run_case_step``: an Update on the case's workflow, once per ``Idempotency-Key``
  (``api/idempotency.py``: the key reserved first, the Update sent with an id derived from it,
  the answer recorded); a workflow that has completed (closed, answered, all checked …)
  answers the case's own refusal, a 409 through the one handler in ``api/errors.py``, and a
  refusal from the Update's validator propagates there unchanged.
- ``case_state``: the workflow's state query; an unknown workflow answers 404.
- ``shared_query``: a state query that concurrent readers of one case at one read-model revision
  share (one query in flight per case and revision), so a county's officers opening the same
  case at month-end cost the worker one query, and a reader after a step (a new revision) never
  gets the state from before it.

One place, so that every case is found, keyed, logged and refused the same way."""

import asyncio
from typing import Any, TypeVar

import structlog
from fastapi import HTTPException
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.db import Database
from api.deps import ensure_area
from api.idempotency import keyed_step, update_id
from jiuzhu.contract import Actor, CaseKind
from jiuzhu.db.models import CaseRecord
from jiuzhu.read_model import upsert_case
from jiuzhu.records import CaseSnapshot
from jiuzhu.refusals import Refusal, RefusalError, RefusalKind

M = TypeVar("M", bound=BaseModel)


def record_started(session: Session, *snapshots: CaseSnapshot) -> None:
    """Write each case's revision-0 row unless the workflow (or a concurrent retry) already
    has. Run it through ``Database.write``."""
    for snap in snapshots:
        if session.get(CaseRecord, snap.case_id) is not None:
            continue
        upsert_case(session, snap.model_copy(update={"revision": 0}))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # the workflow wrote it first: its row stands


def case_row(
    session: Session, actor: Actor, kind: CaseKind, case_id: str, missing: str
) -> CaseRecord:
    """The read-model row of ``case_id`` if it is a case of ``kind`` (else 404 with
    ``missing``) inside the officer's area (else ``ensure_area``'s refusal). Run it through
    ``Database.read``."""
    row = session.get(CaseRecord, case_id)
    if row is None or row.case_kind != kind.value:
        raise HTTPException(404, missing)
    ensure_area(actor, row.area_code)
    return row


async def run_case_step(
    db: Database,
    actor: Actor,
    handle: WorkflowHandle[Any, Any],
    case_id: str,
    update: Any,
    arg: BaseModel,
    body: BaseModel,
    idempotency_key: str | None,
    answer_type: type[M],
    *,
    closed_zh: str,
    log_as: str,
    step: str | None = None,
) -> M:
    """Run ``update`` (a workflow method reference) with ``arg`` on ``handle``, the workflow of
    ``case_id``, once per ``idempotency_key`` under the scope ``step:{case_id}:{step}`` (``step``
    defaults to the Update method's name; the scope names the key's rows, so it never changes
    for a route). ``body`` is the request hashed with the key; ``answer_type`` the Update's
    result model, recorded with the key. Binds ``{log_as}=case_id`` and ``step`` to the log
    context. A workflow that no longer runs answers ``closed_zh`` (wrong state, 409). The
    caller checks first that the officer may see the case."""
    step = step or getattr(update, "__name__", "step")
    structlog.contextvars.bind_contextvars(**{log_as: case_id, "step": step})
    scope = f"step:{case_id}:{step}"

    async def execute() -> M:
        try:
            result: M = await handle.execute_update(
                update,
                arg,
                id=update_id(actor, scope, idempotency_key) if idempotency_key else None,
            )
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise RefusalError(
                    Refusal(kind=RefusalKind.WRONG_STATE, message_zh=closed_zh)
                ) from None
            raise
        return result

    return await keyed_step(db, actor, scope, idempotency_key, body, case_id, execute, answer_type)


async def case_state(handle: WorkflowHandle[Any, Any], query: Any, missing: str) -> Any:
    """The case's live state from its workflow's ``query`` (a method reference); a workflow
    unknown to the server answers 404 with ``missing`` (e.g. ``recovery R… not found``)."""
    try:
        return await handle.query(query)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(404, missing) from exc
        raise


_IN_FLIGHT: dict[tuple[int, str, str, object], "asyncio.Future[Any]"] = {}


async def shared_query(handle: WorkflowHandle[Any, Any], query: Any, version: object) -> Any:
    """``handle.query(query)``, shared with every concurrent caller asking the same query of the
    same workflow at the same ``version`` (the read-model revision the caller has just read):
    the first caller's query runs, the others await its answer (or its error). Nothing is kept
    once it is answered: a detail route keeps its answer in the database
    (``api/case_states.py``), for every API process."""
    name = getattr(query, "__name__", str(query))
    key = (id(asyncio.get_running_loop()), handle.id, name, version)
    running = _IN_FLIGHT.get(key)
    if running is None:
        running = asyncio.ensure_future(handle.query(query))
        _IN_FLIGHT[key] = running
        running.add_done_callback(lambda _: _IN_FLIGHT.pop(key, None))
    return await asyncio.shield(running)
