"""The access log's writer (issue 12 item 5; PIPL Art. 51(二) access control, Art. 55–56 a
record of processing sensitive personal information): who read a person's file with ID numbers
in clear, when, which case or workflow, and why. One insert per read, in the threadpool with a
short session of its own (``api/db.Database``), never on the event loop.

The reason is the ``X-Access-Reason`` header (percent-encoded UTF-8, e.g. ``%E5%AE%A1%E6%A0%B8``)
or the ``access_reason`` query parameter. It is optional: the roles that read in clear — the
case's township and county — do so in the course of the case; auditors and admins always read
masked, so never need one."""

from urllib.parse import parse_qs, unquote

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.datastructures import Headers
from starlette.types import Scope

from api.db import Database
from jiuzhu.contract import Actor
from jiuzhu.db.models_access import AccessLogEntry

REASON_HEADER = "x-access-reason"
REASON_PARAM = "access_reason"
REASON_MAX = 500


def access_reason(scope: Scope) -> str | None:
    """The reason given with the request (header first, then the query parameter), trimmed."""
    reason = unquote(Headers(scope=scope).get(REASON_HEADER) or "")  # UTF-8, percent-encoded
    if not reason:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        reason = (query.get(REASON_PARAM) or [""])[0]
    reason = reason.strip()
    return reason[:REASON_MAX] or None


def _insert(session: Session, entry: AccessLogEntry) -> None:
    session.add(entry)


async def record_read(
    scope: Scope,
    actor: Actor,
    *,
    kind: str,
    case_id: str | None,
    area_code: str,
    workflow_id: str | None = None,
) -> None:
    """Record one unmasked read (one insert, committed before the answer is sent)."""
    engine: Engine = scope["app"].state.engine
    entry = AccessLogEntry(
        officer_id=actor.officer_id,
        role=actor.role.value,
        officer_area=actor.area_code,
        kind=kind,
        case_id=case_id,
        workflow_id=workflow_id,
        area_code=area_code,
        path=str(scope.get("path", ""))[:300],
        reason=access_reason(scope),
    )
    await Database(engine).write(_insert, entry)
