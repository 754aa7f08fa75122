"""``GET /access-log``: who read a person's file with ID numbers in clear (issue 12 item 5).

Rule — PIPL Art. 51(二)/(六) and 54 (access control, and compliance audits of the processing of
personal information), Art. 55–56 (a record of processing sensitive personal information):
auditors and admins query the unmasked reads of cases inside their own area, by officer, case
and time range, newest first, a page at a time. The entries are written by the API itself
(``api/access.py``), never through this route."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import col, select

from api.deps import Instant, SessionDep, ensure_area, require_roles
from api.validators import Limit, Offset
from jiuzhu.contract import Actor, Role
from jiuzhu.db.models_access import AccessLogEntry

router = APIRouter(prefix="/access-log", tags=["access-log"])
Supervisor = Annotated[Actor, Depends(require_roles(Role.AUDITOR, Role.ADMIN))]


class AccessLogItem(BaseModel):
    officer_id: str
    role: str
    officer_area: str
    accessed_at: datetime
    kind: str
    case_id: str | None
    workflow_id: str | None
    area_code: str
    path: str
    reason: str | None


class AccessLogPage(BaseModel):
    items: list[AccessLogItem]
    total: int
    offset: int
    limit: int


@router.get("", response_model=AccessLogPage)
def access_log(
    actor: Supervisor,
    session: SessionDep,
    officer_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    case_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    area_code: Annotated[str | None, Query(pattern=r"^\d{2,12}$")] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> AccessLogPage:
    """Unmasked reads of cases in my area (``area_code`` narrows it, never widens it), newest
    first; ``since``/``until`` bound the instant of the read (``until`` exclusive)."""
    if area_code:
        ensure_area(actor, area_code)
    if since is not None and until is not None and until <= since:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "until"),
                    "msg": "until 须晚于 since / until must follow since",
                    "type": "value_error",
                }
            ]
        )
    query = select(AccessLogEntry).where(
        col(AccessLogEntry.area_code).startswith(area_code or actor.area_code)
    )
    if officer_id:
        query = query.where(AccessLogEntry.officer_id == officer_id)
    if case_id:
        query = query.where(AccessLogEntry.case_id == case_id)
    if since is not None:
        query = query.where(col(AccessLogEntry.accessed_at) >= since)
    if until is not None:
        query = query.where(col(AccessLogEntry.accessed_at) < until)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(AccessLogEntry.accessed_at).desc(), col(AccessLogEntry.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    items = [AccessLogItem.model_validate(r, from_attributes=True) for r in rows]
    return AccessLogPage(items=items, total=total, offset=offset, limit=limit)
